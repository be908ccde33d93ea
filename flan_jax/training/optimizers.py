"""Optimizers and learning-rate schedules, built from optax (T5X defaults)."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import optax

from flan_jax import errors

OPTIMIZERS = ("adafactor", "adamw")
SCHEDULES = ("constant", "rsqrt", "warmup_cosine")


@dataclasses.dataclass(frozen=True)
class OptimizerConfig:
  """Optimizer settings. Defaults are T5X's finetuning ones: Adafactor, constant 1e-3."""
  name: str = "adafactor"
  learning_rate: float = 1e-3
  schedule: str = "constant"
  warmup_steps: int = 0            # rsqrt: lr = learning_rate * sqrt(warmup) / sqrt(step).
  decay_steps: int = 0             # warmup_cosine: total steps of the cosine (0: train steps).
  end_learning_rate_fraction: float = 0.0
  decay_rate: float = 0.8          # Adafactor second-moment decay exponent.
  beta1: float = 0.9               # AdamW.
  beta2: float = 0.999
  weight_decay: float = 0.0
  clip_grad_norm: float | None = None  # Global-norm clipping before the update.

  def validate(self) -> None:
    if self.name not in OPTIMIZERS:
      raise errors.unknown_name("optimizer", self.name, OPTIMIZERS,
                                "Set OptimizerConfig.name to one of these.")
    if self.schedule not in SCHEDULES:
      raise errors.unknown_name("learning-rate schedule", self.schedule, SCHEDULES,
                                "Set OptimizerConfig.schedule to one of these.")
    if self.learning_rate <= 0:
      raise errors.ConfigError(
          f"OptimizerConfig.learning_rate must be > 0, got {self.learning_rate}.")


def make_schedule(config: OptimizerConfig, total_steps: int) -> optax.Schedule:
  """Returns step -> learning rate."""
  lr = config.learning_rate
  if config.schedule == "constant":
    return optax.constant_schedule(lr)
  if config.schedule == "rsqrt":
    warmup = max(config.warmup_steps, 1)
    return lambda step: lr * jnp.sqrt(warmup) / jnp.sqrt(jnp.maximum(step, warmup))
  decay_steps = config.decay_steps or total_steps
  return optax.warmup_cosine_decay_schedule(
      init_value=0.0, peak_value=lr, warmup_steps=config.warmup_steps,
      decay_steps=max(decay_steps, config.warmup_steps + 1),
      end_value=lr * config.end_learning_rate_fraction)


def make_optimizer(config: OptimizerConfig, total_steps: int) -> optax.GradientTransformation:
  """Builds the optax transformation (clipping first when configured)."""
  config.validate()
  schedule = make_schedule(config, total_steps)
  if config.name == "adafactor":
    tx = optax.adafactor(
        learning_rate=schedule, decay_rate=config.decay_rate, decay_offset=0,
        multiply_by_parameter_scale=True, clipping_threshold=1.0, momentum=None,
        eps=1e-30, factored=True, min_dim_size_to_factor=128,
        weight_decay_rate=config.weight_decay or None)
  else:
    tx = optax.adamw(learning_rate=schedule, b1=config.beta1, b2=config.beta2,
                     weight_decay=config.weight_decay)
  if config.clip_grad_norm:
    tx = optax.chain(optax.clip_by_global_norm(config.clip_grad_norm), tx)
  return tx
