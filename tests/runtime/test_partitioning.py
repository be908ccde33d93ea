"""Mesh construction, logical-axis rules and the shardings they give the train state."""

import flax.linen as nn
import jax
import pytest
from jax.sharding import PartitionSpec as P

from flan_jax import errors
from flan_jax.models import t5
from flan_jax.runtime import partitioning
from flan_jax.training import optimizers, state
from tests.training.tiny import tiny_config


def test_num_partitions_gives_data_by_model_mesh():
  mesh = partitioning.create_mesh(partitioning.PartitionConfig(num_partitions=2))
  assert dict(mesh.shape) == {"data": 4, "fsdp": 1, "model": 2}


def test_explicit_mesh_shape_with_wildcard():
  config = partitioning.PartitionConfig(mesh_shape={"data": -1, "fsdp": 2, "model": 2})
  assert dict(partitioning.create_mesh(config).shape) == {"data": 2, "fsdp": 2, "model": 2}


def test_model_parallel_submesh_counts_its_devices():
  config = partitioning.PartitionConfig(model_parallel_submesh=(1, 1, 2, 2))
  assert partitioning.resolve_mesh_shape(config, 8)["model"] == 4


@pytest.mark.parametrize("config, message", [
    (partitioning.PartitionConfig(num_partitions=3), "does not divide the 8 devices"),
    (partitioning.PartitionConfig(mesh_shape={"data": 3, "model": 2}), "has 6 slots"),
    (partitioning.PartitionConfig(mesh_shape={"data": 2, "expert": 4}), "unknown axes"),
    (partitioning.PartitionConfig(num_partitions=2, mesh_shape={"data": 4}), "only one"),
])
def test_bad_mesh_is_a_config_error(config, message):
  with pytest.raises(errors.ConfigError, match=message):
    partitioning.create_mesh(config)


def _layout(partition: partitioning.PartitionConfig, config=None):
  config = config or tiny_config()
  mesh = partitioning.create_mesh(partition)
  rules = partition.rules()
  tx = optimizers.make_optimizer(optimizers.OptimizerConfig(), 10)
  with jax.set_mesh(mesh), nn.logical_axis_rules(rules):
    layout = state.state_layout(t5.Transformer(config), tx,
                                {"inputs": 16, "targets": 8}, mesh, rules)
  return mesh, rules, layout


def test_mlp_kernels_split_over_model_and_batch_over_data():
  mesh, rules, layout = _layout(partitioning.PartitionConfig(num_partitions=2))
  mlp = layout.shardings.params["encoder"]["layers_0"]["mlp"]
  assert mlp["wi_0"]["kernel"].spec == P(None, "model")
  assert mlp["wo"]["kernel"].spec == P("model", None)
  attention = layout.shardings.params["decoder"]["layers_1"]["self_attention"]
  assert attention["query"]["kernel"].spec == P(None, "model")
  assert layout.shardings.params["token_embedder"]["embedding"].spec == P("model", None)
  assert tuple(layout.shardings.params["encoder"]["encoder_norm"]["scale"].spec) in (
      (), (None,))
  assert partitioning.batch_sharding(mesh, rules).spec[0] == ("data", "fsdp")
  assert partitioning.data_parallel_size(mesh, rules) == 4


def test_fsdp_rules_shard_embed_over_data_axes():
  _, _, layout = _layout(partitioning.PartitionConfig(
      mesh_shape={"data": 1, "fsdp": 4, "model": 2}, fsdp=True))
  wi = layout.shardings.params["encoder"]["layers_0"]["mlp"]["wi_0"]["kernel"]
  assert wi.spec == P(("data", "fsdp"), "model")


def test_factored_adafactor_state_follows_its_parameter():
  # Dimensions >= 128 make Adafactor factor the second moment into v_row / v_col.
  config = tiny_config(emb_dim=128, mlp_dim=256, num_heads=4, head_dim=32, vocab_size=256)
  _, _, layout = _layout(partitioning.PartitionConfig(num_partitions=2), config)
  factored = layout.shardings.opt_state[0]
  wi_param = layout.abstract.params["encoder"]["layers_0"]["mlp"]["wi_0"]["kernel"]
  v_col = layout.abstract.opt_state[0].v_col["encoder"]["layers_0"]["mlp"]["wi_0"]["kernel"]
  assert wi_param.shape == (128, 256) and v_col.shape == (256,)
  assert factored.v_col["encoder"]["layers_0"]["mlp"]["wi_0"]["kernel"].spec == P("model",)
  assert factored.v_row["encoder"]["layers_0"]["mlp"]["wi_0"]["kernel"].spec == P(None,)
