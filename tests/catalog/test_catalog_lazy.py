"""The lazy catalog: names and counts without TensorFlow, registration of only what a name
needs, user task modules (contract or plain SeqIO), broken modules named only when needed."""

import json
import os
import subprocess
import sys

import pytest
import seqio

from flan_jax import errors
from flan_jax.cli import main as cli_main
from flan_jax.catalog import lookup as catalog
from tests.catalog.catalog_fakes import FAKE_COLLECTION, GENERATED_DATA, write_module
from tests.catalog.catalog_fakes import user_modules  # pylint: disable=unused-import  # fixture

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAKE = FAKE_COLLECTION.replace("{DATA}", GENERATED_DATA)


def test_list_and_count_import_neither_tensorflow_nor_seqio(tmp_path):
  write_module(tmp_path, "fake_nolib", FAKE)
  script = (
      "import json, sys\n"
      "from flan_jax.cli import main\n"
      "main.main(['tasks', 'list', '--count', '--json', '--task_module', 'fake_nolib'])\n"
      "main.main(['tasks', 'list', '--task_module', 'fake_nolib'])\n"
      "print(json.dumps([m for m in ('tensorflow', 'seqio') if m in sys.modules]))\n")
  env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO, str(tmp_path)]))
  out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                       check=True, cwd=REPO).stdout.splitlines()
  counts = json.loads(out[0])
  assert counts["fake"] == 3 and counts["toy"] == 6
  names = [line.split("\t")[0] for line in out[1:-1]]
  # fake: 3 datasets x 2 tasks + 2 mixtures.
  assert len([n for n in names if n.startswith("fake")]) == 3 * 2 + 2
  assert {"fake.a:inv", "fake_mix", "toy.dialog:inv", "toy_flan2022", "flan2022",
          "bbh_boolean_expressions_cot"} <= set(names)
  assert json.loads(out[-1]) == []


def test_a_task_registers_only_its_dataset(user_modules):
  write_module(user_modules, "fake_one", FAKE)
  catalog.add_task_modules("fake_one")
  module = sys.modules.get("fake_one") or __import__("fake_one")
  task = catalog.get_mixture_or_task("fake.b:inv")
  assert isinstance(task, seqio.Task) and task.name == "fake.b:inv"
  assert module.REGISTERED == [("b", 0)]
  catalog.get_mixture_or_task("fake.b:zs_noopt")
  assert module.REGISTERED == [("b", 0)]  # Same dataset, same seed: nothing to redo.
  assert "fake.a:zs_noopt" not in seqio.TaskRegistry.names()
  catalog.list_names()
  catalog.get_mixture_or_task("fake_sub")
  assert len(module.LISTED) == 1  # The name index is built once, not per lookup.


def test_a_nested_mixture_registers_its_member_datasets_with_rates(user_modules):
  write_module(user_modules, "fake_nested", FAKE)
  catalog.add_task_modules(["fake_nested"])
  mixture = catalog.get_mixture_or_task("fake_mix", render_seed=4)
  module = sys.modules["fake_nested"]
  assert sorted(module.REGISTERED) == [("a", 4), ("b", 4), ("c", 4)]
  assert sorted(t.name for t in mixture.tasks) == ["fake.a:zs_noopt", "fake.b:zs_noopt",
                                                   "fake.c:zs_noopt"]
  # fake_mix = fake_sub:3 + c:1, fake_sub = a:1 + b:3  ->  a 0.75, b 2.25, c 1.
  assert catalog.flat_rates("fake_mix") == pytest.approx(
      {"fake.a:zs_noopt": 0.75, "fake.b:zs_noopt": 2.25, "fake.c:zs_noopt": 1.0})


def test_another_render_seed_replaces_the_tasks_and_their_mixtures(user_modules):
  write_module(user_modules, "fake_seed", FAKE)
  catalog.add_task_modules("fake_seed")
  first = catalog.get_mixture_or_task("fake_sub", render_seed=1)
  again = catalog.get_mixture_or_task("fake_sub")  # None keeps the registered seed.
  assert again is first
  other = catalog.get_mixture_or_task("fake_sub", render_seed=2)
  assert other is not first
  module = sys.modules["fake_seed"]
  assert sorted(module.REGISTERED) == [("a", 1), ("a", 2), ("b", 1), ("b", 2)]
  task = seqio.TaskRegistry.get("fake.a:zs_noopt")
  assert task in other.tasks and task not in first.tasks


def test_plain_seqio_user_module(user_modules):
  write_module(user_modules, "user_plain", (
      "import seqio\n"
      "from flan_jax.catalog import lookup as catalog\n"
      "catalog.register_names(['toy.category:zs_opt'])\n"
      "seqio.MixtureRegistry.add('user_mix', [('toy.category:zs_opt', 1.0)])\n"))
  catalog.add_task_modules("user_plain")
  assert "user_mix" in catalog.list_names()
  assert isinstance(catalog.get_mixture_or_task("user_mix"), seqio.Mixture)


def test_broken_user_module_is_named_only_when_needed(user_modules, capsys):
  write_module(user_modules, "user_broken", "raise RuntimeError('no such corpus\\nsecond line')\n")
  args = ["--task_module", "user_broken"]
  assert cli_main.main(["tasks", "preflight", "toy.category:zs_opt"] + args) == 0
  assert isinstance(catalog.get_mixture_or_task("toy.category:zs_opt"), seqio.Task)
  with pytest.raises(errors.UnknownNameError) as e:
    catalog.get_mixture_or_task("user_task")
  assert "user_broken (RuntimeError: no such corpus)" in str(e.value)
  assert "second line" not in str(e.value)
  capsys.readouterr()
  assert cli_main.main(["tasks", "list"] + args) == 1
  assert "module user_broken could not be read: RuntimeError: no such corpus" in (
      capsys.readouterr().err)


def test_a_module_breaking_the_contract_is_named(user_modules):
  write_module(user_modules, "fake_bad", FAKE.replace('COLLECTION = "fake"', 'COLLECTION = 3'))
  catalog.add_task_modules("fake_bad")
  assert "fake_bad" in catalog.broken_modules()
  with pytest.raises(catalog.CatalogModuleError, match="fake_bad"):
    catalog.require_modules()


def test_register_catalog_registers_every_dataset_and_mixture(user_modules):
  write_module(user_modules, "fake_all", FAKE)
  catalog.add_task_modules("fake_all")
  names = catalog.register_catalog()
  for name in ("fake.a:inv", "fake.c:zs_noopt", "fake_mix", "toy.arithmetic:cot", "toy_flan"):
    assert name in names
    assert name in seqio.TaskRegistry.names() or name in seqio.MixtureRegistry.names()


def test_recipe_mixtures_resolve_through_recipe_rates(user_modules, monkeypatch):
  write_module(user_modules, "fake_rec", FAKE)
  write_module(user_modules, "fake_recipe", (
      "MIXTURE_NAMES = ('fake_recipe_mix',)\n"
      "SEEN = []\n"
      "def recipe_rates(name, specs):\n"
      "  SEEN.append(sorted({s.collection for s in specs}))\n"
      "  return [('fake.a:inv', 1.0), ('fake.c:zs_noopt', 3.0)]\n"))
  monkeypatch.setattr(catalog, "RECIPE_MODULE", "fake_recipe")
  catalog.add_task_modules("fake_rec")
  assert "fake_recipe_mix" in catalog.list_names()
  assert [s.name for s in catalog.datasets_for("fake_recipe_mix")] == ["a", "c"]
  mixture = catalog.get_mixture_or_task("fake_recipe_mix", render_seed=2)
  assert {t.name: mixture.get_rate(t) for t in mixture.tasks} == {"fake.a:inv": 1.0,
                                                                  "fake.c:zs_noopt": 3.0}
  assert {"fake", "toy"} <= set(sys.modules["fake_recipe"].SEEN[-1])
  assert sorted(sys.modules["fake_rec"].REGISTERED) == [("a", 2), ("c", 2)]
