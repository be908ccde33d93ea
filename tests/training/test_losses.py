"""Loss math: z-loss, label smoothing and T5X's normalizing factors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flan_jax import errors
from flan_jax.training import losses


def _logits_targets(seed=0):
  rng = np.random.RandomState(seed)
  logits = jnp.asarray(rng.randn(3, 5, 11), jnp.float32)
  targets = jnp.asarray(rng.randint(0, 11, (3, 5)))
  weights = jnp.asarray([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], jnp.float32)
  return logits, targets, weights


def test_plain_cross_entropy_matches_log_softmax():
  logits, targets, _ = _logits_targets()
  token_loss, z = losses.cross_entropy(logits, targets, z_loss=0.0, label_smoothing=0.0)
  expected = -jnp.take_along_axis(jax.nn.log_softmax(logits), targets[..., None], -1)[..., 0]
  np.testing.assert_allclose(token_loss, expected, rtol=1e-5)
  assert float(jnp.abs(z).max()) == 0.0


def test_z_loss_adds_squared_log_partition():
  logits, targets, _ = _logits_targets()
  base, _ = losses.cross_entropy(logits, targets, 0.0, 0.0)
  with_z, z = losses.cross_entropy(logits, targets, 1e-2, 0.0)
  np.testing.assert_allclose(with_z - base, 1e-2 * jax.nn.logsumexp(logits, -1) ** 2,
                             rtol=1e-5)
  np.testing.assert_allclose(z, with_z - base, rtol=1e-5)


def test_label_smoothing_optimum_is_zero():
  vocab, smoothing = 7, 0.1
  targets = jnp.asarray([[3]])
  soft = jnp.full((vocab,), smoothing / (vocab - 1)).at[3].set(1 - smoothing)
  token_loss, _ = losses.cross_entropy(jnp.log(soft)[None, None], targets, 0.0, smoothing)
  assert abs(float(token_loss[0, 0])) < 1e-5


@pytest.mark.parametrize("factor, expected_denominator", [
    ("NUM_REAL_TARGET_TOKENS", 8.0), ("NUM_TOTAL_TARGET_TOKENS", 15.0), (None, 1.0),
    (4.0, 4.0)])
def test_normalizing_factors(factor, expected_denominator):
  logits, targets, weights = _logits_targets()
  config = losses.LossConfig(z_loss=0.0, loss_normalizing_factor=factor)
  total, parts = losses.weighted_loss_sum(logits, targets, weights, config)
  assert float(losses.loss_denominator(targets, weights, config)) == expected_denominator
  assert float(parts["num_tokens"]) == 8.0
  token_loss, _ = losses.cross_entropy(logits, targets, 0.0, 0.0)
  np.testing.assert_allclose(total, jnp.sum(token_loss * weights), rtol=1e-5)


def test_average_per_sequence_weights_each_sequence_equally():
  logits, targets, weights = _logits_targets()
  config = losses.LossConfig(z_loss=0.0, loss_normalizing_factor="AVERAGE_PER_SEQUENCE")
  total, _ = losses.weighted_loss_sum(logits, targets, weights, config)
  token_loss, _ = losses.cross_entropy(logits, targets, 0.0, 0.0)
  expected = sum(float(jnp.sum(token_loss[i] * weights[i]) / jnp.sum(weights[i]))
                 for i in range(2))
  np.testing.assert_allclose(total, expected, rtol=1e-5)


def test_unknown_normalizer_names_the_choices():
  with pytest.raises(errors.UnknownNameError, match="NUM_REAL_TARGET_TOKENS"):
    losses.LossConfig(loss_normalizing_factor="NUM_REAL_TOKENS").validate()
