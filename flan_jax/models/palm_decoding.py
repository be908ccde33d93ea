"""KV-cached greedy decoding, sampling, beam search and scoring for `palm.DecoderOnly`.

The prompt is written into the cache in one call (its mask bidirectional over the prompt
when the config is a prefix LM), then one token per iteration of a `lax.while_loop`, so a
jitted caller compiles once per (batch, prompt length, max_decode_length). Params may be
plain arrays or `nn.LogicallyPartitioned` boxes (sharded or not). The loops, the sampling
choice and beam search are shared with T5 (`flan_jax.models.decoding`).
"""

from __future__ import annotations

from typing import Any, Optional

import flax.linen as nn
import jax
import jax.numpy as jnp

from flan_jax.models import decoding

Array = jax.Array
PyTree = Any


def init_cache(model: nn.Module, batch_size: int, cache_length: int) -> PyTree:
  """Zero 'cache' collection holding `cache_length` tokens per row."""
  tokens = jnp.ones((batch_size, cache_length), jnp.int32)
  return decoding.zero_cache(lambda: model.init(
      jax.random.PRNGKey(0), tokens, tokens, enable_dropout=False, decode=True))


def extend(model: nn.Module, params: PyTree, cache: PyTree, tokens: Array, real: Array,
           positions: Array, causal_attention: Optional[Array] = None) -> tuple[Array, PyTree]:
  """Appends tokens [batch, n] (`real` False for padding) to the cache; (logits, cache)."""
  logits, variables = model.apply(
      {"params": nn.meta.unbox(params), "cache": cache}, tokens, real.astype(jnp.int32),
      decoder_positions=positions, decoder_causal_attention=causal_attention,
      enable_dropout=False, decode=True, mutable=["cache"])
  return logits, variables["cache"]


def _prefill(model: nn.Module, params: PyTree, prompt_tokens: Array, max_decode_length: int
             ) -> tuple[Array, PyTree, decoding.StepFn]:
  """Writes BOS + prompt into a fresh cache: (logits [batch, vocab] after the prompt,
  cache, step function continuing each row at its own next position)."""
  batch, prompt_len = prompt_tokens.shape
  tokens = jnp.pad(prompt_tokens.astype(jnp.int32), ((0, 0), (1, 0)))
  real = (tokens > 0) | (jnp.arange(prompt_len + 1) == 0)[None, :]
  prefix_len = jnp.sum(real, axis=1, dtype=jnp.int32)
  positions = jnp.broadcast_to(jnp.arange(prompt_len + 1, dtype=jnp.int32), tokens.shape)
  cache = init_cache(model, batch, prompt_len + 1 + max_decode_length)
  logits, cache = extend(model, params, cache, tokens, real, positions, real.astype(jnp.int32))
  logits = jnp.take_along_axis(logits, (prefix_len - 1)[:, None, None], axis=1)[:, 0]

  def step(cache, token, i):
    logits, cache = extend(model, params, cache, token[:, None], jnp.ones((batch, 1), bool),
                           (prefix_len + i)[:, None])
    return logits[:, 0], cache

  return logits, cache, step


def greedy_decode_prefix(model: nn.Module, params: PyTree, prompt_tokens: Array,
                         max_decode_length: int, eos_id: int = 1) -> Array:
  """Argmax continuation of each prompt; int32 [batch, max_decode_length], 0 after EOS.

  `prompt_tokens` [batch, prompt_len] are 0-padded on the right. The decoder sees BOS (0)
  then the prompt, as `seqio.PrefixLMFeatureConverter` lays out "inputs"; BOS and the
  prompt form the bidirectional prefix of a prefix-LM config. Rows with shorter prompts
  keep padding slots in the cache, masked out; RoPE positions continue from each row's
  own prompt length, so the result equals decoding each row alone.
  """
  logits, cache, step = _prefill(model, params, prompt_tokens, max_decode_length)
  return decoding.decode_until_eos(step, logits, cache, max_decode_length, eos_id)


def sample_decode(model: nn.Module, params: PyTree, prompt_tokens: Array,
                  max_decode_length: int, rng: Array, temperature: float = 1.0, top_k: int = 0,
                  top_p: float = 1.0, eos_id: int = 1) -> Array:
  """Samples each prompt's continuation until EOS (see `decoding.sampling_choice`);
  int32 [batch, max_decode_length], 0 after the first EOS."""
  logits, cache, step = _prefill(model, params, prompt_tokens, max_decode_length)
  return decoding.decode_until_eos(step, logits, cache, max_decode_length, eos_id,
                                   decoding.sampling_choice(temperature, top_k, top_p), rng)


def beam_search(model: nn.Module, params: PyTree, prompt_tokens: Array, max_decode_length: int,
                beam_size: int = 4, alpha: float = 0.6, eos_id: int = 1
                ) -> tuple[Array, Array]:
  """Beam search over each prompt's continuation (`decoding.beam_search`); (int32 [batch,
  beam, max_len] best first, float32 scores [batch, beam])."""
  batch = prompt_tokens.shape[0]
  tiled = jnp.repeat(prompt_tokens, beam_size, axis=0)  # row = batch_index * k + beam
  logits, cache, step = _prefill(model, params, tiled, max_decode_length)
  scanned = model.config.scan_layers
  return decoding.beam_search(step, lambda c, rows: _reorder_cache(c, rows, scanned), logits,
                              cache, batch, beam_size, max_decode_length, alpha, eos_id)


def _reorder_cache(cache: PyTree, rows: Array, scanned: bool) -> PyTree:
  """Gathers the cache rows of the surviving beams: every per-row leaf (keys, values, which
  slots are valid, ALiBi's key positions); the write indices are shared by all rows and
  stay."""
  def gather(path, x):
    names = [getattr(p, "key", None) for p in path]
    if x.ndim == 0 or names[-1] == "cache_index":
      return x
    return jnp.take(x, rows, axis=1 if scanned and "layers" in names else 0)
  return jax.tree_util.tree_map_with_path(gather, cache)


def score_pairs(model: nn.Module, params: PyTree, inputs: Array, targets: Array) -> Array:
  """Summed log-likelihood of `targets` [N, Lt] after `inputs` [N, Li] (both 0-padded on
  the right); float32 [N]. Each row is laid out as `seqio.PrefixLMFeatureConverter` does,
  BOS + inputs + targets with no gap, the targets alone counted."""
  n, input_len = inputs.shape
  length = input_len + targets.shape[1]
  prompt_len = jnp.sum(inputs > 0, axis=1, dtype=jnp.int32)[:, None]
  slot = jnp.arange(length, dtype=jnp.int32)[None, :]
  joined = jnp.concatenate([inputs, targets], axis=1).astype(jnp.int32)
  source = jnp.where(slot < prompt_len, slot, slot - prompt_len + input_len)
  sequence = jnp.take_along_axis(joined, jnp.minimum(source, length - 1), axis=1)
  sequence = jnp.where(source < length, sequence, 0)
  is_target = (slot >= prompt_len) & (sequence > 0)
  # Loss positions past the prompt only; prompt positions stay "real" for attention.
  real = (slot < prompt_len) | is_target
  logits = model.apply(
      {"params": nn.meta.unbox(params)}, jnp.pad(sequence[:, :-1], ((0, 0), (1, 0))),
      real.astype(jnp.int32), decoder_causal_attention=(slot < prompt_len + 1).astype(jnp.int32),
      enable_dropout=False)
  return decoding.target_log_likelihood(logits, sequence, is_target)
