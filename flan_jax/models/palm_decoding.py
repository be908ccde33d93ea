"""KV-cached greedy decoding for `flan_jax.models.palm.DecoderOnly`.

The prompt is written into the cache in one call (its mask bidirectional over the prompt
when the config is a prefix LM), then one token per iteration of a `lax.while_loop`, so a
jitted caller compiles once per (batch, prompt length, max_decode_length). Params may be
plain arrays or `nn.LogicallyPartitioned` boxes (sharded or not). The loop is shared with
T5 (`flan_jax.models.decoding`).
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


def greedy_decode_prefix(model: nn.Module, params: PyTree, prompt_tokens: Array,
                         max_decode_length: int, eos_id: int = 1) -> Array:
  """Argmax continuation of each prompt; int32 [batch, max_decode_length], 0 after EOS.

  `prompt_tokens` [batch, prompt_len] are 0-padded on the right. The decoder sees BOS (0)
  then the prompt, as `seqio.PrefixLMFeatureConverter` lays out "inputs"; BOS and the
  prompt form the bidirectional prefix of a prefix-LM config. Rows with shorter prompts
  keep padding slots in the cache, masked out; RoPE positions continue from each row's
  own prompt length, so the result equals decoding each row alone.
  """
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

  return decoding.decode_until_eos(step, logits, cache, max_decode_length, eos_id)
