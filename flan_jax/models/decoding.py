"""Autoregressive decoding and scoring for `flan_jax.models.t5.Transformer`.

Everything here is traceable: one `lax.while_loop` over a fixed-size KV cache, so a jitted
caller compiles once per (batch, input length, max_decode_length) and never per step.
Params may be plain arrays or `nn.LogicallyPartitioned` boxes (sharded or not).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

import flax.linen as nn
import jax
import jax.numpy as jnp

Array = jax.Array
PyTree = Any


def _unbox(params: PyTree) -> PyTree:
  return nn.meta.unbox(params)


def init_cache(model: nn.Module, batch_size: int, input_length: int,
               max_decode_length: int) -> PyTree:
  """Zero 'cache' collection for `max_decode_length` cached decoder steps."""
  enc = jnp.ones((batch_size, input_length), jnp.int32)
  dec = jnp.ones((batch_size, max_decode_length), jnp.int32)
  shapes = jax.eval_shape(
      lambda: model.init(jax.random.PRNGKey(0), enc, dec, dec, enable_dropout=False,
                         decode=True, max_decode_length=max_decode_length))["cache"]
  return jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)


def encode(model: nn.Module, params: PyTree, encoder_input_tokens: Array,
           encoder_segment_ids: Optional[Array] = None) -> Array:
  """Encoder outputs without dropout."""
  return model.apply({"params": _unbox(params)}, encoder_input_tokens, encoder_segment_ids,
                     enable_dropout=False, method=model.encode)


def decode_step(model: nn.Module, params: PyTree, cache: PyTree, encoded: Array,
                encoder_input_tokens: Array, tokens: Array) -> tuple[Array, PyTree]:
  """Logits [batch, vocab] for the next position after `tokens` [batch, 1]; new cache."""
  logits, variables = model.apply(
      {"params": _unbox(params), "cache": cache}, encoded, encoder_input_tokens, tokens,
      enable_dropout=False, decode=True, method=model.decode, mutable=["cache"])
  return logits[:, -1, :], variables["cache"]


def greedy_decode(model: nn.Module, params: PyTree, encoder_input_tokens: Array,
                  max_decode_length: int, eos_id: int = 1,
                  encoder_segment_ids: Optional[Array] = None) -> Array:
  """Argmax decoding from token 0; int32 [batch, max_decode_length], 0 after the first EOS.

  `encoder_segment_ids`, if given, restrict encoder self-attention; cross-attention sees
  every non-pad input token, as in T5X decoding.
  """
  batch, input_length = encoder_input_tokens.shape
  encoded = encode(model, params, encoder_input_tokens, encoder_segment_ids)
  cache = init_cache(model, batch, input_length, max_decode_length)

  def cond(state):
    i, _, _, _, done = state
    return (i < max_decode_length) & ~jnp.all(done)

  def body(state):
    i, cache, out, last, done = state
    logits, cache = decode_step(model, params, cache, encoded, encoder_input_tokens,
                                last[:, None])
    token = jnp.where(done, 0, jnp.argmax(logits, axis=-1).astype(jnp.int32))
    out = jax.lax.dynamic_update_slice(out, token[:, None], (0, i))
    return i + 1, cache, out, token, done | (token == eos_id)

  state = (jnp.array(0, jnp.int32), cache, jnp.zeros((batch, max_decode_length), jnp.int32),
           jnp.zeros((batch,), jnp.int32), jnp.zeros((batch,), bool))
  return jax.lax.while_loop(cond, body, state)[2]


def score(model: nn.Module, params: PyTree, batch: Mapping[str, Array]) -> Array:
  """Summed log-likelihood of `decoder_target_tokens` per row, float32 [batch].

  Uses T5X feature names; positions with target 0 (or `decoder_loss_weights` 0) don't
  count. Packed batches sum over every segment of a row.
  """
  logits = model.apply(
      {"params": _unbox(params)}, batch["encoder_input_tokens"], batch["decoder_input_tokens"],
      batch["decoder_target_tokens"], encoder_segment_ids=batch.get("encoder_segment_ids"),
      decoder_segment_ids=batch.get("decoder_segment_ids"),
      encoder_positions=batch.get("encoder_positions"),
      decoder_positions=batch.get("decoder_positions"), enable_dropout=False)
  targets = batch["decoder_target_tokens"]
  log_probs = jax.nn.log_softmax(logits, axis=-1)
  token_ll = jnp.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
  weights = batch.get("decoder_loss_weights")
  weights = (targets > 0) if weights is None else weights
  return jnp.sum(token_ll * weights.astype(jnp.float32), axis=-1)
