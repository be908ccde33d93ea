"""Device meshes and logical-axis partitioning, T5X style.

Every parameter and activation carries logical axis names ('embed', 'mlp', 'batch', ...).
One rules table maps those names to mesh axes ('data', 'fsdp', 'model'); changing the
table re-shards the whole model without touching model code.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping, Sequence

import flax.linen as nn
import jax
import numpy as np
from jax.experimental import mesh_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from flan_jax import errors

MESH_AXES = ("data", "fsdp", "model")
LogicalRules = Sequence[tuple[str, Any]]


def standard_logical_axis_rules(fsdp: bool = False) -> tuple[tuple[str, Any], ...]:
  """T5X's default rules: batch over data, wide dims over model, the rest replicated.

  With `fsdp=True`, 'embed' is also sharded over the data-parallel axes (T5X's 2-D
  parameter sharding), so parameters and optimizer state are split across data replicas.
  """
  batch_axes = ("data", "fsdp")
  return (
      ("batch", batch_axes),
      ("vocab", "model"),
      ("mlp", "model"),
      ("heads", "model"),
      ("joined_kv", "model"),
      ("kv", None),
      ("embed", batch_axes if fsdp else None),
      ("length", None),
      ("layers", None),
      ("relpos_buckets", None),
      ("stack", None),
  )


@dataclasses.dataclass(frozen=True)
class PartitionConfig:
  """How to lay the model over devices (bound from gin at the entry point).

  Give at most one of `num_partitions` (T5X: model-parallel ways), `model_parallel_submesh`
  (T5X: a (x, y, z, core) TPU submesh whose size is the model-parallel ways) or
  `mesh_shape` (explicit {'data': d, 'fsdp': f, 'model': m}; -1 fills the rest).
  """
  num_partitions: int | None = None
  model_parallel_submesh: tuple[int, ...] | None = None
  mesh_shape: Mapping[str, int] | None = None
  fsdp: bool = False
  logical_axis_rules: LogicalRules | None = None

  def rules(self) -> LogicalRules:
    return self.logical_axis_rules or standard_logical_axis_rules(self.fsdp)


def resolve_mesh_shape(config: PartitionConfig, num_devices: int) -> dict[str, int]:
  """Turns a PartitionConfig into {'data', 'fsdp', 'model'} sizes, or raises ConfigError."""
  given = sum(x is not None for x in
              (config.num_partitions, config.model_parallel_submesh, config.mesh_shape))
  if given > 1:
    raise errors.ConfigError(
        "PartitionConfig: set only one of num_partitions, model_parallel_submesh and "
        "mesh_shape.")
  if config.mesh_shape is not None:
    unknown = set(config.mesh_shape) - set(MESH_AXES)
    if unknown:
      raise errors.ConfigError(
          f"PartitionConfig.mesh_shape has unknown axes {sorted(unknown)}; use {MESH_AXES}.")
    shape = {axis: int(config.mesh_shape.get(axis, 1)) for axis in MESH_AXES}
    return _fill_wildcard(shape, num_devices)
  model = 1
  if config.num_partitions is not None:
    model = int(config.num_partitions)
  elif config.model_parallel_submesh is not None:
    model = int(math.prod(config.model_parallel_submesh))
  if model < 1 or num_devices % model:
    raise errors.ConfigError(
        f"Model parallelism of {model} does not divide the {num_devices} devices; set "
        f"num_partitions to a divisor of {num_devices}.")
  data = num_devices // model
  if config.fsdp:
    return {"data": 1, "fsdp": data, "model": model}
  return {"data": data, "fsdp": 1, "model": model}


def _fill_wildcard(shape: dict[str, int], num_devices: int) -> dict[str, int]:
  wild = [axis for axis, size in shape.items() if size == -1]
  if len(wild) > 1:
    raise errors.ConfigError(f"mesh_shape {shape}: at most one axis may be -1.")
  known = math.prod(size for size in shape.values() if size != -1)
  if wild:
    if known < 1 or num_devices % known:
      raise errors.ConfigError(
          f"mesh_shape {shape} cannot fill {num_devices} devices: {known} does not "
          f"divide {num_devices}.")
    shape[wild[0]] = num_devices // known
  if math.prod(shape.values()) != num_devices:
    raise errors.ConfigError(
        f"mesh_shape {shape} has {math.prod(shape.values())} slots but there are "
        f"{num_devices} devices; make the product of the axis sizes {num_devices} "
        "(or use -1 for one axis).")
  return shape


def create_mesh(config: PartitionConfig, devices: Sequence[Any] | None = None) -> Mesh:
  """Builds a ('data', 'fsdp', 'model') mesh over all (or the given) devices."""
  devices = list(jax.devices() if devices is None else devices)
  shape = resolve_mesh_shape(config, len(devices))
  dims = [shape[axis] for axis in MESH_AXES]
  try:
    grid = mesh_utils.create_device_mesh(dims, devices)
  except (ValueError, AssertionError, NotImplementedError):
    # CPU / emulated devices have no physical topology; a plain reshape is fine there.
    grid = np.asarray(devices).reshape(dims)
  return Mesh(grid, MESH_AXES)


def logical_to_sharding(logical_specs: Any, mesh: Mesh, rules: LogicalRules) -> Any:
  """Maps a pytree of logical PartitionSpecs to NamedShardings on `mesh`."""
  return nn.logical_to_mesh_sharding(logical_specs, mesh, list(rules))


def batch_sharding(mesh: Mesh, rules: LogicalRules) -> NamedSharding:
  """Sharding of a [batch, length] input array: batch split over the data axes."""
  spec = nn.logical_to_mesh_axes(("batch", "length"), list(rules))
  return NamedSharding(mesh, spec)


def data_parallel_size(mesh: Mesh, rules: LogicalRules) -> int:
  """How many ways the batch dimension is split."""
  axes = batch_sharding(mesh, rules).spec[0]
  if axes is None:
    return 1
  axes = (axes,) if isinstance(axes, str) else axes
  return math.prod(mesh.shape[a] for a in axes)


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, PartitionSpec())


def opt_state_shardings(abstract_opt_state: Any, abstract_params: Any,
                        param_shardings: Any, mesh: Mesh) -> Any:
  """Shards optimizer state like the parameters it belongs to.

  Optax states hold param-shaped subtrees (momenta) and factored statistics with one
  axis reduced (Adafactor's v_row / v_col). A leaf whose dict-key path ends with a
  parameter's path gets that parameter's spec (with the reduced axis dropped); anything
  else (counts, scalars) is replicated.
  """
  params_by_path = {}
  flat_params = jax.tree_util.tree_flatten_with_path(abstract_params)[0]
  flat_shardings = jax.tree_util.tree_leaves(param_shardings)
  for (path, param), sharding in zip(flat_params, flat_shardings):
    params_by_path[_dict_keys(path)] = (param.shape, sharding)

  def shard_leaf(path, leaf):
    keys = _dict_keys(path)
    for start in range(len(keys)):
      found = params_by_path.get(keys[start:])
      if found is not None:
        return NamedSharding(mesh, _matching_spec(leaf.shape, *found, mesh))
    return replicated(mesh)

  return jax.tree_util.tree_map_with_path(shard_leaf, abstract_opt_state)


def _dict_keys(path) -> tuple:
  return tuple(getattr(k, "key", getattr(k, "name", None)) for k in path
               if isinstance(k, (jax.tree_util.DictKey, jax.tree_util.GetAttrKey)))


def _matching_spec(shape, param_shape, param_sharding: NamedSharding,
                   mesh: Mesh) -> PartitionSpec:
  spec = tuple(param_sharding.spec) + (None,) * (len(param_shape) - len(param_sharding.spec))
  if tuple(shape) == tuple(param_shape):
    return PartitionSpec(*spec)
  if len(shape) == len(param_shape) - 1:
    for drop in range(len(param_shape) - 1, -1, -1):
      if param_shape[:drop] + param_shape[drop + 1:] == tuple(shape):
        candidate = spec[:drop] + spec[drop + 1:]
        if _divides(shape, candidate, mesh):
          return PartitionSpec(*candidate)
  return PartitionSpec()


def _divides(shape, spec, mesh: Mesh) -> bool:
  for size, axes in zip(shape, spec):
    if axes is None:
      continue
    axes = (axes,) if isinstance(axes, str) else axes
    if size % math.prod(mesh.shape[a] for a in axes):
      return False
  return True
