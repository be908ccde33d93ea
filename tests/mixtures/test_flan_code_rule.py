"""The default `flan2022` against shares worked out by hand from FLAN's released code.

FLAN's flan/v2 code (mixtures_utils.py, mixtures.py, run_example.py) mixes each submix as
seqio mixtures of mixtures: one mixture per prompt setting (zs/fs x opt/noopt), weighted
25% each (flan2021, t0) or 50% zs_opt / 50% fs_opt (niv2, cot, dialog); inside a setting
every dataset's task variant is rated min(n, cap) and normalized within that setting alone;
zs_opt has one variant per dataset, fs_opt two (template-mix five-shot and x-shot), fs_noopt
and zs_noopt one; CoT and dialog settings mix the regular group at 1.0 with the inverted
(-II) group at 0.3. The numbers below follow those rules by hand, not our planner.
"""

import pytest

from flan_jax.mixtures import recipe
from tests.mixtures.hand_catalog import FLAN2021, OTHERS, dataset


def test_flan2021_settings_by_hand():
  """opt10 10k, noopt10 10k, big 30k (capped): every setting holds 50k of rate (fs_opt 100k:
  two variants each). A choice-less dataset's "opt" settings render without options, so
  noopt10's zs_noopt task fills zs_opt and zs_noopt: 0.25 x 10/50 twice = 0.10. big's `inv`
  is not mixed: FLAN's flan2021 has no inversion."""
  got = dict(recipe.recipe_rates("flan2022_flan2021", FLAN2021))
  assert got["flan2021.opt10:zs_opt"] == pytest.approx(0.25 * 10 / 50)
  assert got["flan2021.opt10:fs_opt"] == pytest.approx(0.25 * 20 / 100)  # mix + x-shot
  assert got["flan2021.opt10:fs_noopt"] == pytest.approx(0.25 * 10 / 50)
  assert got["flan2021.noopt10:zs_noopt"] == pytest.approx(0.10)
  assert got["flan2021.noopt10:fs_noopt"] == pytest.approx(0.25 * 20 / 100 + 0.25 * 10 / 50)
  assert got["flan2021.big:zs_opt"] == pytest.approx(0.25 * 30 / 50)
  assert "flan2021.big:inv" not in got
  assert sum(got.values()) == pytest.approx(1.0)
  # Each dataset's total is min(n, cap) / 50k, as in FLAN where every setting has it once.
  for name, n in (("opt10", 10), ("noopt10", 10), ("big", 30)):
    assert sum(v for k, v in got.items() if f".{name}:" in k) == pytest.approx(n / 50)


def test_flan2021_inversion_is_an_option():
  got = dict(recipe.plan_from_specs(
      recipe.recipe_spec("f", flan2021_inversion=True), FLAN2021).flat_rates())
  # big's inv is the whole inverted group of each setting: 0.3 / 1.3 of every setting
  # (flan2021 is the only submix present, so it is the whole mixture).
  assert got["flan2021.big:inv"] == pytest.approx(0.3 / 1.3)


def test_inversion_weighs_0_3_against_1_in_zero_and_few_shot():
  """cot.gsm (7,000 rows; cot, fs_cot, cot_inv): each of zs and fs is 1/1.3 regular and
  0.3/1.3 inverted; the inverted group of both settings is cot_inv (we render FLAN's
  few-shot inverted variants zero-shot). dialog.wiki likewise. 0.3 / 1.3 = 23.1%."""
  got = dict(recipe.recipe_rates("flan2022", FLAN2021 + OTHERS))
  assert got["cot.gsm:cot_inv"] == pytest.approx(0.05 * 0.3 / 1.3)
  assert got["cot.gsm:cot"] == pytest.approx(0.05 * 0.5 / 1.3)
  assert got["cot.gsm:fs_cot"] == pytest.approx(0.05 * 0.5 / 1.3)
  assert got["dialog.wiki:inv"] == pytest.approx(0.03 * 0.3 / 1.3)
  assert got["dialog.wiki:zs_noopt"] == pytest.approx(0.03 * 0.5 / 1.3)
  assert got["t0.qa:zs_noopt"] == pytest.approx(0.32 * 0.5)
  assert got["niv2.task001:fs_noopt"] == pytest.approx(0.20 * 0.5)
  assert sum(got.values()) == pytest.approx(1.0)


def test_inverted_group_is_normalized_on_its_own():
  """a (1,000; cot + cot_inv) and b (3,000; cot only): in zs the regular group splits
  1:3 and gets 1/1.3; the inverted group is a's alone and gets 0.3/1.3 of the setting,
  however small a is."""
  specs = [dataset("cot", "a", ("cot", "cot_inv"), 1_000), dataset("cot", "b", ("cot",), 3_000)]
  got = dict(recipe.recipe_rates("flan2022_cot", specs))
  assert got["cot.a:cot"] == pytest.approx(1 / 4 / 1.3)
  assert got["cot.b:cot"] == pytest.approx(3 / 4 / 1.3)
  assert got["cot.a:cot_inv"] == pytest.approx(0.3 / 1.3)


def test_cot_few_shot_counts_subtract_their_exemplars():
  """FLAN's CoT sources state their line counts, and its few-shot source counts n - shots:
  the template-mix five-shot variant n - 5, the x-shot variant (25 candidates) n - 25.
  a 30 rows: zs 30, fs 25 + 5 = 30; b 1,000 rows: zs 1,000, fs 995 + 975 = 1,970."""
  specs = [dataset("cot", "a", ("cot", "fs_cot"), 30), dataset("cot", "b", ("cot", "fs_cot"), 1_000)]
  got = dict(recipe.recipe_rates("flan2022_cot", specs))
  assert got["cot.a:cot"] == pytest.approx(0.5 * 30 / 1_030)
  assert got["cot.a:fs_cot"] == pytest.approx(0.5 * 30 / 2_000)
  assert got["cot.b:fs_cot"] == pytest.approx(0.5 * 1_970 / 2_000)


def test_real_catalog_inversion_shares():
  """On the catalog: CoT-II 0.3 / 1.3 of cot (23.1%), Dialog-II of dialog, no flan2021 inv."""
  plan = recipe.recipe_plan("flan2022", recipe.catalog_specs())
  shares = plan.shares()
  cot_inv = sum(v for k, v in shares.items() if k.startswith("cot.") and k.endswith(":cot_inv"))
  dialog_inv = sum(v for k, v in shares.items() if k.startswith("dialog.") and k.endswith(":inv"))
  assert cot_inv / 0.05 == pytest.approx(0.3 / 1.3)
  assert dialog_inv / 0.03 == pytest.approx(0.3 / 1.3)
  assert not any(k.startswith("flan2021.") and k.endswith(":inv") and v > 0
                 for k, v in shares.items())


def _share_table_script():
  import importlib.util  # pylint: disable=g-import-not-at-top
  import pathlib  # pylint: disable=g-import-not-at-top
  path = pathlib.Path(__file__).parents[2] / "scripts" / "flan_share_table.py"
  spec = importlib.util.spec_from_file_location("flan_share_table", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def test_share_table_model_of_flan_agrees_with_the_plan():
  """scripts/flan_share_table.py models FLAN's nested seqio mixtures on its own (FLAN's task
  variants, not our formats). On the real catalog, flan2021 (where every FLAN variant has a
  format of ours) agrees row by row; elsewhere per submix and with FLAN's few-shot inverted
  and template-mix variants folded into the formats that stand in for them."""
  script = _share_table_script()
  specs = recipe.catalog_specs()
  flan = script.flan_shares(specs)
  ours = recipe.recipe_plan("flan2022", specs).shares_by(["submix", "format"])
  for key, value in flan.items():
    if key[0] == "flan2021":
      assert ours.get(key, 0.0) == pytest.approx(value, abs=1e-12)
  fold = {"fs_cot_inv": "cot_inv", "fs_inv": "inv", "fsmix_noopt": "fs_noopt",
          "fsmix_opt": "fs_opt"}
  folded = {}
  for (sub, fmt), value in flan.items():
    if sub != "flan2021":
      fmt = fold.get(fmt, fmt)
    folded[(sub, fmt)] = folded.get((sub, fmt), 0.0) + value
  assert ours == pytest.approx(folded, abs=1e-12)
  assert "| flan2021 | inv | 0.00% |" in script.table(specs)
