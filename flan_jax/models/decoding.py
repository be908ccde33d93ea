"""Decoding pieces every model family shares: the zero KV cache, the until-EOS loop and the
top-k / top-p logit filter. The family decoders are `t5_decoding` and `palm_decoding`.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

Array = jax.Array
PyTree = Any
# (cache, token [batch], loop index) -> (next logits [batch, vocab], cache).
StepFn = Callable[[PyTree, Array, Array], tuple[Array, PyTree]]


def zero_cache(init_variables: Callable[[], PyTree]) -> PyTree:
  """A zero 'cache' collection shaped as the one `init_variables()` would create (traced
  abstractly: nothing is computed)."""
  shapes = jax.eval_shape(init_variables)["cache"]
  return jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)


def argmax_token(logits: Array, rng: Array) -> Array:
  """Greedy choice of the next token (ignores `rng`)."""
  del rng
  return jnp.argmax(logits, axis=-1)


def decode_until_eos(step: StepFn, logits: Array, cache: PyTree, max_decode_length: int,
                     eos_id: int, choose: Callable[[Array, Array], Array] = argmax_token,
                     rng: Array | None = None) -> Array:
  """Chooses a token from `logits`, feeds it to `step`, repeats in one `lax.while_loop`
  until every row emitted `eos_id` or `max_decode_length` tokens; int32 [batch, length],
  0 after a row's EOS. `choose(logits, key)` gets `rng` folded with the step index."""
  batch = logits.shape[0]
  rng = jax.random.PRNGKey(0) if rng is None else rng

  def cond(state):
    i, _, _, _, done = state
    return (i < max_decode_length) & ~jnp.all(done)

  def body(state):
    i, cache, out, logits, done = state
    token = choose(logits, jax.random.fold_in(rng, i)).astype(jnp.int32)
    token = jnp.where(done, 0, token)
    out = jax.lax.dynamic_update_slice(out, token[:, None], (0, i))
    logits, cache = step(cache, token, i)
    return i + 1, cache, out, logits, done | (token == eos_id)

  state = (jnp.array(0, jnp.int32), cache, jnp.zeros((batch, max_decode_length), jnp.int32),
           logits, jnp.zeros((batch,), bool))
  return jax.lax.while_loop(cond, body, state)[2]


def filter_logits(logits: Array, top_k: int = 0, top_p: float = 1.0) -> Array:
  """Sets logits outside the top-k / nucleus (top-p) sets to -inf; [..., vocab]."""
  logits = logits.astype(jnp.float32)
  if top_k and top_k < logits.shape[-1]:
    kth = jax.lax.top_k(logits, top_k)[0][..., -1:]
    logits = jnp.where(logits < kth, -jnp.inf, logits)
  if top_p < 1.0:
    sorted_logits = jnp.sort(logits, axis=-1)[..., ::-1]
    probs = jax.nn.softmax(sorted_logits, axis=-1)
    before = jnp.cumsum(probs, axis=-1) - probs  # mass of strictly more likely tokens.
    kept = jnp.where(before < top_p, sorted_logits, jnp.inf)
    threshold = jnp.min(kept, axis=-1, keepdims=True)
    logits = jnp.where(logits < threshold, -jnp.inf, logits)
  return logits
