"""Model options: scanned layers, rematerialization, attention implementations."""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

from flan_jax.interop import param_tree
from flan_jax.models import layers, t5_decoding
from flan_jax.models import t5

TINY = t5.T5Config(vocab_size=128, emb_dim=32, num_heads=2, head_dim=16, mlp_dim=64,
                   num_encoder_layers=2, num_decoder_layers=3, dropout_rate=0.0)


@functools.lru_cache(maxsize=None)
def _setup():
  rng = np.random.RandomState(0)
  enc = rng.randint(2, 128, (2, 9))
  enc[1, 6:] = 0
  dec = rng.randint(2, 128, (2, 6))
  enc, dec = jnp.asarray(enc, jnp.int32), jnp.asarray(dec, jnp.int32)
  model = t5.Transformer(TINY)
  init = jax.jit(lambda r: model.init(r, enc, dec, dec, enable_dropout=False)["params"])
  return enc, dec, nn.meta.unbox(init(jax.random.PRNGKey(0)))


def _logits(cfg, params, enc, dec, **kwargs):
  model = t5.Transformer(cfg)
  return jax.jit(lambda p: model.apply({"params": p}, enc, dec, dec, **kwargs))(params)


def test_scanned_params_have_a_layers_axis():
  enc, dec, _ = _setup()
  model = t5.Transformer(TINY.replace(scan_layers=True))
  boxed = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), enc, dec, dec))["params"]
  flat = traverse_util.flatten_dict(
      boxed, sep="/", is_leaf=lambda k, x: isinstance(x, nn.LogicallyPartitioned))
  query = flat["encoder/layers/attention/query/kernel"]
  assert query.value.shape == (32, 2, 32) and query.names == ("embed", "layers", "joined_kv")
  norm = flat["decoder/layers/pre_mlp_layer_norm/scale"]
  assert norm.value.shape == (32, 3) and norm.names == ("embed", "layers")
  assert "decoder/relpos_bias/rel_embedding" in flat and "token_embedder/embedding" in flat
  assert not any("layers_" in name for name in flat)


def test_scanned_and_rematerialized_models_compute_the_same_function():
  enc, dec, params = _setup()
  ref = _logits(TINY, params, enc, dec, enable_dropout=False)
  stacked = param_tree.stack_layers(params)
  for cfg, p in ((TINY.replace(scan_layers=True), stacked),
                 (TINY.replace(scan_layers=True, remat_policy="minimal"), stacked),
                 (TINY.replace(remat_policy="full"), params)):
    np.testing.assert_allclose(_logits(cfg, p, enc, dec, enable_dropout=False), ref,
                               atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("policy", ["full", "minimal"])
def test_remat_gradients_match(policy):
  enc, dec, params = _setup()

  def loss(cfg, p):
    logits = t5.Transformer(cfg).apply({"params": p}, enc, dec, dec, enable_dropout=False)
    return jnp.mean(jax.nn.logsumexp(logits, -1))

  ref = jax.jit(jax.grad(functools.partial(loss, TINY)))(params)
  got = jax.jit(jax.grad(functools.partial(loss, TINY.replace(remat_policy=policy))))(params)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-4), got, ref)


def test_scanned_greedy_decoding_matches_unrolled():
  enc, _, params = _setup()
  scanned = t5.Transformer(TINY.replace(scan_layers=True))
  run = lambda m, p: jax.jit(lambda p, e: t5_decoding.greedy_decode(m, p, e, 12))(p, enc)
  np.testing.assert_array_equal(run(scanned, param_tree.stack_layers(params)),
                                run(t5.Transformer(TINY), params))


def test_dot_product_attention_matches_einsum():
  enc, dec, params = _setup()
  cfg = TINY.replace(attention_impl="dot_product_attention")
  ref = _logits(TINY, params, enc, dec, enable_dropout=False)
  np.testing.assert_allclose(_logits(cfg, params, enc, dec, enable_dropout=False), ref,
                             atol=1e-5, rtol=1e-5)
  # With attention dropout it falls back to einsum, so the same rng gives the same output.
  rngs = {"dropout": jax.random.PRNGKey(1)}
  dropout_cfg = TINY.replace(dropout_rate=0.2)
  np.testing.assert_allclose(
      _logits(dropout_cfg.replace(attention_impl="dot_product_attention"), params, enc, dec,
              enable_dropout=True, rngs=rngs),
      _logits(dropout_cfg, params, enc, dec, enable_dropout=True, rngs=rngs), atol=1e-5)


@pytest.mark.parametrize("impl", ["einsum", "dot_product_attention"])
def test_attend_reads_keys_last_layout_like_numpy(impl):
  """Cached cross-attention keeps keys/values [b, h, d, k]; attend gives plain attention."""
  rng = np.random.RandomState(3)
  q, k, v = (rng.randn(2, n, 3, 4).astype(np.float32) for n in (2, 5, 5))
  bias = rng.randn(2, 3, 2, 5).astype(np.float32)
  logits = np.einsum("bqhd,bkhd->bhqk", q, k) + bias
  weights = np.exp(logits - logits.max(-1, keepdims=True))
  weights /= weights.sum(-1, keepdims=True)
  want = np.einsum("bhqk,bkhd->bqhd", weights, v)
  keys_last = lambda x: jnp.asarray(x.transpose(0, 2, 3, 1))
  got = layers.attend(jnp.asarray(q), keys_last(k), keys_last(v), bias=jnp.asarray(bias),
                      impl=impl, kv_layout="bhdk")
  np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)
  with pytest.raises(ValueError, match="kv_layout"):
    layers.attend(jnp.asarray(q), jnp.asarray(k), jnp.asarray(v), kv_layout="bkdh")


def test_dot_product_attention_greedy_decoding_matches_einsum():
  enc, _, params = _setup()
  decode = lambda cfg: np.asarray(jax.jit(lambda p: t5_decoding.greedy_decode(
      t5.Transformer(cfg), p, enc, 6, eos_id=-1))(params))
  np.testing.assert_array_equal(
      decode(TINY.replace(attention_impl="dot_product_attention")), decode(TINY))


def test_bfloat16_scanned_model_runs_with_float32_params():
  enc, dec, params = _setup()
  cfg = TINY.replace(dtype="bfloat16", scan_layers=True,
                     attention_impl="dot_product_attention")
  logits = _logits(cfg, param_tree.stack_layers(params), enc, dec, enable_dropout=False)
  ref = _logits(TINY, params, enc, dec, enable_dropout=False)
  assert logits.dtype == jnp.float32
  np.testing.assert_allclose(logits, ref, atol=0.15, rtol=0.1)
