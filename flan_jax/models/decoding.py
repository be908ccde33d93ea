"""Decoding pieces every model family shares: the zero KV cache, the until-EOS loop, the
sampling choice with its top-k / top-p filter, and beam search. The family decoders
(`t5_decoding`, `palm_decoding`) only say how to take one cached step and how to reorder
their cache.
"""

from __future__ import annotations

from typing import Any, Callable

import flax
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


def sampling_choice(temperature: float = 1.0, top_k: int = 0,
                    top_p: float = 1.0) -> Callable[[Array, Array], Array]:
  """`choose(logits, key)` for `decode_until_eos`: logits divided by `temperature` (0 means
  argmax), restricted to the `top_k` most likely tokens (0: all) and to the smallest set
  whose probability reaches `top_p`, then sampled."""
  def choose(logits, step_rng):
    if temperature == 0.0:
      return jnp.argmax(logits, axis=-1)
    return jax.random.categorical(step_rng, filter_logits(logits / temperature, top_k, top_p))
  return choose


NEG_INF = -1.0e7  # Finite "impossible" log-probability, as in T5X's beam search.


@flax.struct.dataclass
class _BeamState:
  step: Array
  cache: PyTree
  logits: Array  # [batch * beam, vocab] for position `step`.
  live_seqs: Array
  live_logprobs: Array
  finished_seqs: Array
  finished_scores: Array
  finished_flags: Array


def brevity_penalty(alpha: float, length: Array) -> Array:
  """T5X's length penalty ((5 + length) / 6) ** alpha; beam scores divide by it."""
  return ((5.0 + length) / 6.0) ** alpha


def beam_search(step: StepFn, reorder: Callable[[PyTree, Array], PyTree], logits: Array,
                cache: PyTree, batch: int, beam_size: int, max_decode_length: int,
                alpha: float = 0.6, eos_id: int = 1) -> tuple[Array, Array]:
  """Beam search; (int32 [batch, beam, max_len] best first, float32 scores [batch, beam]).

  `logits` [batch * beam, vocab] and `cache` hold beam_size copies of each row (row =
  batch_index * beam_size + beam); `step(cache, token [batch * beam], i)` extends them by
  one token; `reorder(cache, rows)` gathers the cache rows of the surviving beams.
  A finished hypothesis scores log p(sequence incl. EOS) / brevity_penalty(alpha, length).
  Rows stop once no live beam can beat the worst kept finished one; rows where none
  finished return their live beams. Tokens after EOS are 0.
  """
  k, length = beam_size, max_decode_length
  state = _BeamState(
      step=jnp.array(0, jnp.int32), cache=cache, logits=logits,
      live_seqs=jnp.zeros((batch, k, length), jnp.int32),
      live_logprobs=jnp.tile(jnp.asarray([0.0] + [NEG_INF] * (k - 1), jnp.float32), (batch, 1)),
      finished_seqs=jnp.zeros((batch, k, length), jnp.int32),
      finished_scores=jnp.full((batch, k), NEG_INF, jnp.float32),
      finished_flags=jnp.zeros((batch, k), bool))

  def cond(s: _BeamState) -> Array:
    best_live = s.live_logprobs[:, 0] / brevity_penalty(alpha, length)
    worst_finished = jnp.where(s.finished_flags[:, -1], s.finished_scores[:, -1], NEG_INF)
    return (s.step < length) & ~jnp.all(worst_finished >= best_live)

  def body(s: _BeamState) -> _BeamState:
    logprobs = jax.nn.log_softmax(s.logits.astype(jnp.float32)).reshape(batch, k, -1)
    vocab = logprobs.shape[-1]
    candidates = (s.live_logprobs[:, :, None] + logprobs).reshape(batch, k * vocab)
    top_logprobs, top_index = jax.lax.top_k(candidates, 2 * k)
    parent, token = top_index // vocab, (top_index % vocab).astype(jnp.int32)
    seqs = jnp.take_along_axis(s.live_seqs, parent[:, :, None], axis=1)
    seqs = jnp.where(jnp.arange(length) == s.step, token[:, :, None], seqs)
    is_eos = token == eos_id
    # Live: the k best candidates that did not just end.
    live_logprobs, pick = jax.lax.top_k(jnp.where(is_eos, NEG_INF, top_logprobs), k)
    live_seqs = jnp.take_along_axis(seqs, pick[:, :, None], axis=1)
    live_parent = jnp.take_along_axis(parent, pick, axis=1)
    # Finished: the k best of those kept so far and those that just ended.
    new_scores = jnp.where(is_eos, top_logprobs / brevity_penalty(alpha, s.step + 1), NEG_INF)
    scores = jnp.concatenate([s.finished_scores, new_scores], axis=1)
    finished_scores, pick = jax.lax.top_k(scores, k)
    all_seqs = jnp.concatenate([s.finished_seqs, seqs], axis=1)
    all_flags = jnp.concatenate([s.finished_flags, is_eos], axis=1)
    rows = (jnp.arange(batch)[:, None] * k + live_parent).reshape(-1)
    last = jnp.take(live_seqs, s.step, axis=2).reshape(batch * k)
    logits, cache = step(reorder(s.cache, rows), last, s.step)
    return _BeamState(
        step=s.step + 1, cache=cache, logits=logits, live_seqs=live_seqs,
        live_logprobs=live_logprobs,
        finished_seqs=jnp.take_along_axis(all_seqs, pick[:, :, None], axis=1),
        finished_scores=finished_scores,
        finished_flags=jnp.take_along_axis(all_flags, pick, axis=1))

  final = jax.lax.while_loop(cond, body, state)
  none_finished = ~final.finished_flags[:, 0]
  live_scores = final.live_logprobs / brevity_penalty(alpha, length)
  seqs = jnp.where(none_finished[:, None, None], final.live_seqs, final.finished_seqs)
  scores = jnp.where(none_finished[:, None], live_scores, final.finished_scores)
  return seqs, scores


def target_log_likelihood(logits: Array, targets: Array, weights: Array) -> Array:
  """Sum over positions of log softmax(logits)[target] * weight; float32 [batch]."""
  log_probs = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
  token_ll = jnp.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
  return jnp.sum(token_ll * weights.astype(jnp.float32), axis=-1)
