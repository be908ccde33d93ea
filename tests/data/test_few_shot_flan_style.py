"""few_shot="flan": few-shot prompts built as FLAN's released code builds them.

x-shot (fs_*): 25 candidates, those whose uniformly drawn template is the query's kept (at
most 8), pruned to the budget; none kept drops the query. Template mix (fsmix_*): asks for
5, pruned to the budget. The choice is made where tasks are registered: the Flan 2022
recipe's collections default to "flan", the toy demo (the smoke run) to "paper"."""

import collections
import dataclasses
import importlib
import inspect

import pytest

from flan_jax import errors
from flan_jax.catalog import lookup as catalog
from flan_jax.data import few_shot
from flan_jax.data.templates import Template
from tests.data.test_few_shot import FEATURES, _forget_registered_tasks, _records, _task, _train_ids  # pylint: disable=unused-import

FIVE_TEMPLATES = tuple(Template(f"t{i}", f"Q{i}: {{question}}\nA:") for i in range(5))


def _spec(task):
  step = [p for p in task.preprocessors if getattr(p, "func", None) is few_shot.render_few_shot][0]
  return step.keywords["spec"]


def _render(task, budget=None):
  spec = _spec(task)
  if budget is not None:
    spec = dataclasses.replace(spec, token_budget=budget)
  out = few_shot.render_few_shot(task.source.get_dataset("validation", shuffle=False), FEATURES,
                                 spec=spec, source=task.source)
  return [{k: (v.decode() if isinstance(v, bytes) else v) for k, v in r.items()}
          for r in out.as_numpy_iterator()], spec


def test_x_shot_keeps_the_candidates_in_the_query_template():
  """Five templates: 25 candidates match the query's template with p = 1/5, so a prompt asks
  for Binomial(25, 0.2) exemplars (mean 5), at most 8; P(0) = 0.8**25 = 0.4%."""
  (task,) = _task("xshot", FIVE_TEMPLATES, ["fs_noopt"], _records(400), _records(200, "validation"),
                  few_shot="flan")
  fmt = _spec(task).fmt
  assert fmt.shots == tuple(range(1, 9)) and fmt.x_shot_candidates == 25
  rows, spec = _render(task)
  counts = collections.Counter(int(r["num_exemplars"]) for r in rows)
  assert set(counts) <= set(range(1, 9)) and len(counts) >= 5
  mean = sum(k * v for k, v in counts.items()) / len(rows)
  assert 4.0 < mean < 5.5  # Binomial(25, 0.2) clipped at 8 has mean 4.9.
  assert len(rows) + few_shot.dropped_examples(spec.task_name) == 200
  for r in rows:
    prompt = r["inputs"]
    assert len(_train_ids(prompt)) == r["num_exemplars"]
    query_template = r["template"].split("/")[-1]
    marker = f"Q{query_template[1:]}: "
    assert prompt.count(marker) == r["num_exemplars"] + 1  # Every exemplar in the query's template.


def test_template_mix_asks_for_five_and_prunes_to_the_budget():
  (task,) = _task("mix5", FIVE_TEMPLATES, ["fsmix_noopt"], _records(200),
                  _records(30, "validation"), few_shot="flan")
  assert _spec(task).fmt.ask_max and _spec(task).fmt.shots == (1, 2, 3, 4, 5)
  rows, _ = _render(task)
  assert [int(r["num_exemplars"]) for r in rows] == [5] * 30
  # Exemplar "Qi: qtNNNN\nA: aNNNN" = 19 bytes + a 1-3 byte separator; query 13. Budget 80:
  # three fit (at most 3 x 22 + 13 = 79), four never (at least 4 x 20 + 13 = 93).
  pruned, _ = _render(task, budget=80)
  assert [int(r["num_exemplars"]) for r in pruned] == [3] * 30


def test_paper_style_is_the_registration_default_and_bad_styles_are_refused():
  """The same data registered without a choice draws 2, 3 or 5 exemplars; with the budget
  at 80 bytes (exemplars 20-22 bytes, query 13) 5 never fits and 3 always does, so every
  prompt drawn 5 keeps 3 and none is dropped."""
  (task,) = _task("paper5", FIVE_TEMPLATES, ["fsmix_noopt"], _records(200),
                  _records(60, "validation"))
  assert _spec(task).fmt.shots == (2, 3, 5) and not _spec(task).fmt.ask_max
  rows, _ = _render(task)
  assert {int(r["num_exemplars"]) for r in rows} == {2, 3, 5}
  pruned, spec = _render(task, budget=80)
  assert {int(r["num_exemplars"]) for r in pruned} == {2, 3}
  assert len(pruned) == 60 and few_shot.dropped_examples(spec.task_name) == 0
  with pytest.raises(errors.ConfigError, match="few_shot='papr'"):
    _task("bad", FIVE_TEMPLATES, ["fs_noopt"], _records(10), _records(5, "validation"),
          few_shot="papr")


def test_recipe_collections_default_to_flan_and_the_toy_demo_to_paper():
  for module in ("flan2021", "t0", "niv2", "cot", "dialog"):
    register = importlib.import_module(f"flan_jax_tasks.{module}").register_dataset
    assert inspect.signature(register).parameters["few_shot"].default == "flan", module
  toy = importlib.import_module("flan_jax_tasks.toy").register_dataset
  assert inspect.signature(toy).parameters["few_shot"].default == "paper"


def test_catalog_re_registers_a_dataset_in_the_style_asked_for():
  import seqio
  spec = [s for s in catalog.dataset_specs("toy") if s.name == "category"][0]
  name = "toy.category:fs_opt"
  catalog.register_dataset(spec)
  assert _spec(seqio.get_mixture_or_task(name)).fmt.shots == (2, 3, 5)  # Smoke prompts.
  catalog.register_dataset(spec, few_shot="flan")
  assert _spec(seqio.get_mixture_or_task(name)).fmt.x_shot_candidates == 25
  catalog.register_dataset(spec)  # None keeps the registered style.
  assert _spec(seqio.get_mixture_or_task(name)).fmt.x_shot_candidates == 25
  catalog.register_dataset(spec, few_shot="paper")
  assert _spec(seqio.get_mixture_or_task(name)).fmt.shots == (2, 3, 5)


def test_suites_with_fixed_prompts_accept_a_style_and_keep_their_prompts():
  # The module contract (catalog/spec.py): a style asked for reaches every collection's
  # register_dataset, as `register_flan2022_recipe(few_shot=...)` does for the whole catalog.
  import seqio
  for collection in ("mmlu", "bbh", "cot_eval"):
    spec = catalog.dataset_specs(collection)[0]
    names = catalog.register_dataset(spec, few_shot="paper")
    assert names == list(spec.tasks) and all(n in seqio.TaskRegistry.names() for n in names)
