"""Autoregressive decoding, beam search and scoring for `flan_jax.models.t5.Transformer`.

Everything here is traceable: one `lax.while_loop` over a fixed-size KV cache, so a jitted
caller compiles once per (batch, input length, max_decode_length) and never per step.
Params may be plain arrays or `nn.LogicallyPartitioned` boxes (sharded or not). The loop and
logit filters shared with PaLM are in `flan_jax.models.decoding`.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional

import flax.linen as nn
import jax
import jax.numpy as jnp

from flan_jax.models import decoding

Array = jax.Array
PyTree = Any


def _unbox(params: PyTree) -> PyTree:
  return nn.meta.unbox(params)


def init_cache(model: nn.Module, batch_size: int, input_length: int,
               max_decode_length: int) -> PyTree:
  """Zero 'cache' collection for `max_decode_length` cached decoder steps."""
  enc = jnp.ones((batch_size, input_length), jnp.int32)
  dec = jnp.ones((batch_size, max_decode_length), jnp.int32)
  return decoding.zero_cache(
      lambda: model.init(jax.random.PRNGKey(0), enc, dec, dec, enable_dropout=False,
                         decode=True, max_decode_length=max_decode_length))


def encode(model: nn.Module, params: PyTree, encoder_input_tokens: Array,
           encoder_segment_ids: Optional[Array] = None) -> Array:
  """Encoder outputs without dropout."""
  return model.apply({"params": _unbox(params)}, encoder_input_tokens, encoder_segment_ids,
                     enable_dropout=False, method=model.encode)


def decode_step(model: nn.Module, params: PyTree, cache: PyTree, encoded: Optional[Array],
                encoder_input_tokens: Array, tokens: Array) -> tuple[Array, PyTree]:
  """Logits [batch, vocab] for the next position after `tokens` [batch, 1]; new cache.

  Pass the encoder outputs on the first step; later steps may pass `encoded=None` to reuse
  the cross-attention keys/values cached then.
  """
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
  return _decode_loop(model, params, encoder_input_tokens, max_decode_length, eos_id,
                      encoder_segment_ids, decoding.argmax_token, jax.random.PRNGKey(0))


def sample_decode(model: nn.Module, params: PyTree, encoder_input_tokens: Array,
                  max_decode_length: int, rng: Array, temperature: float = 1.0, top_k: int = 0,
                  top_p: float = 1.0, eos_id: int = 1,
                  encoder_segment_ids: Optional[Array] = None) -> Array:
  """Samples each row until EOS; int32 [batch, max_decode_length], 0 after the first EOS.

  Logits are divided by `temperature` (0 means argmax), then restricted to the `top_k`
  most likely tokens (0: all) and to the smallest set whose probability reaches `top_p`.
  """
  choose = decoding.sampling_choice(temperature, top_k, top_p)
  return _decode_loop(model, params, encoder_input_tokens, max_decode_length, eos_id,
                      encoder_segment_ids, choose, rng)


def _decode_loop(model: nn.Module, params: PyTree, encoder_input_tokens: Array,
                 max_decode_length: int, eos_id: int, encoder_segment_ids: Optional[Array],
                 choose: Callable[[Array, Array], Array], rng: Array) -> Array:
  """One cached step per iteration of a while_loop; stops when every row hit EOS.

  The first step runs before the loop with the encoder outputs, which fills the
  cross-attention cache; steps inside the loop pass encoded=None and reuse it.
  """
  batch, input_length = encoder_input_tokens.shape
  encoded = encode(model, params, encoder_input_tokens, encoder_segment_ids)
  cache = init_cache(model, batch, input_length, max_decode_length)
  logits, cache = decode_step(model, params, cache, encoded, encoder_input_tokens,
                              jnp.zeros((batch, 1), jnp.int32))

  step = lambda cache, token, i: decode_step(model, params, cache, None, encoder_input_tokens,
                                             token[:, None])
  return decoding.decode_until_eos(step, logits, cache, max_decode_length, eos_id, choose, rng)


def beam_search(model: nn.Module, params: PyTree, encoder_input_tokens: Array,
                max_decode_length: int, beam_size: int = 4, alpha: float = 0.6,
                eos_id: int = 1,
                encoder_segment_ids: Optional[Array] = None) -> tuple[Array, Array]:
  """Beam search; (int32 [batch, beam, max_len] best first, float32 scores [batch, beam]).

  A finished hypothesis scores log p(sequence incl. EOS) / brevity_penalty(alpha, length).
  Rows stop once no live beam can beat the worst kept finished one; rows where none
  finished return their live beams. Tokens after EOS are 0.
  """
  batch, input_length = encoder_input_tokens.shape
  k, length = beam_size, max_decode_length
  encoded = encode(model, params, encoder_input_tokens, encoder_segment_ids)
  tiled_tokens = jnp.repeat(encoder_input_tokens, k, axis=0)  # row = batch_index * k + beam
  cache = init_cache(model, batch * k, input_length, length)
  logits, cache = decode_step(model, params, cache, jnp.repeat(encoded, k, axis=0),
                              tiled_tokens, jnp.zeros((batch * k, 1), jnp.int32))
  step = lambda cache, token, i: decode_step(model, params, cache, None, tiled_tokens,
                                             token[:, None])
  return decoding.beam_search(step, _reorder_cache, logits, cache, batch, k, length, alpha,
                              eos_id)


def _reorder_cache(cache: PyTree, rows: Array) -> PyTree:
  """Gathers cached self-attention keys/values of the surviving beams (batch axis = ndim - 4).

  Cross-attention caches (static_key/value) are equal across a row's beams: left alone.
  """
  def gather(path, x):
    name = getattr(path[-1], "key", None)
    if name in ("cached_key", "cached_value"):
      return jnp.take(x, rows, axis=x.ndim - 4)
    return x
  return jax.tree_util.tree_map_with_path(gather, cache)


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
  weights = batch.get("decoder_loss_weights")
  weights = (targets > 0) if weights is None else weights
  return decoding.target_log_likelihood(logits, targets, weights)


def score_pairs(model: nn.Module, params: PyTree, inputs: Array, targets: Array) -> Array:
  """Summed log-likelihood of each row of `targets` [N, Lt] given `inputs` [N, Li] (both
  0-padded on the right); float32 [N]. What rank classification compares."""
  decoder_inputs = jnp.pad(targets[:, :-1], ((0, 0), (1, 0)))
  return score(model, params, {"encoder_input_tokens": inputs,
                               "decoder_input_tokens": decoder_inputs,
                               "decoder_target_tokens": targets})
