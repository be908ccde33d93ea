"""The jitted train step on the 8-device mesh: it learns, and microbatching is exact."""

import flax.linen as nn
import jax
import numpy as np
import pytest

from flan_jax.models import t5
from flan_jax.runtime import partitioning
from flan_jax.training import losses, optimizers, state, steps
from tests.training.tiny import copy_batch, tiny_config


def _setup(optimizer=optimizers.OptimizerConfig(learning_rate=1e-2)):
  partition = partitioning.PartitionConfig(num_partitions=2)
  mesh = partitioning.create_mesh(partition)
  rules = partition.rules()
  model = t5.Transformer(tiny_config())
  tx = optimizers.make_optimizer(optimizer, 100)
  lengths = {"inputs": 24, "targets": 12}
  with jax.set_mesh(mesh), nn.logical_axis_rules(rules):
    layout = state.state_layout(model, tx, lengths, mesh, rules)
    train_state = state.init_state(model, tx, lengths, layout, seed=0)
  sharding = partitioning.batch_sharding(mesh, rules)
  batch = {k: jax.device_put(v, sharding) for k, v in copy_batch().items()}
  return mesh, rules, model, tx, layout, train_state, batch, sharding


def _jit_step(model, tx, layout, sharding, microbatches=1, loss=losses.LossConfig()):
  fn = steps.make_train_step(model, tx, loss, microbatches)
  return jax.jit(fn, in_shardings=(layout.shardings, sharding, None),
                 out_shardings=(layout.shardings, None))


def test_loss_goes_down_on_the_mesh():
  mesh, rules, model, tx, layout, train_state, batch, sharding = _setup()
  with jax.set_mesh(mesh), nn.logical_axis_rules(rules):
    step = _jit_step(model, tx, layout, sharding)
    history = []
    for _ in range(25):
      train_state, metrics = step(train_state, batch, jax.random.PRNGKey(0))
      history.append(float(metrics["loss"]))
  assert int(train_state.step) == 25
  assert history[-1] < 0.5 * history[0], history
  wi = train_state.params["encoder"]["layers_0"]["mlp"]["wi_0"]["kernel"]
  assert wi.sharding.spec == jax.sharding.PartitionSpec(None, "model")


@pytest.mark.parametrize("optimizer", ["adafactor", "adamw"])
def test_microbatches_give_the_same_update(optimizer):
  config = optimizers.OptimizerConfig(name=optimizer, learning_rate=1e-2)
  mesh, rules, model, tx, layout, train_state, batch, sharding = _setup(config)
  with jax.set_mesh(mesh), nn.logical_axis_rules(rules):
    one, m1 = _jit_step(model, tx, layout, sharding, 1)(train_state, batch,
                                                         jax.random.PRNGKey(0))
    two, m2 = _jit_step(model, tx, layout, sharding, 2)(train_state, batch,
                                                         jax.random.PRNGKey(0))
  np.testing.assert_allclose(m1["loss"], m2["loss"], rtol=1e-5)
  np.testing.assert_allclose(m1["grad_norm"], m2["grad_norm"], rtol=1e-4)
  for a, b in zip(jax.tree_util.tree_leaves(one.params), jax.tree_util.tree_leaves(two.params)):
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_eval_step_reports_teacher_forced_metrics():
  mesh, rules, model, tx, layout, train_state, batch, sharding = _setup()
  with jax.set_mesh(mesh), nn.logical_axis_rules(rules):
    metrics = jax.jit(steps.make_eval_step(model, losses.LossConfig()))(
        train_state.params, batch)
  assert float(metrics["num_tokens"]) == 16 * 10
  assert 0.0 <= float(metrics["accuracy"]) <= 1.0
  assert np.isfinite(float(metrics["loss"]))
