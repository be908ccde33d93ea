"""The Flan 2022 recipe on the toy collection: seqio rates, real caps, sampling, gin."""

import numpy as np
import pytest
import seqio
import tensorflow as tf

from flan_jax.mixtures import builder, rates, recipe, truncation


@pytest.fixture(scope="module", autouse=True)
def toy_mixtures():
  return recipe.register()


def test_seqio_rates_match_plan():
  spec = recipe.recipe_spec(recipe.TOY_MIXTURE, members=recipe.TOY_MEMBERS)
  plan = builder.plan_mixture(spec, seqio.TaskRegistry.names(),
                              lambda t: rates.num_examples(t, "train"))
  mixture = seqio.MixtureRegistry.get(recipe.TOY_MIXTURE)
  got = rates.normalized(rates.task_rates(mixture))
  assert got == pytest.approx(plan.shares())
  subs = rates.submixture_shares(mixture)
  assert subs == pytest.approx({f"{recipe.TOY_MIXTURE}.{k}": v for k, v in
                                {"flan2021": .40, "t0": .32, "niv2": .20, "cot": .05,
                                 "dialog": .03}.items()})


def test_inverted_at_point_three():
  inner = rates.member_rates(seqio.MixtureRegistry.get(recipe.TOY_MIXTURE))
  assert inner["toy.category:inv"] == pytest.approx(0.3 * inner["toy.category:zs_noopt"])


def test_rate_cap_keeps_all_examples_truncate_cap_limits_them():
  rate_tasks = {t.name for t in seqio.MixtureRegistry.get(recipe.TOY_MIXTURE).tasks}
  assert "toy.compare_numbers:zs_opt" in rate_tasks  # 'rate': original task, 5000 examples.
  capped = seqio.TaskRegistry.get("toy.compare_numbers:zs_opt#cap500")
  assert capped.num_input_examples("train") == 500
  assert capped.source.get_dataset("train", shuffle=True, seed=1).reduce(0, lambda n, _: n + 1) == 500


def test_truncated_source_is_a_fixed_subset():
  source = seqio.TaskRegistry.get(truncation.truncated_task("toy.category:zs_noopt", 6)).source
  ids = lambda seed: sorted(ex["idx"] for ex in source.get_dataset(
      "validation", shuffle=True, seed=seed).as_numpy_iterator())
  assert ids(1) == ids(2) == sorted(f"validation/{i}".encode() for i in range(6))


def test_sampled_shares_match_rates():
  """seqio's sampler (sample_from_datasets) over the mixture's rates: 8,000 draws, seed 0;
  every task's count lies within 4 binomial standard deviations of N x share."""
  mixture = seqio.MixtureRegistry.get(recipe.TOY_TRUNCATED_MIXTURE)
  names = [t.name for t in mixture.tasks]
  shares = np.array([rates.normalized(rates.task_rates(mixture))[n] for n in names])
  streams = [tf.data.Dataset.from_tensors(i).repeat() for i in range(len(names))]
  n = 8000
  draws = tf.data.Dataset.sample_from_datasets(streams, weights=list(shares), seed=0)
  counts = np.bincount(np.fromiter(draws.take(n).as_numpy_iterator(), int), minlength=len(names))
  sigma = np.sqrt(n * shares * (1 - shares))
  assert np.all(np.abs(counts - n * shares) <= 4 * sigma + 1), (counts, n * shares)


def test_gin_binds_the_builder():
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
  subs = rates.submixture_shares(seqio.MixtureRegistry.get("gin_flan2022"))
  assert subs == pytest.approx({"gin_flan2022.flan2021": 0.5, "gin_flan2022.cot": 0.5})
