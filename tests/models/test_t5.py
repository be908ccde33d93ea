"""Tests for the T5 encoder-decoder: names, axes, shapes, masking, packing, dropout."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

from flan_jax.models import layers
from flan_jax.models import t5

TINY = t5.T5Config(vocab_size=128, emb_dim=32, num_heads=2, head_dim=16, mlp_dim=64,
                   num_encoder_layers=2, num_decoder_layers=2, dropout_rate=0.0)


def _flat_boxes(variables):
  return traverse_util.flatten_dict(
      variables["params"], sep="/", is_leaf=lambda k, x: isinstance(x, nn.LogicallyPartitioned))


def _init(cfg=TINY, enc_len=7, dec_len=5):
  enc = jnp.ones((2, enc_len), jnp.int32)
  dec = jnp.ones((2, dec_len), jnp.int32)
  model = t5.Transformer(cfg)
  init = jax.jit(lambda rng: model.init(rng, enc, dec, dec, enable_dropout=False)["params"])
  return model, nn.meta.unbox(init(jax.random.PRNGKey(0)))


def _apply(model, params, *args, method=None, **kwargs):
  """Jitted model.apply: op-by-op dispatch is slow on a shared CPU."""
  fn = lambda p, *a: model.apply({"params": p}, *a, method=method, **kwargs)
  return jax.jit(fn)(params, *args)


def _tokens(seed, shape, low=2):
  return jnp.asarray(np.random.RandomState(seed).randint(low, TINY.vocab_size, shape), jnp.int32)


def test_param_names_shapes_axes():
  model = t5.Transformer(TINY)
  enc, dec = jnp.ones((2, 7), jnp.int32), jnp.ones((2, 5), jnp.int32)
  variables = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0), enc, dec, dec))
  flat = _flat_boxes(variables)
  assert all(isinstance(v, nn.LogicallyPartitioned) for v in flat.values())
  expected = {
      "token_embedder/embedding": ((128, 32), ("vocab", "embed")),
      "encoder/relpos_bias/rel_embedding": ((2, 32), ("heads", "relpos_buckets")),
      "encoder/layers_1/pre_attention_layer_norm/scale": ((32,), ("embed",)),
      "encoder/layers_0/attention/query/kernel": ((32, 32), ("embed", "joined_kv")),
      "encoder/layers_0/attention/out/kernel": ((32, 32), ("joined_kv", "embed")),
      "encoder/layers_0/mlp/wi_0/kernel": ((32, 64), ("embed", "mlp")),
      "encoder/layers_0/mlp/wi_1/kernel": ((32, 64), ("embed", "mlp")),
      "encoder/layers_0/mlp/wo/kernel": ((64, 32), ("mlp", "embed")),
      "encoder/encoder_norm/scale": ((32,), ("embed",)),
      "decoder/relpos_bias/rel_embedding": ((2, 32), ("heads", "relpos_buckets")),
      "decoder/layers_1/pre_self_attention_layer_norm/scale": ((32,), ("embed",)),
      "decoder/layers_1/self_attention/value/kernel": ((32, 32), ("embed", "joined_kv")),
      "decoder/layers_1/pre_cross_attention_layer_norm/scale": ((32,), ("embed",)),
      "decoder/layers_1/encoder_decoder_attention/key/kernel": ((32, 32), ("embed", "joined_kv")),
      "decoder/layers_0/pre_mlp_layer_norm/scale": ((32,), ("embed",)),
      "decoder/decoder_norm/scale": ((32,), ("embed",)),
      "decoder/logits_dense/kernel": ((32, 128), ("embed", "vocab")),
  }
  for name, (shape, axes) in expected.items():
    assert flat[name].value.shape == shape, name
    assert flat[name].value.dtype == jnp.float32, name
    assert flat[name].names == axes, name
  per_encoder_layer = 4 + 3 + 2  # q/k/v/out, wi_0/wi_1/wo, two norms.
  per_decoder_layer = 8 + 3 + 3
  assert len(flat) == 1 + 2 * (1 + 1) + 2 * per_encoder_layer + 2 * per_decoder_layer + 1


def test_heads_times_head_dim_differs_from_emb_dim():
  cfg = TINY.replace(num_heads=3, head_dim=8, num_encoder_layers=1, num_decoder_layers=3)
  model, params = _init(cfg)
  assert params["encoder"]["layers_0"]["attention"]["query"]["kernel"].shape == (32, 24)
  assert params["encoder"]["layers_0"]["attention"]["out"]["kernel"].shape == (24, 32)
  assert "layers_2" in params["decoder"] and "layers_1" not in params["encoder"]
  logits = _apply(model, params, _tokens(0, (2, 7)), _tokens(1, (2, 5)),
                       _tokens(2, (2, 5)), enable_dropout=False)
  assert logits.shape == (2, 5, 128) and logits.dtype == jnp.float32


def test_query_init_folds_attention_scaling():
  model = t5.Transformer(TINY.replace(emb_dim=256, head_dim=64, num_heads=4))
  params = model.init(jax.random.PRNGKey(0), jnp.ones((1, 3), jnp.int32),
                      jnp.ones((1, 3), jnp.int32))["params"]
  attn = nn.meta.unbox(params)["encoder"]["layers_0"]["attention"]
  np.testing.assert_allclose(np.std(attn["query"]["kernel"]), (256 * 64) ** -0.5, rtol=0.05)
  np.testing.assert_allclose(np.std(attn["key"]["kernel"]), 256 ** -0.5, rtol=0.05)


def test_relative_position_buckets_match_t5():
  rel = jnp.arange(-200, 201)
  bi = np.asarray(layers.relative_position_bucket(rel, True, 32, 128))
  causal = np.asarray(layers.relative_position_bucket(rel, False, 32, 128))
  assert bi[200] == 0 and bi[201] == 17 and bi[199] == 1  # key after query -> upper half.
  assert bi.max() == 31 and bi.min() == 0
  assert np.all(causal[201:] == 0) and causal[199] == 1 and causal[0] == 31
  assert causal[200 - 15] == 15 and causal[200 - 16] == 16  # exact up to 15, then log.


def test_config_from_strings_and_presets():
  cfg = t5.T5Config(dtype="bfloat16", mlp_activations=["relu"])
  assert cfg.dtype == "bfloat16" and cfg.activation_dtype == jnp.bfloat16
  assert cfg.mlp_activations == ("relu",)
  assert t5.T5Config(dtype=jnp.float32).dtype == "float32"
  base = t5.T5Config.t5_1_1("base")
  assert (base.emb_dim, base.num_heads, base.mlp_dim, base.num_encoder_layers) == (768, 12, 2048,
                                                                                  12)
  with pytest.raises(ValueError):
    t5.T5Config(dtype="float16")
  with pytest.raises(ValueError):
    t5.T5Config(remat_policy="some")


def test_padding_does_not_change_real_positions():
  model, params = _init()
  enc, dec_in, dec_tgt = _tokens(0, (1, 5)), _tokens(1, (1, 4)), _tokens(2, (1, 4))
  dec_in = dec_in.at[:, 0].set(0)
  alone = _apply(model, params, enc, dec_in, dec_tgt, enable_dropout=False)
  pad = lambda x, n: jnp.pad(x, ((0, 0), (0, n)))
  padded = _apply(model, params, pad(enc, 3), pad(dec_in, 2), pad(dec_tgt, 2),
                       enable_dropout=False)
  np.testing.assert_allclose(padded[:, :4], alone, atol=1e-5, rtol=1e-5)


def test_packing_matches_each_example_alone():
  model, params = _init()
  enc_a, enc_b = _tokens(0, (1, 4)), _tokens(1, (1, 3))
  tgt_a, tgt_b = _tokens(2, (1, 3)), _tokens(3, (1, 4))
  shift = lambda t: jnp.pad(t, ((0, 0), (1, 0)))[:, :-1]
  run = lambda *a, **k: _apply(model, params, *a, enable_dropout=False, **k)
  alone_a = run(enc_a, shift(tgt_a), tgt_a)
  alone_b = run(enc_b, shift(tgt_b), tgt_b)
  cat = lambda a, b, pad: jnp.pad(jnp.concatenate([a, b], 1), ((0, 0), (0, pad)))
  seg = lambda n, m, pad: jnp.asarray([[1] * n + [2] * m + [0] * pad], jnp.int32)
  pos = lambda n, m, pad: jnp.asarray([list(range(n)) + list(range(m)) + [0] * pad], jnp.int32)
  packed = run(cat(enc_a, enc_b, 2), cat(shift(tgt_a), shift(tgt_b), 1), cat(tgt_a, tgt_b, 1),
               encoder_segment_ids=seg(4, 3, 2), decoder_segment_ids=seg(3, 4, 1),
               encoder_positions=pos(4, 3, 2), decoder_positions=pos(3, 4, 1))
  np.testing.assert_allclose(packed[:, :3], alone_a, atol=1e-5, rtol=1e-5)
  np.testing.assert_allclose(packed[:, 3:7], alone_b, atol=1e-5, rtol=1e-5)


def test_dropout_on_and_off():
  cfg = TINY.replace(dropout_rate=0.3)
  model, params = _init(cfg)
  enc, dec = _tokens(0, (2, 6)), _tokens(1, (2, 5))
  fn = jax.jit(lambda p, key, on: model.apply({"params": p}, enc, dec, dec, enable_dropout=on,
                                               rngs={"dropout": key}), static_argnums=2)
  run = lambda seed, on: fn(params, jax.random.PRNGKey(seed), on)
  np.testing.assert_array_equal(run(0, False), run(1, False))
  np.testing.assert_array_equal(run(0, True), run(0, True))
  assert not np.allclose(run(0, True), run(1, True))
  assert not np.allclose(run(0, True), run(0, False))


def test_v1_0_options():
  cfg = TINY.replace(mlp_activations=("relu",), logits_via_embedding=True)
  model, params = _init(cfg)
  mlp = params["encoder"]["layers_0"]["mlp"]
  assert set(mlp) == {"wi", "wo"}
  assert "logits_dense" not in params["decoder"]
  enc, dec = _tokens(0, (2, 6)), _tokens(1, (2, 5))
  logits = _apply(model, params, enc, dec, dec, enable_dropout=False)
  encoded = _apply(model, params, enc, enable_dropout=False, method=model.encode)
  assert logits.shape == (2, 5, 128) and encoded.shape == (2, 6, 32)


def test_bfloat16_activations_keep_float32_params_and_logits():
  model, params = _init(TINY.replace(dtype="bfloat16"))
  assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(params))
  enc, dec = _tokens(0, (2, 6)), _tokens(1, (2, 5))
  logits = _apply(model, params, enc, dec, dec, enable_dropout=False)
  ref = _apply(t5.Transformer(TINY), params, enc, dec, dec, enable_dropout=False)
  assert logits.dtype == jnp.float32
  np.testing.assert_allclose(logits, ref, atol=0.1, rtol=0.1)


def test_logical_constraints_apply_under_mesh():
  model, params = _init()
  mesh = jax.sharding.Mesh(np.asarray(jax.devices()).reshape(4, 2), ("data", "model"))
  rules = (("batch", "data"), ("vocab", "model"), ("mlp", "model"), ("heads", "model"),
           ("joined_kv", "model"), ("embed", None), ("kv", None), ("length", None),
           ("relpos_buckets", None))
  enc, dec = _tokens(0, (4, 6)), _tokens(1, (4, 5))
  with jax.set_mesh(mesh), nn.logical_axis_rules(rules):
    logits = jax.jit(lambda p, e, d: model.apply({"params": p}, e, d, d, enable_dropout=False))(
        params, enc, dec)
  ref = _apply(model, params, enc, dec, dec, enable_dropout=False)
  np.testing.assert_allclose(logits, ref, atol=1e-5, rtol=1e-5)
