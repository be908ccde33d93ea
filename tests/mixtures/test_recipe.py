"""The Flan 2022 recipe against shares computed by hand, its toy mixtures, real caps and gin."""

import subprocess
import sys

import pytest
import seqio

from flan_jax import errors
from flan_jax.data import truncation
from flan_jax.mixtures import rates, recipe
from tests.mixtures.hand_catalog import FLAN2021, FLAN2021_TOTAL, OTHERS, dataset

def test_balanced_rule_choice_less_dataset_gets_the_share_of_one_with_choices():
  got = dict(recipe.recipe_rates("flan2022_flan2021", FLAN2021, rule="balanced"))
  opt10 = sum(v for k, v in got.items() if k.startswith("flan2021.opt10:"))
  noopt10 = sum(v for k, v in got.items() if k.startswith("flan2021.noopt10:"))
  assert opt10 == pytest.approx(10_000 / FLAN2021_TOTAL)
  assert noopt10 == pytest.approx(10_000 / FLAN2021_TOTAL)
  assert got["flan2021.opt10:zs_opt"] == pytest.approx(2_500 / FLAN2021_TOTAL)
  assert got["flan2021.noopt10:fs_noopt"] == pytest.approx(5_000 / FLAN2021_TOTAL)
  assert got["flan2021.big:fs_opt"] == pytest.approx(7_500 / FLAN2021_TOTAL)
  assert got["flan2021.big:inv"] == pytest.approx(2_250 / FLAN2021_TOTAL)
  assert len(got) == 11


def test_balanced_rule_flan2022_by_hand():
  got = dict(recipe.recipe_rates("flan2022", FLAN2021 + OTHERS, rule="balanced"))
  assert sum(got.values()) == pytest.approx(1.0)
  assert got["flan2021.noopt10:zs_noopt"] == pytest.approx(0.40 * 5_000 / FLAN2021_TOTAL)
  assert got["t0.qa:zs_noopt"] == pytest.approx(0.32 * 0.5)
  assert got["niv2.task001:fs_noopt"] == pytest.approx(0.20 * 0.5)
  assert got["cot.gsm:cot"] == pytest.approx(0.05 * 3_500 / 8_050)
  assert got["cot.gsm:cot_inv"] == pytest.approx(0.05 * 1_050 / 8_050)
  assert got["dialog.wiki:inv"] == pytest.approx(0.03 * 1_500 / 11_500)
  assert "flan2021.cot_only:cot" not in got and "mmlu.x:zs_opt" not in got


def test_submix_mixture_and_empty_submixes_renormalize():
  got = dict(recipe.recipe_rates("flan2022", FLAN2021 + OTHERS[:1],  # flan2021 + t0 only
                                 rule="balanced"))
  assert got["t0.qa:fs_noopt"] == pytest.approx(0.32 / 0.72 * 0.5)
  assert set(dict(recipe.recipe_rates("flan2022_t0", FLAN2021 + OTHERS))) == {
      "t0.qa:zs_noopt", "t0.qa:fs_noopt"}


def test_stats_file_counts_replan_the_rates():
  stats = {f"flan2021.noopt10:{f}": {"train": 40_000} for f in ("zs_noopt", "fs_noopt")}
  got = dict(recipe.recipe_rates("flan2022_flan2021", FLAN2021, stats, rule="balanced"))
  # noopt10 now capped at 30k: 2 x 15,000; total 10,000 + 30,000 + 32,250 = 72,250.
  assert got["flan2021.noopt10:zs_noopt"] == pytest.approx(15_000 / 72_250)
  assert got["flan2021.opt10:zs_opt"] == pytest.approx(2_500 / 72_250)


def test_truncated_recipe_names_capped_tasks():
  spec = recipe.recipe_spec("t", cap_mode="truncate", caps={"flan2021": 8_000},
                            flan2021_inversion=True)
  names = dict(recipe.plan_from_specs(spec, FLAN2021).flat_rates())
  assert "flan2021.big:inv#cap8000" in names and "flan2021.opt10:zs_opt#cap8000" in names


def test_a_dataset_of_unknown_size_is_rated_at_its_cap():
  """flan2021's table lacks a few train sizes: such a dataset counts as reaching its cap
  (30,000), so with 60,000 examples next to it each gets half."""
  specs = [dataset("flan2021", "unknown", ("zs_noopt",), None),
           dataset("flan2021", "big", ("zs_noopt",), 60_000)]
  got = dict(recipe.recipe_rates("flan2022_flan2021", specs))
  assert got["flan2021.unknown:zs_noopt"] == pytest.approx(0.5)
  assert got["flan2021.big:zs_noopt"] == pytest.approx(0.5)


def test_missing_count_and_unknown_name_are_clear():
  no_cap = recipe.recipe_spec("uncapped", caps={"niv2": None, "flan2021": None, "t0": None,
                                                "cot": None, "dialog": None})
  bad = [dataset("niv2", "task9", ("zs_noopt",), None)]
  with pytest.raises(errors.ConfigError, match="niv2.task9 declares no num_train_examples"):
    recipe.plan_from_specs(no_cap, bad)
  with pytest.raises(errors.UnknownNameError, match="flan2022"):
    recipe.recipe_rates("flan2202", FLAN2021)
  with pytest.raises(errors.ConfigError, match="no member dataset"):
    recipe.recipe_rates("flan2022_cot", FLAN2021)


def test_mixture_names():
  assert recipe.MIXTURE_NAMES[:6] == ("flan2022", "flan2022_flan2021", "flan2022_t0",
                                      "flan2022_niv2", "flan2022_cot", "flan2022_dialog")
  assert {recipe.TOY_MIXTURE, recipe.TOY_TRUNCATED_MIXTURE} <= set(recipe.MIXTURE_NAMES)


def test_recipe_rates_import_neither_tensorflow_nor_seqio():
  code = ("import sys; from flan_jax.mixtures import recipe; "
          "assert recipe.recipe_rates('toy_flan2022', recipe.toy_specs()); "
          "print(sorted(m for m in ('tensorflow', 'seqio', 'jax') if m in sys.modules))")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
  assert out.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def toy_mixtures():
  return recipe.register()


def test_toy_mixture_registered_flat_with_hand_shares(toy_mixtures):
  del toy_mixtures
  got = rates.normalized(rates.task_rates(seqio.MixtureRegistry.get(recipe.TOY_MIXTURE)))
  # dialog (0.03): zs_noopt 0.5, inv 0.3 x 0.5, fs_noopt and fsmix_noopt 0.25 each: 1.15.
  assert got["toy.dialog:zs_noopt"] == pytest.approx(0.03 * 0.5 / 1.15)
  assert got["toy.category:inv"] == pytest.approx(0.3 * got["toy.category:zs_noopt"])


def test_rate_cap_keeps_all_examples_truncate_cap_limits_them(toy_mixtures):
  del toy_mixtures
  rate_tasks = {t.name for t in seqio.MixtureRegistry.get(recipe.TOY_MIXTURE).tasks}
  assert "toy.compare_numbers:zs_opt" in rate_tasks  # 'rate': original task, 5000 examples.
  capped = seqio.TaskRegistry.get("toy.compare_numbers:zs_opt#cap500")
  assert capped.num_input_examples("train") == 500
  assert capped.source.get_dataset("train", shuffle=True, seed=1).reduce(0, lambda n, _: n + 1) == 500


def test_truncated_source_is_a_fixed_subset(toy_mixtures):
  del toy_mixtures
  source = seqio.TaskRegistry.get(truncation.truncated_task("toy.category:zs_noopt", 6)).source
  ids = lambda seed: sorted(ex["idx"] for ex in source.get_dataset(
      "validation", shuffle=True, seed=seed).as_numpy_iterator())
  assert ids(1) == ids(2) == sorted(f"validation/{i}".encode() for i in range(6))


def test_gin_binds_the_builder(toy_mixtures):
  del toy_mixtures
  gin = pytest.importorskip("gin")
  gin.clear_config()
  gin.external_configurable(recipe.build_recipe_mixture, "build_recipe_mixture",
                            module="mixtures")
  gin.parse_config("""
      NAME = @mixtures.build_recipe_mixture()
      mixtures.build_recipe_mixture.name = 'gin_flan2022'
      mixtures.build_recipe_mixture.members = %TOY
      mixtures.build_recipe_mixture.weights = {'flan2021': 1.0, 'cot': 1.0}
      TOY = {'flan2021': ['toy.category:*'], 't0': [], 'niv2': [], 'cot': ['toy.*:cot'],
             'dialog': []}
  """)
  try:
    assert gin.query_parameter("%NAME").scoped_configurable_fn() == "gin_flan2022"
  finally:
    gin.clear_config()
  got = rates.normalized(rates.task_rates(seqio.MixtureRegistry.get("gin_flan2022")))
  cot = sum(v for k, v in got.items() if k.endswith(":cot"))
  assert cot == pytest.approx(0.5)  # flan2021 and cot weigh 1.0 each; the rest is empty.
  # FLAN's rule (the builder's default): category is flan2021's only dataset, so its zs_opt
  # task is the whole zs_opt setting (a quarter of the submix); flan2021 has no inversion.
  assert got["toy.category:zs_opt"] == pytest.approx(0.5 * 0.25)
  assert "toy.category:inv" not in got
