"""Tests for the PaLM-style decoder-only family and its cached greedy decoding."""

import ast
import functools
import pathlib

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from flan_jax.models import layers
from flan_jax.models import palm
from flan_jax.models import palm_decoding
from flan_jax.runtime import partitioning

TINY = palm.PaLMConfig(vocab_size=64, emb_dim=32, num_heads=4, head_dim=8, num_layers=2,
                       mlp_dim=64, dropout_rate=0.0, prefix_lm=True)
CAUSAL = TINY.replace(prefix_lm=False)
GIN_DIR = pathlib.Path(__file__).resolve().parents[2] / "gin" / "models" / "palm"


def _model(cfg=TINY):
  return _init(cfg)


@functools.lru_cache(maxsize=None)
def _init(cfg):
  """Model, boxed params (seed 1; equal for configs differing only in prefix_lm)."""
  model = palm.DecoderOnly(cfg)
  one = jnp.ones((1, 4), jnp.int32)
  params = jax.jit(lambda rng: model.init(rng, one, one, enable_dropout=False)["params"])(
      jax.random.PRNGKey(1))
  return model, params


@functools.lru_cache(maxsize=None)
def _logits_fn(cfg):
  model = palm.DecoderOnly(cfg)
  return jax.jit(lambda p, f: model.apply({"params": nn.meta.unbox(p)}, **f,
                                          enable_dropout=False))


def _logits(cfg, params=None, **features):
  params = _model(cfg)[1] if params is None else params
  return np.asarray(_logits_fn(cfg)(params, {k: jnp.asarray(v) for k, v in features.items()}))


def _lm_features(tokens, prefix_len, length):
  """Decoder-only features of one unpacked row, as seqio.PrefixLMFeatureConverter makes."""
  targets = np.zeros((length,), np.int32)
  targets[:len(tokens)] = tokens
  inputs = np.pad(targets[:-1], (1, 0))
  causal = (np.arange(length) < prefix_len + 1).astype(np.int32)
  return inputs, targets, causal


def test_param_names_shapes_axes():
  _, params = _model()
  flat = {"/".join(k.key for k in path): box for path, box in jax.tree_util.tree_flatten_with_path(
      params, is_leaf=lambda x: isinstance(x, nn.Partitioned))[0]}
  layer = {
      "pre_self_attention_layer_norm/scale": ((32,), ("embed",)),
      "self_attention/query/kernel": ((32, 32), ("embed", "joined_kv")),
      "self_attention/key/kernel": ((32, 8), ("embed", "kv")),
      "self_attention/value/kernel": ((32, 8), ("embed", "kv")),
      "self_attention/out/kernel": ((32, 32), ("joined_kv", "embed")),
      "mlp/wi_0/kernel": ((32, 64), ("embed", "mlp")),
      "mlp/wi_1/kernel": ((32, 64), ("embed", "mlp")),
      "mlp/wo/kernel": ((64, 32), ("mlp", "embed")),
  }
  expected = {"token_embedder/embedding": ((64, 32), ("vocab", "embed")),
              "decoder/decoder_norm/scale": ((32,), ("embed",))}
  for i in range(2):
    expected.update({f"decoder/layers_{i}/{k}": v for k, v in layer.items()})
  assert {k: (b.value.shape, b.names) for k, b in flat.items()} == expected
  assert all(b.value.dtype == jnp.float32 for b in flat.values())


def test_rotary_embedding_is_relative():
  rng = np.random.RandomState(0)
  q, k = (jnp.asarray(rng.randn(1, 1, 16), jnp.float32) for _ in range(2))
  rope = lambda x, p: layers.rotary_embedding(x, jnp.full((1, 1), p))
  np.testing.assert_allclose(rope(q, 0), q, atol=1e-6)
  dots = [float(jnp.sum(rope(q, m) * rope(k, m - 3))) for m in (3, 7, 50)]
  np.testing.assert_allclose(dots, dots[0], rtol=1e-4)
  assert abs(float(jnp.sum(rope(q, 5) * rope(k, 0))) - dots[0]) > 1e-3


def test_prefix_lm_attends_bidirectionally_over_the_prefix_only():
  inputs, targets, causal = _lm_features([5, 9, 12, 7, 3, 21, 8], prefix_len=3, length=8)
  features = dict(decoder_input_tokens=inputs[None], decoder_target_tokens=targets[None],
                  decoder_causal_attention=causal[None])
  base = _logits(TINY, **features)
  # The bidirectional prefix changes outputs vs a causal model with the same params.
  causal_model = _logits(CAUSAL, params=_model()[1], **features)
  assert np.abs(base - causal_model)[0, :4].max() > 1e-3
  assert np.abs(base - causal_model)[0, 4:7].max() > 1e-3
  # Without decoder_causal_attention a prefix LM is causal.
  no_prefix = {k: v for k, v in features.items() if k != "decoder_causal_attention"}
  np.testing.assert_allclose(_logits(TINY, **no_prefix), causal_model, atol=1e-5)
  # Position 0 sees the last prefix input (position 3); nothing before 4 sees position 4.
  edit = lambda pos: _logits(TINY, **{**features, "decoder_input_tokens": np.where(
      np.arange(8) == pos, 40, inputs)[None]})
  assert np.abs(edit(3) - base)[0, 0].max() > 1e-4
  np.testing.assert_allclose(edit(4)[0, :4], base[0, :4], atol=1e-5)
  assert np.abs(edit(4) - base)[0, 4].max() > 1e-4


def test_packing_matches_each_example_alone():
  length = 12
  a = _lm_features([5, 9, 12, 7, 3], prefix_len=2, length=5)
  b = _lm_features([30, 31, 6, 2], prefix_len=1, length=4)
  packed = [np.concatenate([x, y, np.zeros(length - 9, np.int32)]) for x, y in zip(a, b)]
  segments = np.asarray([1] * 5 + [2] * 4 + [0] * 3, np.int32)
  positions = np.asarray(list(range(5)) + list(range(4)) + [0] * 3, np.int32)
  out = _logits(TINY, decoder_input_tokens=packed[0][None], decoder_target_tokens=packed[1][None],
                decoder_causal_attention=packed[2][None], decoder_segment_ids=segments[None],
                decoder_positions=positions[None])
  for example, start in ((a, 0), (b, 5)):
    n = len(example[0])
    alone = [np.pad(x, (0, length - n))[None] for x in example]
    ref = _logits(TINY, decoder_input_tokens=alone[0], decoder_target_tokens=alone[1],
                  decoder_causal_attention=alone[2])
    np.testing.assert_allclose(out[0, start:start + n], ref[0, :n], atol=1e-5)


def _prompts():
  rng = np.random.RandomState(0)
  prompts = rng.randint(2, TINY.vocab_size, (3, 6)).astype(np.int32)
  prompts[1, 4:] = 0  # shorter, right-padded prompts.
  prompts[2, 2:] = 0
  return prompts


def uncached_greedy(cfg, params, prompts, steps, eos_id=-1):
  """Reference: re-runs the full model on [BOS, prompt, generated] (no gaps) each step."""
  length = prompts.shape[1] + 1 + steps
  out = np.zeros((len(prompts), steps), np.int32)
  done = np.zeros(len(prompts), bool)
  for i in range(steps):
    rows = [np.concatenate([[0], p[p > 0], o[:i]]).astype(np.int32) for p, o in zip(prompts, out)]
    inputs = np.stack([np.pad(r, (0, length - len(r))) for r in rows])
    real = (np.arange(length)[None] < np.asarray([len(r) for r in rows])[:, None])
    prefix_len = 1 + (prompts > 0).sum(1)
    causal = (np.arange(length)[None] < prefix_len[:, None]).astype(np.int32)
    logits = _logits(cfg, params, decoder_input_tokens=inputs,
                     decoder_target_tokens=real.astype(np.int32), decoder_causal_attention=causal)
    token = np.where(done, 0, logits[np.arange(len(rows)), prefix_len - 1 + i].argmax(-1))
    out[:, i] = token
    done |= token == eos_id
  return out


@functools.lru_cache(maxsize=None)
def _greedy_fn(cfg, steps, eos_id):
  model = palm.DecoderOnly(cfg)
  return jax.jit(lambda p, x: palm_decoding.greedy_decode_prefix(model, p, x, steps, eos_id))


@pytest.mark.parametrize("cfg", [TINY, CAUSAL], ids=["prefix_lm", "causal"])
def test_cached_greedy_equals_uncached_argmax(cfg):
  params, prompts = _model(cfg)[1], _prompts()
  fast = _greedy_fn(cfg, 12, -1)(params, jnp.asarray(prompts))
  assert fast.shape == (3, 12) and fast.dtype == jnp.int32
  np.testing.assert_array_equal(fast, uncached_greedy(cfg, params, prompts, 12))


def test_greedy_stops_at_eos_and_compiles_once():
  params, prompts = _model()[1], _prompts()
  ref = np.asarray(_greedy_fn(TINY, 12, -1)(params, jnp.asarray(prompts)))
  eos = int(ref[0, 3])
  traces = []
  model = palm.DecoderOnly(TINY)

  @jax.jit
  def run(p, x):
    traces.append(1)
    return palm_decoding.greedy_decode_prefix(model, p, x, 12, eos_id=eos)

  out = np.asarray(run(params, jnp.asarray(prompts)))
  run(params, jnp.asarray(prompts[::-1]))
  assert len(traces) == 1
  for row, expected in zip(out, ref):
    stop = np.argmax(expected == eos) if np.any(expected == eos) else len(expected)
    np.testing.assert_array_equal(row[:stop + 1], expected[:stop + 1])
    assert np.all(row[stop + 1:] == 0)


def _to_scanned(params):
  """Unrolled layers_{i} params -> the scanned 'layers' layout (layer axis 1)."""
  params = nn.meta.unbox(params)
  dec = dict(params["decoder"])
  stacked = [dec.pop(f"layers_{i}") for i in range(TINY.num_layers)]
  dec["layers"] = jax.tree.map(lambda *xs: jnp.stack(xs, axis=palm.SCAN_AXIS), *stacked)
  return {**params, "decoder": dec}


def test_scan_remat_and_dot_product_attention_match_unrolled():
  cfg = TINY.replace(scan_layers=True, remat_policy="minimal",
                     attention_impl="dot_product_attention")
  model, scanned_init = _model(cfg)
  params = _to_scanned(_model()[1])
  assert jax.tree.map(jnp.shape, nn.meta.unbox(scanned_init)) == jax.tree.map(jnp.shape, params)
  assert scanned_init["decoder"]["layers"]["mlp"]["wo"]["kernel"].names == (
      "mlp", "layers", "embed")
  inputs, targets, causal = _lm_features([5, 9, 12, 7, 3, 21], prefix_len=2, length=8)
  features = dict(decoder_input_tokens=inputs[None], decoder_target_tokens=targets[None],
                  decoder_causal_attention=causal[None])
  np.testing.assert_allclose(_logits(cfg, params, **features), _logits(TINY, **features),
                             atol=1e-5)
  prompts = jnp.asarray(_prompts())
  np.testing.assert_array_equal(_greedy_fn(cfg, 12, -1)(params, prompts),
                                _greedy_fn(TINY, 12, -1)(_model()[1], prompts))


def test_params_sharded_on_a_data_model_mesh():
  _, params = _model()
  mesh = partitioning.create_mesh(
      partitioning.PartitionConfig(mesh_shape={"data": 4, "fsdp": 1, "model": 2}))
  rules = partitioning.standard_logical_axis_rules()
  shardings = partitioning.logical_to_sharding(nn.get_partition_spec(params), mesh, rules)
  sharded = jax.device_put(nn.meta.unbox(params), shardings)
  attn = sharded["decoder"]["layers_0"]["self_attention"]
  assert tuple(attn["query"]["kernel"].sharding.spec) == (None, "model")
  assert tuple(attn["key"]["kernel"].sharding.spec) in ((), (None, None))
  assert tuple(sharded["token_embedder"]["embedding"].sharding.spec) == ("model", None)
  prompts = jnp.asarray(np.concatenate([_prompts(), _prompts()[:1]]))  # batch 4 over 'data'.
  ref = _greedy_fn(TINY, 10, -1)(params, prompts)
  model = palm.DecoderOnly(TINY)
  with jax.set_mesh(mesh), nn.logical_axis_rules(rules):
    out = jax.jit(lambda p, x: palm_decoding.greedy_decode_prefix(model, p, x, 10, -1))(
        sharded, prompts)
  np.testing.assert_array_equal(out, ref)


def test_train_steps_reduce_loss():
  cfg = TINY.replace(dropout_rate=0.1, dtype="bfloat16", remat_policy="full")
  model, params = _model(cfg)
  rows = [_lm_features([5, 9, 12, 7, 3, 21, 8, 1], prefix_len=3, length=10),
          _lm_features([30, 31, 6, 2, 44, 1], prefix_len=2, length=10)]
  inputs, targets, causal = (np.stack(x) for x in zip(*rows))
  weights = (targets > 0) & (causal == 0)  # loss on targets only, as seqio's default.
  batch = dict(decoder_input_tokens=inputs, decoder_target_tokens=targets,
               decoder_causal_attention=causal)
  tx = optax.adam(3e-3)

  def loss_fn(p, rng):
    logits = model.apply({"params": p}, **batch, enable_dropout=True, rngs={"dropout": rng})
    assert logits.dtype == jnp.float32
    nll = optax.softmax_cross_entropy_with_integer_labels(logits, targets)
    return jnp.sum(nll * weights) / jnp.sum(weights)

  @jax.jit
  def step(p, opt_state, rng):
    loss, grads = jax.value_and_grad(loss_fn)(p, rng)
    updates, opt_state = tx.update(grads, opt_state)
    return optax.apply_updates(p, updates), opt_state, loss

  p = nn.meta.unbox(params)
  opt_state, losses = tx.init(p), []
  for i in range(6):
    p, opt_state, loss = step(p, opt_state, jax.random.PRNGKey(i))
    losses.append(float(loss))
  assert all(np.isfinite(losses)) and losses[-1] < losses[0] - 0.1, losses
  assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(p))


def test_train_flops_count_every_matmul_param():
  _, params = _model()
  matmul = sum(x.size for x in jax.tree.leaves(nn.meta.unbox(params)) if x.ndim == 2)
  attention = 4 * 2 * 10 * 10 * TINY.num_heads * TINY.head_dim * TINY.num_layers
  assert palm.train_flops_per_step(TINY, 2, 10) == 3.0 * (2 * matmul * 20 + attention)


def test_config_validation():
  assert palm.PaLMConfig(dtype=jnp.bfloat16).dtype == "bfloat16"
  for bad in (dict(dtype="float16"), dict(head_dim=7), dict(remat_policy="some"),
              dict(attention_impl="flash")):
    with pytest.raises(ValueError):
      palm.PaLMConfig(**bad)


@pytest.mark.parametrize("size", ["tiny", "small", "base", "large"])
def test_gin_files_bind_valid_configs(size):
  fields, model_binding = {}, None
  for line in (GIN_DIR / f"{size}.gin").read_text().splitlines():
    if line.strip() and not line.startswith("#"):
      name, value = (s.strip() for s in line.split("=", 1))
      if name == "train.model_config":
        model_binding = value
        continue
      assert name.startswith("network.PaLMConfig."), name
      value = 0.1 if value == "%DROPOUT_RATE" else ast.literal_eval(value)
      fields[name.rsplit(".", 1)[1]] = value
  cfg = palm.PaLMConfig(**fields)
  assert model_binding == "@network.PaLMConfig()"  # The file selects the PaLM family.
  assert fields["dropout_rate"] == 0.1
  if size == "tiny":
    assert (cfg.vocab_size, cfg.emb_dim, cfg.num_heads, cfg.head_dim, cfg.num_layers,
            cfg.mlp_dim) == (1024, 128, 4, 32, 2, 512)
