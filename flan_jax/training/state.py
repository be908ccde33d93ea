"""Building the sharded train state: abstract shapes, shardings, initialization."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from jax.sharding import Mesh

from flan_jax.runtime import partitioning
from flan_jax.runtime.param_layout import dummy_inputs, param_layout
from flan_jax.training.steps import TrainState


@dataclasses.dataclass(frozen=True)
class StateLayout:
  """Abstract train state and where each piece lives on the mesh."""
  abstract: TrainState
  shardings: TrainState
  logical_param_specs: Any


def make_init_fn(model: nn.Module, tx: optax.GradientTransformation,
                 task_feature_lengths: Mapping[str, int]):
  def init_fn(rng: jax.Array) -> TrainState:
    boxed = model.init(rng, **dummy_inputs(model, task_feature_lengths), enable_dropout=False)
    params = nn.meta.unbox(boxed["params"])
    return TrainState(step=jnp.zeros((), jnp.int32), params=params,
                      opt_state=tx.init(params))
  return init_fn


def state_layout(model: nn.Module, tx: optax.GradientTransformation,
                 task_feature_lengths: Mapping[str, int], mesh: Mesh,
                 rules: partitioning.LogicalRules) -> StateLayout:
  """Shapes and shardings of the train state, computed without allocating it."""
  abstract_params, param_shardings, logical_specs = param_layout(
      model, task_feature_lengths, mesh, rules)
  abstract_opt = jax.eval_shape(tx.init, abstract_params)
  shardings = TrainState(
      step=partitioning.replicated(mesh),
      params=param_shardings,
      opt_state=partitioning.opt_state_shardings(
          abstract_opt, abstract_params, param_shardings, mesh))
  abstract = TrainState(step=jax.ShapeDtypeStruct((), jnp.int32), params=abstract_params,
                        opt_state=abstract_opt)
  abstract = jax.tree_util.tree_map(
      lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s), abstract, shardings)
  return StateLayout(abstract=abstract, shardings=shardings, logical_param_specs=logical_specs)


def init_state(model: nn.Module, tx: optax.GradientTransformation,
               task_feature_lengths: Mapping[str, int], layout: StateLayout,
               seed: int, initial_params: Any | None = None) -> TrainState:
  """Initializes the state directly in its shardings (no host-side full copy)."""
  init_fn = make_init_fn(model, tx, task_feature_lengths)
  state = jax.jit(init_fn, out_shardings=layout.shardings)(jax.random.PRNGKey(seed))
  if initial_params is None:
    return state
  params = jax.tree_util.tree_map(
      lambda x, s: jax.device_put(jnp.asarray(x, s.dtype), s.sharding),
      initial_params, layout.abstract.params)
  opt_state = jax.jit(tx.init, out_shardings=layout.shardings.opt_state)(params)
  return state.replace(params=params, opt_state=opt_state)
