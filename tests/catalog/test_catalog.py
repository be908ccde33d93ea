"""Catalog registration: idempotent, lazy (no data loaded), fast, with clear unknown-name errors."""


import pytest
import seqio

from flan_jax import errors
from flan_jax.catalog import lookup as catalog
from flan_jax.data import registration
from flan_jax.data import vocab
from flan_jax.data.templates import Template, TemplateSet
from flan_jax.data.toy import families


def test_register_is_idempotent_and_lists_toy_tasks():
  first = catalog.register_catalog()
  assert catalog.register_catalog() == first
  names = catalog.list_names()
  assert "toy_flan" in names
  for family in families.FAMILIES:
    assert f"toy.{family}:zs_noopt" in names
  assert "toy.arithmetic:cot" in names and "toy.dialog:inv" in names


def test_get_mixture_or_task():
  assert isinstance(catalog.get_mixture_or_task("toy_flan"), seqio.Mixture)
  task = catalog.get_mixture_or_task("toy.category:zs_opt")
  assert isinstance(task, seqio.Task)
  assert set(task.output_features) == {"inputs", "targets"}
  assert task.output_features["inputs"].add_eos


def test_unknown_name_lists_close_matches():
  with pytest.raises(errors.UnknownNameError) as e:
    catalog.get_mixture_or_task("toy.categroy:zs_opt")
  assert "toy.category:zs_opt" in str(e.value)


def test_mixture_rates_follow_the_recipe():
  mixture = seqio.MixtureRegistry.get("toy_flan")
  rate = {t.name: mixture.get_rate(t) for t in mixture.tasks}
  assert rate["toy.category:inv"] == pytest.approx(0.3 * rate["toy.category:zs_noopt"])
  assert rate["toy.dialog:zs_noopt"] < rate["toy.category:zs_noopt"]


def test_registering_thousands_of_variants_loads_nothing(monkeypatch):
  loads = []
  monkeypatch.setattr(families, "generate", lambda *a, **k: loads.append(a) or [])

  def dataset_fn(split, shuffle_files):
    loads.append(split)
    raise AssertionError("registration must not read data")

  source = seqio.FunctionDataSource(dataset_fn, splits=("train", "validation"))
  features = {k: seqio.Feature(vocab.toy_vocabulary(), add_eos=True) for k in ("inputs", "targets")}
  names = []
  for i in range(200):  # 200 template sets x 10 formats = 2,000 tasks.
    ts = TemplateSet(
        name=f"synthetic_{i}", fields=("question", "answer", "why", "options"),
        options_field="options", rationale_field="why",
        templates=(Template("a", "{question}\n{options}"), Template("b", "Q: {question}")),
        inverted=(Template("inv", "{answer}?", "{question}"),))
    names += registration.register_template_tasks("lazy", ts, source, features)
  try:
    assert len(names) == 2000
    assert not loads  # Speed is measured by scripts/bench_catalog.py, not asserted here.
  finally:
    for name in names:
      seqio.TaskRegistry.remove(name)
