"""`--task_module` on every command that looks tasks up, through the real dispatcher."""

import json

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
