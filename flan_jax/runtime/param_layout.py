"""Where a model's parameters live on the mesh, computed without allocating them.

Training (the train state) and evaluation/inference (restoring parameters) both need it.
"""

from __future__ import annotations

from typing import Any, Mapping

import flax.linen as nn
import jax
from jax.sharding import Mesh

from flan_jax.models import families
from flan_jax.runtime import partitioning


def dummy_inputs(model: nn.Module,
                 task_feature_lengths: Mapping[str, int]) -> dict[str, jax.Array]:
  """A small stand-in batch for `model.init`, shaped for the model's family."""
  return families.family_of(model.config).dummy_inputs(task_feature_lengths)


def param_layout(model: nn.Module, task_feature_lengths: Mapping[str, int], mesh: Mesh,
                 rules: partitioning.LogicalRules) -> tuple[Any, Any, Any]:
  """(abstract params carrying their shardings, the shardings, the logical specs)."""
  init = lambda r: model.init(r, **dummy_inputs(model, task_feature_lengths),
                              enable_dropout=False)["params"]
  boxed = jax.eval_shape(init, jax.random.PRNGKey(0))
  logical_specs = nn.get_partition_spec(boxed)
  shardings = partitioning.logical_to_sharding(logical_specs, mesh, rules)
  # Unboxing inside eval_shape keeps flax's sharding constraint off host-side structs.
  plain = jax.eval_shape(lambda r: nn.meta.unbox(init(r)), jax.random.PRNGKey(0))
  abstract = jax.tree_util.tree_map(
      lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s), plain, shardings)
  return abstract, shardings, logical_specs
