"""`--task_module` on every command that looks tasks up, through the real dispatcher."""

import json
import sys

import pytest

from flan_jax.cli import main as cli_main
from tests.catalog.catalog_fakes import write_module
from tests.catalog.catalog_fakes import user_modules  # pylint: disable=unused-import  # fixture

USER_MIX = (
    "import seqio\n"
    "from flan_jax.catalog import lookup as catalog\n"
    "catalog.register_names(['toy.category:zs_noopt', 'toy.entailment:zs_noopt'])\n"
    "seqio.MixtureRegistry.add('user_cli_mix', [('toy.category:zs_noopt', 1.0),\n"
    "                                           ('toy.entailment:zs_noopt', 3.0)])\n")


def test_stats_and_export_find_a_user_mixture(user_modules, capsys):
  write_module(user_modules, "user_cli", USER_MIX)
  flag = ["--task_module", "user_cli"]
  assert cli_main.main(["mixtures", "stats", "user_cli_mix", "--json"] + flag) == 0
  shares = json.loads(capsys.readouterr().out)["shares"]
  assert shares == pytest.approx({"toy.category:zs_noopt": 0.25, "toy.entailment:zs_noopt": 0.75})
  out = user_modules / "x.jsonl"
  assert cli_main.main(["export", "user_cli_mix", "--split", "validation", "--num-examples",
                        "4", "--out", str(out), "--no-progress"] + flag) == 0
  assert len(out.read_text().splitlines()) == 4


def test_infer_names_a_broken_task_module_before_loading_a_model(user_modules, capsys):
  write_module(user_modules, "user_cli_broken", "raise ImportError('needs the [hf] extra')\n")
  code = cli_main.main(["infer", "--model_dir", str(user_modules / "none"), "--task",
                        "user_thing", "--out", str(user_modules / "p.jsonl"),
                        "--task_module", "user_cli_broken"])
  assert code == 2
  assert "user_cli_broken (ImportError: needs the [hf] extra)" in capsys.readouterr().err


def test_a_module_file_in_the_working_folder_needs_no_pythonpath(tmp_path, monkeypatch,
                                                                  capsys):
  """`--task_module beside_tasks` finds ./beside_tasks.py (flan-jax's own sys.path does not
  hold the working folder), and `--task_module path/to/file.py` works from anywhere."""
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  import seqio  # pylint: disable=g-import-not-at-top
  work = tmp_path / "work"
  work.mkdir()
  (work / "beside_tasks.py").write_text(USER_MIX.replace("user_cli_mix", "user_beside_mix"))
  monkeypatch.chdir(work)
  monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", str(work))])
  for module in ("beside_tasks", str(work / "beside_tasks.py"), "beside_tasks.py"):
    monkeypatch.setitem(catalog._STATE, "user_modules", [])  # pylint: disable=protected-access
    monkeypatch.setitem(catalog._STATE, "index", None)  # pylint: disable=protected-access
    try:
      assert cli_main.main(["tasks", "list", "--collection", "user_beside",
                            "--task_module", module]) == 0
      assert capsys.readouterr().out == "user_beside_mix\tmixture\t-\tseqio\n"
      assert catalog.user_modules() == (str(work / "beside_tasks.py"),)
    finally:
      sys.modules.pop("beside_tasks", None)
      if "user_beside_mix" in seqio.MixtureRegistry.names():
        seqio.MixtureRegistry.remove("user_beside_mix")


def test_an_unknown_collection_or_task_says_how_to_add_ones_own(capsys):
  assert cli_main.main(["tasks", "list", "--collection", "mine"]) == 1
  err = capsys.readouterr().err
  assert err.startswith("flan-jax: error: no task or mixture name starts with 'mine'. "
                        "Collections: ") and "toy" in err
  assert err.endswith("A collection of your own: pass the module or file that registers it, "
                      "--task_module my_tasks.py.\n")
  assert cli_main.main(["tasks", "show", "mine.gadget_reviews:zs_opt"]) == 2
  assert capsys.readouterr().err.rstrip().endswith(
      "A task of your own: pass the module or file that registers it, --task_module "
      "my_tasks.py (gin: MIXTURE_OR_TASK_MODULE).")
