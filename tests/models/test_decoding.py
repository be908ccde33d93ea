"""Tests for cached decoding and scoring on a tiny random T5."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from flan_jax.models import decoding
from flan_jax.models import t5

TINY = t5.T5Config(vocab_size=128, emb_dim=32, num_heads=2, head_dim=16, mlp_dim=64,
                   num_encoder_layers=2, num_decoder_layers=2, dropout_rate=0.0)


def _model(cfg=TINY):
  model = t5.Transformer(cfg)
  one = jnp.ones((1, 4), jnp.int32)
  params = jax.jit(lambda rng: model.init(rng, one, one, one, enable_dropout=False)["params"])(
      jax.random.PRNGKey(1))
  return model, params


def _inputs(batch=3, length=9):
  rng = np.random.RandomState(0)
  tokens = rng.randint(2, TINY.vocab_size, (batch, length))
  tokens[1, 6:] = 0  # a padded row.
  return jnp.asarray(tokens, jnp.int32)


def uncached_greedy(model, params, enc, steps, eos_id=1):
  """Reference: re-runs the full decoder on the growing prefix each step."""
  params = nn.meta.unbox(params)
  # A fixed-length buffer keeps one compiled shape; causal attention ignores the tail.
  logits_fn = jax.jit(lambda p, e, d: model.apply({"params": p}, e, d, enable_dropout=False))
  out = np.zeros((enc.shape[0], steps), np.int32)
  done = np.zeros(enc.shape[0], bool)
  for i in range(steps):
    dec_in = jnp.pad(jnp.asarray(out[:, :-1]), ((0, 0), (1, 0)))
    logits = logits_fn(params, enc, dec_in)
    token = np.where(done, 0, np.asarray(jnp.argmax(logits[:, i], -1)))
    out[:, i] = token
    done |= token == eos_id
  return out


def test_cached_greedy_equals_uncached_argmax():
  model, params = _model()
  enc = _inputs()
  steps = 24
  fast = jax.jit(lambda p, e: decoding.greedy_decode(model, p, e, steps, eos_id=-1))(params, enc)
  np.testing.assert_array_equal(fast, uncached_greedy(model, params, enc, steps, eos_id=-1))
  assert fast.shape == (3, steps) and fast.dtype == jnp.int32


def test_greedy_stops_at_eos_and_pads_after():
  model, params = _model()
  enc = _inputs()
  ref = uncached_greedy(model, params, enc, 20, eos_id=-1)
  eos = int(ref[0, 3])  # pretend the 4th token of row 0 is EOS.
  out = np.asarray(decoding.greedy_decode(model, params, enc, 20, eos_id=eos))
  for row, expected in zip(out, ref):
    stop = np.argmax(expected == eos) if np.any(expected == eos) else len(expected)
    np.testing.assert_array_equal(row[:stop + 1], expected[:stop + 1])
    assert np.all(row[stop + 1:] == 0)
  assert np.argmax(out[0] == eos) <= 3


def test_greedy_compiles_once():
  model, params = _model()
  traces = []

  @jax.jit
  def run(p, e):
    traces.append(1)
    return decoding.greedy_decode(model, p, e, 12)

  run(params, _inputs())
  run(params, _inputs() + 1)
  assert len(traces) == 1


def test_score_sums_target_log_likelihood():
  model, params = _model()
  enc = _inputs(2, 6)
  targets = jnp.asarray([[5, 6, 7, 1], [9, 1, 0, 0]], jnp.int32)
  batch = {"encoder_input_tokens": enc, "decoder_target_tokens": targets,
           "decoder_input_tokens": jnp.pad(targets, ((0, 0), (1, 0)))[:, :-1]}
  scores = decoding.score(model, params, batch)
  logits = model.apply({"params": nn.meta.unbox(params)}, enc, batch["decoder_input_tokens"],
                       targets, enable_dropout=False)
  logp = np.asarray(jax.nn.log_softmax(logits))
  expected = [sum(logp[0, i, targets[0, i]] for i in range(4)),
              sum(logp[1, i, targets[1, i]] for i in range(2))]
  np.testing.assert_allclose(scores, expected, rtol=1e-5)
