"""Checkpoint round trips, shape checks and plain-Orbax readability."""

import flax.linen as nn
import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

from flan_jax import errors
from flan_jax.models import t5
from flan_jax.runtime import checkpoints, partitioning
from flan_jax.training import optimizers, state
from tests.training.tiny import tiny_config

LENGTHS = {"inputs": 16, "targets": 8}


def _layout_and_state(config, seed=0):
  partition = partitioning.PartitionConfig(num_partitions=2)
  mesh = partitioning.create_mesh(partition)
  rules = partition.rules()
  model = t5.Transformer(config)
  tx = optimizers.make_optimizer(optimizers.OptimizerConfig(name="adamw"), 10)
  with jax.set_mesh(mesh), nn.logical_axis_rules(rules):
    layout = state.state_layout(model, tx, LENGTHS, mesh, rules)
    train_state = state.init_state(model, tx, LENGTHS, layout, seed)
  return layout, train_state


def _assert_trees_equal(a, b):
  for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_round_trip_restores_state_shardings_and_position(tmp_path):
  layout, saved = _layout_and_state(tiny_config(), seed=1)
  saved = saved.replace(step=saved.step + 7)
  store = checkpoints.CheckpointStore(str(tmp_path), period=5)
  assert not store.save(6, saved, 60)           # Off the period: nothing written.
  assert store.save(7, saved, data_position=70, force=True)
  store.close()

  fresh = checkpoints.CheckpointStore(str(tmp_path), period=5)
  assert fresh.latest_step() == 7
  fresh.check_compatible(layout.abstract)
  restored, position = fresh.restore(layout.abstract)
  assert position == 70 and int(restored.step) == 7
  _assert_trees_equal(saved, restored)
  wi = restored.params["encoder"]["layers_0"]["mlp"]["wi_0"]["kernel"]
  assert wi.sharding == layout.shardings.params["encoder"]["layers_0"]["mlp"]["wi_0"]["kernel"]
  params_only, step = fresh.restore_params(layout.abstract.params)
  assert step == 7
  _assert_trees_equal(saved.params, params_only)
  fresh.close()


def test_keeps_only_the_last_checkpoints(tmp_path):
  _, saved = _layout_and_state(tiny_config())
  store = checkpoints.CheckpointStore(str(tmp_path), period=1, keep=2)
  for step in (1, 2, 3):
    store.save(step, saved, step)
  store.close()
  assert sorted(int(p.name) for p in (tmp_path / "checkpoints").iterdir()) == [2, 3]


def test_other_model_shape_is_refused_and_left_intact(tmp_path):
  _, saved = _layout_and_state(tiny_config())
  store = checkpoints.CheckpointStore(str(tmp_path), period=1)
  store.save(1, saved, 0, force=True)
  store.close()
  before = sorted(p.name for p in (tmp_path / "checkpoints" / "1").rglob("*"))
  other_layout, _ = _layout_and_state(tiny_config(emb_dim=48))
  with pytest.raises(errors.CheckpointMismatchError, match="different model shape"):
    checkpoints.CheckpointStore(str(tmp_path), period=1).check_compatible(
        other_layout.abstract)
  assert sorted(p.name for p in (tmp_path / "checkpoints" / "1").rglob("*")) == before


def test_checkpoints_are_plain_orbax(tmp_path):
  _, saved = _layout_and_state(tiny_config())
  store = checkpoints.CheckpointStore(str(tmp_path), period=1)
  store.save(3, saved, 30, force=True)
  store.close()
  manager = ocp.CheckpointManager(str(tmp_path / "checkpoints"))
  restored = manager.restore(3)
  assert restored["data"]["position"] == 30
  kernel = restored["state"]["params"]["decoder"]["logits_dense"]["kernel"]
  np.testing.assert_array_equal(
      np.asarray(kernel), np.asarray(saved.params["decoder"]["logits_dense"]["kernel"]))
