"""Collection modules written to a temporary folder, for catalog and preflight tests.

`FAKE_COLLECTION` follows the catalog contract: three datasets a, b, c (tasks
`fake.{x}:zs_noopt` and `fake.{x}:inv`), whose sources fail if anything reads them, and two
mixtures: `fake_sub` = a:1, b:3 and `fake_mix` = fake_sub:3, c:1.
"""

import sys
import textwrap

import pytest

FAKE_COLLECTION = textwrap.dedent('''
    from flan_jax.catalog import spec as cs

    COLLECTION = "fake"
    REGISTERED = []  # (dataset, render_seed) per register_dataset call.
    LISTED = []      # one entry per datasets() call.
    DATA = {DATA}

    def datasets():
      LISTED.append(1)
      return [cs.DatasetSpec(COLLECTION, name, (f"fake.{name}:zs_noopt", f"fake.{name}:inv"),
                             data, num_train_examples=10) for name, data in DATA.items()]

    def register_dataset(spec, *, render_seed, few_shot=None):  # few_shot: zero-shot only
      import seqio
      from flan_jax.data import registration
      from flan_jax.data.templates import Template, TemplateSet
      REGISTERED.append((spec.name, render_seed))
      ts = TemplateSet(name=spec.name, fields=("question", "answer"),
                       templates=(Template("ask", "{question}"),),
                       inverted=(Template("back", "{answer}?", "{question}"),))
      def read(split, shuffle_files):
        raise AssertionError("registration must not read data")
      source = seqio.FunctionDataSource(read, splits=("train", "validation"))
      features = {k: seqio.Feature(seqio.PassThroughVocabulary(256), add_eos=True)
                  for k in ("inputs", "targets")}
      return registration.register_template_tasks(
          COLLECTION, ts, source, features, prompt_formats=("zs_noopt", "inv"), seed=render_seed)

    def mixtures():
      return {"fake_sub": [("fake.a:zs_noopt", 1.0), ("fake.b:zs_noopt", 3.0)],
              "fake_mix": [("fake_sub", 3.0), ("fake.c:zs_noopt", 1.0)]}
''')

GENERATED_DATA = ('{x: cs.DataRequirement(cs.GENERATED, "fake/" + x) for x in "abc"}')


def write_module(folder, name: str, text: str) -> None:
  (folder / f"{name}.py").write_text(text)


@pytest.fixture
def user_modules(tmp_path, monkeypatch):
  """A folder on sys.path for module files; the catalog forgets user modules afterwards."""
  from flan_jax.catalog import lookup as catalog
  import seqio
  monkeypatch.syspath_prepend(str(tmp_path))
  monkeypatch.setitem(catalog._STATE, "user_modules", [])  # pylint: disable=protected-access
  monkeypatch.setitem(catalog._STATE, "index", None)  # pylint: disable=protected-access
  before = set(sys.modules)
  yield tmp_path
  for name in set(sys.modules) - before:
    if getattr(sys.modules[name], "__file__", "") and str(tmp_path) in sys.modules[name].__file__:
      del sys.modules[name]
  for registry in (seqio.TaskRegistry, seqio.MixtureRegistry):
    for name in list(registry.names()):
      if name.startswith(("fake", "user_")):
        registry.remove(name)
  seeds = catalog._REGISTERED_SEED  # pylint: disable=protected-access
  for key in [k for k in seeds if k[0] == "fake"]:
    del seeds[key]
  ours = catalog._OUR_MIXTURES  # pylint: disable=protected-access
  ours.difference_update({m for m in ours if m.startswith(("fake", "user_"))})
