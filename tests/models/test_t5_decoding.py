"""Tests for T5 cached decoding and scoring on a tiny random T5, and the shared logit filter."""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from flan_jax.models import decoding, t5_decoding
from flan_jax.models import t5

TINY = t5.T5Config(vocab_size=128, emb_dim=32, num_heads=2, head_dim=16, mlp_dim=64,
                   num_encoder_layers=2, num_decoder_layers=2, dropout_rate=0.0)


@functools.lru_cache(maxsize=None)
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
  fast = jax.jit(lambda p, e: t5_decoding.greedy_decode(model, p, e, steps, eos_id=-1))(params, enc)
  np.testing.assert_array_equal(fast, uncached_greedy(model, params, enc, steps, eos_id=-1))
  assert fast.shape == (3, steps) and fast.dtype == jnp.int32


def test_greedy_stops_at_eos_and_pads_after():
  model, params = _model()
  enc = _inputs()
  ref = uncached_greedy(model, params, enc, 20, eos_id=-1)
  eos = int(ref[0, 3])  # pretend the 4th token of row 0 is EOS.
  out = np.asarray(jax.jit(lambda p, e: t5_decoding.greedy_decode(model, p, e, 20, eos_id=eos))(
      params, enc))
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
    return t5_decoding.greedy_decode(model, p, e, 12)

  run(params, _inputs())
  run(params, _inputs() + 1)
  assert len(traces) == 1


def test_score_sums_target_log_likelihood():
  model, params = _model()
  enc = _inputs(2, 6)
  targets = jnp.asarray([[5, 6, 7, 1], [9, 1, 0, 0]], jnp.int32)
  batch = {"encoder_input_tokens": enc, "decoder_target_tokens": targets,
           "decoder_input_tokens": jnp.pad(targets, ((0, 0), (1, 0)))[:, :-1]}
  scores = jax.jit(functools.partial(t5_decoding.score, model))(params, batch)
  logits = jax.jit(lambda p: model.apply({"params": nn.meta.unbox(p)}, enc,
                                         batch["decoder_input_tokens"], targets,
                                         enable_dropout=False))(params)
  logp = np.asarray(jax.nn.log_softmax(logits))
  expected = [sum(logp[0, i, targets[0, i]] for i in range(4)),
              sum(logp[1, i, targets[1, i]] for i in range(2))]
  np.testing.assert_allclose(scores, expected, rtol=1e-5)


def test_sampling_at_zero_temperature_equals_greedy():
  model, params = _model()
  enc = _inputs()
  greedy = jax.jit(lambda p, e: t5_decoding.greedy_decode(model, p, e, 20))(params, enc)
  rng = jax.random.PRNGKey(3)
  sample = jax.jit(lambda p, e, r, t, k: t5_decoding.sample_decode(model, p, e, 20, r,
                                                                temperature=t, top_k=k),
                   static_argnums=(3, 4))
  np.testing.assert_array_equal(sample(params, enc, rng, 1e-6, 0), greedy)
  np.testing.assert_array_equal(sample(params, enc, rng, 0.0, 0), greedy)
  np.testing.assert_array_equal(sample(params, enc, rng, 1.0, 1), greedy)  # top-1 = argmax.
  a, b = sample(params, enc, rng, 1.0, 0), sample(params, enc, jax.random.PRNGKey(4), 1.0, 0)
  assert not np.array_equal(a, b)
  np.testing.assert_array_equal(a, sample(params, enc, rng, 1.0, 0))  # same key, same sample.


def test_filter_logits_top_k_and_top_p():
  logits = jnp.log(jnp.asarray([[0.5, 0.3, 0.15, 0.05]]))
  assert np.isfinite(decoding.filter_logits(logits, top_k=2)).tolist() == [[1, 1, 0, 0]]
  assert np.isfinite(decoding.filter_logits(logits, top_p=0.7)).tolist() == [[1, 1, 0, 0]]
  assert np.isfinite(decoding.filter_logits(logits, top_p=0.5)).tolist() == [[1, 0, 0, 0]]
  assert np.isfinite(decoding.filter_logits(logits, top_p=0.81)).tolist() == [[1, 1, 1, 0]]


def test_beam_size_one_equals_greedy():
  model, params = _model()
  enc = _inputs()
  ref = uncached_greedy(model, params, enc, 16, eos_id=-1)
  eos = int(ref[0, 3])  # row 0 finishes early, the others may not.
  greedy = jax.jit(lambda p, e: t5_decoding.greedy_decode(model, p, e, 16, eos_id=eos))(params, enc)
  beams, scores = jax.jit(lambda p, e: t5_decoding.beam_search(
      model, p, e, 16, beam_size=1, alpha=0.0, eos_id=eos))(params, enc)
  assert beams.shape == (3, 1, 16) and scores.shape == (3, 1)
  np.testing.assert_array_equal(beams[:, 0], greedy)


def test_beam_scores_are_sorted_length_normalized_log_likelihoods():
  model, params = _model()
  enc = _inputs(2, 7)
  eos = int(uncached_greedy(model, params, enc, 4, eos_id=-1)[0, 2])
  alpha = 0.6
  beams, scores = jax.jit(lambda p, e: t5_decoding.beam_search(
      model, p, e, 12, beam_size=3, alpha=alpha, eos_id=eos))(params, enc)
  assert np.all(np.diff(np.asarray(scores), axis=1) <= 1e-6)
  seqs = np.asarray(beams[0])
  assert np.all(seqs[:, :] >= 0) and np.any(seqs == eos)
  targets = jnp.asarray(seqs)
  batch = {"encoder_input_tokens": jnp.repeat(enc[:1], 3, axis=0),
           "decoder_target_tokens": targets,
           "decoder_input_tokens": jnp.pad(targets, ((0, 0), (1, 0)))[:, :-1]}
  loglik = np.asarray(jax.jit(functools.partial(t5_decoding.score, model))(params, batch))
  lengths = np.count_nonzero(seqs, axis=1)
  finished = np.any(seqs == eos, axis=1)
  penalty = np.where(finished, ((5.0 + lengths) / 6.0) ** alpha, ((5.0 + 12) / 6.0) ** alpha)
  np.testing.assert_allclose(loglik / penalty, scores[0], rtol=1e-4, atol=1e-4)


def test_decoding_under_a_mesh_with_sharded_params():
  model, params = _model()
  mesh = jax.sharding.Mesh(np.asarray(jax.devices()).reshape(4, 2), ("data", "model"))
  rules = (("batch", "data"), ("vocab", "model"), ("mlp", "model"), ("heads", "model"),
           ("joined_kv", "model"), ("embed", None), ("kv", None), ("length", None),
           ("relpos_buckets", None))
  enc = jnp.concatenate([_inputs(), _inputs()[:1]], axis=0)  # batch 4 splits over 'data'.
  ref = jax.jit(lambda p, e: t5_decoding.greedy_decode(model, p, e, 10))(params, enc)
  specs = nn.logical_to_mesh(nn.get_partition_spec(params), rules)
  shardings = jax.tree.map(lambda s: jax.sharding.NamedSharding(mesh, s), specs,
                           is_leaf=lambda x: isinstance(x, jax.sharding.PartitionSpec))
  sharded = jax.device_put(nn.meta.unbox(params), shardings)
  assert tuple(sharded["decoder"]["logits_dense"]["kernel"].sharding.spec) == (None, "model")
  with jax.set_mesh(mesh), nn.logical_axis_rules(rules):
    out = jax.jit(lambda p, e: t5_decoding.greedy_decode(model, p, e, 10))(sharded, enc)
  np.testing.assert_array_equal(out, ref)
