"""T5X checkpoint reading (legacy msgpack + TensorStore, Orbax, in-memory trees)."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import serialization

from flan_jax import errors
from flan_jax.interop import ConversionError
from flan_jax.interop import param_tree
from flan_jax.interop import t5x
from flan_jax.models import t5
from tests.interop.random_params import assert_same, init_params

CFG = t5.T5Config(vocab_size=64, emb_dim=16, num_heads=2, head_dim=12, mlp_dim=24,
                  num_encoder_layers=2, num_decoder_layers=3, dropout_rate=0.0)


@pytest.fixture(scope="module")
def params():
  return init_params(CFG)


def _without_dropout(cfg):
  return cfg.replace(dropout_rate=CFG.dropout_rate)


def test_infer_config_from_in_memory_tree(params):
  for tree in (params, {"target": params}, {"optimizer": {"target": params, "state": {}}}):
    model, loaded = t5x.load_t5(tree, dropout_rate=0.0)
    assert model.config == CFG
    assert_same(loaded, params)


def test_infer_v1_0_architecture(params):
  v10 = CFG.replace(mlp_activations=("relu",), logits_via_embedding=True)
  one = jnp.ones((1, 3), jnp.int32)
  tree = param_tree.unbox(jax.eval_shape(lambda: t5.Transformer(v10).init(
      jax.random.PRNGKey(0), one, one, one))["params"])
  tree = jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), tree)
  model, _ = t5x.load_t5(tree, dropout_rate=0.0)
  assert model.config == v10


def test_legacy_checkpoint_round_trip(params, tmp_path):
  step_dir = t5x.save_legacy(params, str(tmp_path), step=1200)
  assert os.path.isfile(os.path.join(step_dir, "checkpoint"))
  assert os.path.isdir(os.path.join(step_dir, "target.encoder.layers_0.attention.query.kernel"))
  for source in (step_dir, str(tmp_path)):  # a step folder or its parent (latest step).
    model, loaded = t5x.load_t5(source, dropout_rate=0.0)
    assert model.config == CFG
    assert_same(loaded, params)


def test_legacy_inline_arrays_and_gcs_specs(params, tmp_path):
  """T5X keeps unpartitioned arrays inline and may record gcs kvstores."""
  step_dir = t5x.save_legacy(params, str(tmp_path))
  with open(os.path.join(step_dir, "checkpoint"), "rb") as f:
    state = serialization.msgpack_restore(f.read())
  target = state["optimizer"]["target"]
  target["encoder"]["encoder_norm"]["scale"] = params["encoder"]["encoder_norm"]["scale"]
  spec = target["token_embedder"]["embedding"]
  spec["kvstore"] = {"driver": "gcs", "bucket": "t5x-dummy-bucket",
                     "path": spec["kvstore"]["path"]}
  with open(os.path.join(step_dir, "checkpoint"), "wb") as f:
    f.write(serialization.msgpack_serialize(state))
  _, loaded = t5x.load_t5(step_dir)
  assert_same(loaded, params)


def test_orbax_layout(params, tmp_path):
  import orbax.checkpoint as ocp
  ocp.PyTreeCheckpointer().save(str(tmp_path / "checkpoint_5" / "state"),
                                {"target": params, "state": {"step": np.int32(5)}})
  model, loaded = t5x.load_t5(str(tmp_path), dropout_rate=0.0)
  assert model.config == CFG
  assert_same(loaded, params)


def test_scanned_trees_and_scan_config(params):
  stacked = param_tree.stack_layers(params)
  assert stacked["encoder"]["layers"]["attention"]["query"]["kernel"].shape == (16, 2, 24)
  _, loaded = t5x.load_t5(stacked)
  assert_same(loaded, params)
  model, scanned = t5x.load_t5(params, config=CFG.replace(scan_layers=True))
  assert model.config.scan_layers
  assert_same(scanned, stacked)


def test_explicit_config_mismatch_is_one_clear_error(params):
  shape_error = r"token_embedder/embedding \(64, 16\) != \(128, 16\)"
  with pytest.raises(errors.CheckpointMismatchError, match=shape_error):
    t5x.load_t5(params, config=CFG.replace(vocab_size=128))
  with pytest.raises(errors.CheckpointMismatchError, match="missing: decoder/layers_3"):
    t5x.load_t5(params, config=CFG.replace(num_decoder_layers=4))


def test_not_a_checkpoint(tmp_path):
  with pytest.raises(ConversionError, match="not a T5X checkpoint"):
    t5x.load_t5(str(tmp_path))
  with pytest.raises(ConversionError, match="does not exist"):
    t5x.load_t5(str(tmp_path / "nope"))
  with pytest.raises(ConversionError, match="No T5 parameters"):
    t5x.load_t5({"target": {"foo": np.zeros(3)}})
