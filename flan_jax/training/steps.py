"""Pure train and eval steps: (state, batch) -> (state, metrics). The trainer jits them."""

from __future__ import annotations

from typing import Any, Callable

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from flan_jax.training import losses

# Features a SeqIO encoder-decoder batch carries that the network takes as inputs.
MODEL_INPUTS = ("encoder_input_tokens", "decoder_input_tokens", "decoder_target_tokens",
                "encoder_segment_ids", "decoder_segment_ids", "encoder_positions",
                "decoder_positions", "decoder_causal_attention")


@flax.struct.dataclass
class TrainState:
  """Everything a checkpoint holds besides the data position."""
  step: jax.Array
  params: Any
  opt_state: Any


def model_inputs(batch: dict[str, jax.Array]) -> dict[str, jax.Array]:
  return {k: batch[k] for k in MODEL_INPUTS if k in batch}


def loss_sum(params, batch, model: nn.Module, loss_config: losses.LossConfig,
             dropout_rng: jax.Array | None):
  """The batch's summed (un-normalized) loss and summed metrics; dropout when given an rng."""
  enable_dropout = dropout_rng is not None
  rngs = {"dropout": dropout_rng} if enable_dropout else {}
  logits = model.apply({"params": params}, **model_inputs(batch),
                       enable_dropout=enable_dropout, rngs=rngs)
  return losses.weighted_loss_sum(logits, batch["decoder_target_tokens"],
                                  batch["decoder_loss_weights"], loss_config)


def _split_microbatches(batch: dict[str, jax.Array], n: int) -> dict[str, jax.Array]:
  """[B, ...] -> [n, B/n, ...], microbatch i taking rows i, i+n, ... (stays device-local)."""
  def split(x):
    x = x.reshape((x.shape[0] // n, n) + x.shape[1:])
    return jnp.swapaxes(x, 0, 1)
  return jax.tree_util.tree_map(split, batch)


def make_train_step(model: nn.Module, tx: optax.GradientTransformation,
                    loss_config: losses.LossConfig, num_microbatches: int = 1,
                    learning_rate_fn: Callable[[jax.Array], jax.Array] | None = None,
                    skip_nonfinite: bool = False):
  """Returns train_step(state, batch, dropout_rng) -> (new_state, metrics).

  Gradients of microbatches are summed, then divided once by the full batch's loss
  denominator, so the update equals the one-big-batch update. With `skip_nonfinite`,
  a step whose loss or gradients are NaN/Inf leaves params and optimizer state as they
  were (the step counter still advances) and reports `skipped_nonfinite` = 1.
  """
  grad_fn = jax.value_and_grad(loss_sum, has_aux=True)

  def train_step(state: TrainState, batch: dict[str, jax.Array], dropout_rng: jax.Array):
    rng = jax.random.fold_in(dropout_rng, state.step)
    denom = losses.loss_denominator(batch["decoder_target_tokens"],
                                    batch["decoder_loss_weights"], loss_config)
    if num_microbatches <= 1:
      (total, parts), grads = grad_fn(state.params, batch, model, loss_config, rng)
    else:
      micro = _split_microbatches(batch, num_microbatches)

      def accumulate(carry, xs):
        index, mb = xs
        (loss, parts), grads = grad_fn(state.params, mb, model, loss_config,
                                       jax.random.fold_in(rng, index))
        return jax.tree_util.tree_map(jnp.add, carry, (loss, parts, grads)), None

      first = jax.tree_util.tree_map(lambda x: x[0], micro)
      shapes = jax.eval_shape(
          lambda p, b: grad_fn(p, b, model, loss_config, rng), state.params, first)
      (loss_shape, parts_shape), grads_shape = shapes
      zeros = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype),
                                     (loss_shape, parts_shape, grads_shape))
      (total, parts, grads), _ = jax.lax.scan(
          accumulate, zeros, (jnp.arange(num_microbatches), micro))
    grads = jax.tree_util.tree_map(lambda g: g / denom, grads)
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    metrics = _metrics(total / denom, parts)
    metrics["grad_norm"] = optax.tree.norm(grads)
    if learning_rate_fn is not None:
      metrics["learning_rate"] = learning_rate_fn(state.step)
    if skip_nonfinite:
      finite = jnp.isfinite(metrics["loss"]) & jnp.isfinite(metrics["grad_norm"])
      keep = lambda new, old: jnp.where(finite, new, old)
      params = jax.tree_util.tree_map(keep, params, state.params)
      opt_state = jax.tree_util.tree_map(keep, opt_state, state.opt_state)
      metrics["skipped_nonfinite"] = 1.0 - finite.astype(jnp.float32)
    new_state = state.replace(step=state.step + 1, params=params, opt_state=opt_state)
    return new_state, metrics

  return train_step


def jit_train_step(train_step, state_shardings: TrainState, batch_sharding: Any):
  """The trainer's compiled step: state sharded as laid out and donated, batch split on data."""
  return jax.jit(train_step, in_shardings=(state_shardings, batch_sharding, None),
                 out_shardings=(state_shardings, None), donate_argnums=(0,))


def make_eval_step(model: nn.Module, loss_config: losses.LossConfig):
  """Returns eval_step(params, batch) -> metrics (teacher-forced loss and accuracy)."""

  def eval_step(params, batch):
    denom = losses.loss_denominator(batch["decoder_target_tokens"],
                                    batch["decoder_loss_weights"], loss_config)
    total, parts = loss_sum(params, batch, model, loss_config, None)
    return _metrics(total / denom, parts)

  return eval_step


def _metrics(loss: jax.Array, parts: dict[str, jax.Array]) -> dict[str, jax.Array]:
  tokens = jnp.maximum(parts["num_tokens"], 1.0)
  return {
      "loss": loss,
      "cross_ent_loss": parts["nll_sum"] / tokens,
      "z_loss": parts["z_loss_sum"] / tokens,
      "accuracy": parts["num_correct"] / tokens,
      "num_tokens": parts["num_tokens"],
  }
