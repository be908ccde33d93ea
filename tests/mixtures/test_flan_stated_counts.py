"""FLAN's stated per-variant counts in `flan2022`, against shares worked out by hand.

FLAN's flan/v2 constants (T_NAME_TO_NUM_CASES) state, per task, the examples of its
zero-shot, x-shot and five-shot (template-mix) variants; FLAN rates each variant
min(that count, cap). The counts typed below are FLAN's: qrecc 10,170 (all three);
wiki_dialog 11,264,000 (capped at 200,000 anyway); multi_news 44,960 / 3,118 / 1,927;
opinion_abstracts_idebate 1,650 / 1,650 / 1,655; unified_qa_science_inst 590 (all three).
"""

import pytest

from flan_jax.mixtures import recipe
from tests.mixtures.hand_catalog import FOUR, dataset

DIALOG = [
    dataset("dialog", "qrecc", ("zs_noopt", "fs_noopt", "inv"), 63_501),
    dataset("dialog", "wiki_dialog", ("zs_noopt", "fs_noopt", "inv"), 11_264_129),
]
FLAN2021 = [
    dataset("flan2021", "multi_news", ("zs_noopt", "fs_noopt", "fsmix_noopt"), 44_972),
    dataset("flan2021", "opinion_abstracts_idebate", ("zs_noopt", "fs_noopt", "fsmix_noopt"),
            None),
    dataset("flan2021", "unified_qa_science_inst", FOUR + ("fsmix_opt",), None,
            has_options=True),
]


def _dataset_share(rates, name):
  return sum(v for k, v in rates.items() if k.startswith(name + ":"))


def test_qrecc_is_rated_with_flans_10170():
  """Every dialog setting (regular and inverted group alike) holds qrecc at 10,170 and
  wiki_dialog at the 200,000 cap: qrecc is 10,170 / 210,170 = 4.84% of the submix. With
  the catalog's 63,501 it would be 63,501 / 263,501 = 24.1%."""
  got = dict(recipe.recipe_rates("flan2022_dialog", DIALOG))
  assert _dataset_share(got, "dialog.qrecc") == pytest.approx(10_170 / 210_170)
  assert _dataset_share(got, "dialog.qrecc") == pytest.approx(0.0484, abs=5e-5)
  catalog = dict(recipe.plan_from_specs(
      recipe.recipe_spec("d", members={"dialog": ("dialog.*",)}, counts="catalog"),
      DIALOG).flat_rates())
  assert _dataset_share(catalog, "dialog.qrecc") == pytest.approx(63_501 / 263_501)


def test_flan2021_counts_per_prompt_format():
  """flan2021 settings, 25% each, by hand with FLAN's counts (cap 30,000):
  zs_opt: multi_news zs_noopt 30,000 (44,960 capped), idebate 1,650, uqsi zs_opt 590 = 32,240;
  zs_noopt: the same 32,240; fs_opt: template mix (five-shot counts) 1,927 + 1,655 + 590 and
  x-shot 3,118 + 1,650 + 590 = 9,530; fs_noopt: x-shot 3,118 + 1,650 + 590 = 5,358."""
  got = dict(recipe.recipe_rates("flan2022_flan2021", FLAN2021))
  assert got["flan2021.multi_news:fsmix_noopt"] == pytest.approx(0.25 * 1_927 / 9_530)
  assert got["flan2021.multi_news:fs_noopt"] == pytest.approx(
      0.25 * 3_118 / 9_530 + 0.25 * 3_118 / 5_358)
  assert got["flan2021.multi_news:zs_noopt"] == pytest.approx(2 * 0.25 * 30_000 / 32_240)
  assert got["flan2021.opinion_abstracts_idebate:fsmix_noopt"] == pytest.approx(
      0.25 * 1_655 / 9_530)
  assert got["flan2021.opinion_abstracts_idebate:zs_noopt"] == pytest.approx(
      2 * 0.25 * 1_650 / 32_240)
  assert got["flan2021.unified_qa_science_inst:zs_opt"] == pytest.approx(0.25 * 590 / 32_240)
  assert got["flan2021.unified_qa_science_inst:fs_opt"] == pytest.approx(0.25 * 590 / 9_530)
  assert got["flan2021.unified_qa_science_inst:fs_noopt"] == pytest.approx(0.25 * 590 / 5_358)
  assert sum(got.values()) == pytest.approx(1.0)


def test_catalog_counts_option_and_stats_file_win():
  """counts="catalog": every variant at the catalog count (unknown sizes at the 30,000 cap):
  fs_opt holds 6 x 30,000, so multi_news:fsmix_noopt is 0.25 / 6. A stats file's count
  replaces FLAN's for the tasks it lists: multi_news:fs_noopt at 5,000 makes fs_noopt
  5,000 + 1,650 + 590 = 7,240."""
  spec = recipe.recipe_spec("f", members={"flan2021": ("flan2021.*",)}, counts="catalog")
  catalog = dict(recipe.plan_from_specs(spec, FLAN2021).flat_rates())
  assert catalog["flan2021.multi_news:fsmix_noopt"] == pytest.approx(0.25 / 6)
  stats = {"flan2021.multi_news:fs_noopt": {"train": 5_000}}
  got = dict(recipe.recipe_plan("flan2022_flan2021", FLAN2021, stats).flat_rates())
  fs_opt_total = 1_927 + 1_655 + 590 + 5_000 + 1_650 + 590
  assert got["flan2021.multi_news:fs_noopt"] == pytest.approx(
      0.25 * 5_000 / fs_opt_total + 0.25 * 5_000 / 7_240)


def test_bad_counts_choice_is_refused():
  from flan_jax import errors
  with pytest.raises(errors.ConfigError, match="counts must be one of"):
    recipe.recipe_spec("f", counts="paper")
