"""Cross-entropy with z-loss, label smoothing and T5X's loss-normalizing factors."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from flan_jax import errors

# T5X's named normalizing factors; a float divides the summed loss by that constant,
# None leaves the sum (so the loss grows with the number of target tokens).
NORMALIZERS = ("NUM_REAL_TARGET_TOKENS", "NUM_TOTAL_TARGET_TOKENS", "AVERAGE_PER_SEQUENCE")


@dataclasses.dataclass(frozen=True)
class LossConfig:
  """Loss settings; defaults follow T5X finetuning (Z_LOSS = 1e-4)."""
  z_loss: float = 1e-4
  label_smoothing: float = 0.0
  loss_normalizing_factor: float | str | None = "NUM_REAL_TARGET_TOKENS"

  def validate(self) -> None:
    factor = self.loss_normalizing_factor
    if isinstance(factor, str) and factor not in NORMALIZERS:
      raise errors.unknown_name("loss_normalizing_factor", factor, NORMALIZERS,
                                "Or give a number, or None for the plain sum.")
    if not 0.0 <= self.label_smoothing < 1.0:
      raise errors.ConfigError(
          f"LossConfig.label_smoothing must be in [0, 1), got {self.label_smoothing}.")


def cross_entropy(logits: jax.Array, targets: jax.Array, z_loss: float,
                  label_smoothing: float) -> tuple[jax.Array, jax.Array]:
  """Per-token cross-entropy (including z-loss) and the z-loss part alone."""
  vocab = logits.shape[-1]
  logits = logits.astype(jnp.float32)
  confidence = 1.0 - label_smoothing
  low = label_smoothing / (vocab - 1)
  soft = jax.nn.one_hot(targets, vocab) * (confidence - low) + low
  # Subtracting the entropy of the smoothed target makes the optimum 0.
  normalizer = -(confidence * jnp.log(confidence) + (vocab - 1) * low * jnp.log(low + 1e-20))
  log_z = jax.nn.logsumexp(logits, axis=-1)
  nll = log_z - jnp.sum(soft * logits, axis=-1) - normalizer
  z = z_loss * jnp.square(log_z)
  return nll + z, z


def loss_denominator(targets: jax.Array, weights: jax.Array, config: LossConfig) -> jax.Array:
  """What the summed loss of a whole batch is divided by."""
  factor = config.loss_normalizing_factor
  if factor == "NUM_REAL_TARGET_TOKENS":
    return jnp.maximum(jnp.sum(weights.astype(jnp.float32)), 1.0)
  if factor == "NUM_TOTAL_TARGET_TOKENS":
    return jnp.asarray(targets.size, jnp.float32)
  if factor is None or factor == "AVERAGE_PER_SEQUENCE":
    return jnp.asarray(1.0, jnp.float32)
  return jnp.asarray(float(factor), jnp.float32)


def weighted_loss_sum(logits: jax.Array, targets: jax.Array, weights: jax.Array,
                      config: LossConfig) -> tuple[jax.Array, dict[str, jax.Array]]:
  """The un-normalized loss of a (micro)batch, and summed metrics.

  `weights` is 1 for real target tokens and 0 for padding ([batch, length]). Dividing
  the sum by `loss_denominator` of the full batch gives T5X's normalized loss, so
  microbatches can be summed first and divided once.
  """
  weights = weights.astype(jnp.float32)
  if config.loss_normalizing_factor == "AVERAGE_PER_SEQUENCE":
    weights = weights / jnp.maximum(jnp.sum(weights, -1, keepdims=True), 1.0)
  token_loss, token_z = cross_entropy(logits, targets, config.z_loss, config.label_smoothing)
  real = (weights > 0).astype(jnp.float32)
  correct = (jnp.argmax(logits, -1) == targets).astype(jnp.float32)
  parts = {
      "z_loss_sum": jnp.sum(token_z * weights),
      "nll_sum": jnp.sum((token_loss - token_z) * real),
      "num_tokens": jnp.sum(real),
      "num_correct": jnp.sum(correct * real),
  }
  return jnp.sum(token_loss * weights), parts
