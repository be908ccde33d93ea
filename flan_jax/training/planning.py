"""Will a training job fit? Per-device memory and FLOPs of the train step, without allocating.

The state layout gives exact per-device bytes of parameters and optimizer state (each
array's shard shape on the mesh); compiling the jitted train step ahead of time for abstract
inputs gives XLA's own per-device figures for the batch, temporaries (activations kept for
the backward pass, gradients, workspace) and FLOPs. Nothing is allocated on any device.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from flan_jax import errors
from flan_jax.models import families
from flan_jax.runtime import partitioning
from flan_jax.training import losses, optimizers, state, steps

_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_bytes(text: str) -> int:
  """'32GiB', '16 GB', '1.5TiB', '1024' -> bytes."""
  cleaned = text.strip().upper().replace(" ", "")
  number = cleaned.rstrip("KMGTIB")
  unit = cleaned[len(number):]
  try:
    value = float(number)
  except ValueError:
    value = -1.0
  if unit not in _UNITS or value < 0:
    raise errors.ConfigError(f"Cannot read {text!r} as a memory size; write e.g. 32GiB or 16GB.")
  return int(value * _UNITS[unit])


def parse_mesh(text: str) -> dict[str, int]:
  """'data=64,model=4' -> {'data': 64, 'fsdp': 1, 'model': 4}."""
  shape = {axis: 1 for axis in partitioning.MESH_AXES}
  for part in filter(None, text.split(",")):
    axis, _, size = part.partition("=")
    if axis.strip() not in shape or not size.strip().isdigit() or int(size) < 1:
      raise errors.ConfigError(
          f"--mesh {text!r}: write AXIS=SIZE pairs over {partitioning.MESH_AXES}, e.g. "
          "data=64,model=4.")
    shape[axis.strip()] = int(size)
  return shape


def sharded_bytes(tree: Any) -> int:
  """Bytes one device holds of a tree of arrays / ShapeDtypeStructs carrying shardings.

  With uneven shards the largest shard counts (the device that holds it sets the peak).
  """
  total = 0
  for leaf in jax.tree.leaves(tree):
    shape = leaf.sharding.shard_shape(leaf.shape) if leaf.sharding is not None else leaf.shape
    total += math.prod(shape) * jnp.dtype(leaf.dtype).itemsize
  return total


@dataclasses.dataclass(frozen=True)
class TrainPlan:
  """Per-device memory (bytes) and FLOPs of one train step on a mesh."""
  mesh: Mapping[str, int]
  num_params: int
  params_bytes: int
  optimizer_bytes: int
  batch_bytes: int
  temp_bytes: int | None          # XLA temporaries: saved activations, gradients, workspace.
  activation_bytes: int | None    # Of which: activations saved for the backward pass.
  xla_flops_per_device: float | None
  model_flops_per_step: float     # The family's analytic count, all devices together.
  hbm_bytes: int | None = None

  @property
  def total_bytes(self) -> int:
    return (self.params_bytes + self.optimizer_bytes + self.batch_bytes +
            (self.temp_bytes or 0))

  @property
  def fits(self) -> bool | None:
    return None if self.hbm_bytes is None else self.total_bytes <= self.hbm_bytes

  def format(self) -> str:
    gib = lambda n: "n/a" if n is None else f"{n / 2**30:,.2f} GiB"
    devices = math.prod(self.mesh.values())
    lines = [
        f"mesh {dict(self.mesh)} ({devices} devices), {self.num_params:,} parameters",
        "per device:",
        f"  parameters        {gib(self.params_bytes)}",
        f"  optimizer state   {gib(self.optimizer_bytes)}",
        f"  batch             {gib(self.batch_bytes)}",
        f"  temporaries       {gib(self.temp_bytes)}  (XLA temp buffers: activations, "
        "gradients, workspace)",
        f"    of which saved activations  {gib(self.activation_bytes)}",
        f"  total             {gib(self.total_bytes)}",
        f"FLOPs per step: model {self.model_flops_per_step:.3e} (all devices), "
        + ("XLA n/a" if self.xla_flops_per_device is None else
           f"XLA {self.xla_flops_per_device:.3e} per device"),
    ]
    if self.hbm_bytes is not None:
      verdict = "FITS" if self.fits else "DOES NOT FIT"
      lines.append(f"{verdict} in {gib(self.hbm_bytes)} per device "
                   f"({self.total_bytes / self.hbm_bytes:.0%} used)" +
                   ("" if self.temp_bytes is not None else
                    "; temporaries NOT counted (compile without --no_compile to include them)"))
    return "\n".join(lines)


def abstract_batch(family: families.ModelFamily, batch_size: int,
                   task_feature_lengths: Mapping[str, int], pack: bool,
                   sharding: Any) -> dict[str, jax.ShapeDtypeStruct]:
  """The shapes of a packed SeqIO train batch, as the family's feature converter emits it."""
  lengths = family.feature_converter(pack).get_model_feature_lengths(dict(task_feature_lengths))
  return {k: jax.ShapeDtypeStruct((batch_size, n), jnp.int32, sharding=sharding)
          for k, n in lengths.items()}


def plan_train_step(model_config: Any, batch_size: int, task_feature_lengths: Mapping[str, int],
                    mesh_shape: Mapping[str, int],
                    optimizer: optimizers.OptimizerConfig = optimizers.OptimizerConfig(),
                    loss: losses.LossConfig = losses.LossConfig(),
                    logical_axis_rules: Sequence | None = None, fsdp: bool = False,
                    num_microbatches: int = 1, pack: bool = True, compile: bool = True,
                    hbm_bytes: int | None = None,
                    devices: Sequence[Any] | None = None) -> TrainPlan:
  """Plans the trainer's jitted step for `mesh_shape` over `devices` (default: all).

  `compile=False` skips XLA (parameters and optimizer state only, in milliseconds).
  """
  family = families.family_of(model_config)
  partition = partitioning.PartitionConfig(mesh_shape=dict(mesh_shape), fsdp=fsdp,
                                           logical_axis_rules=logical_axis_rules)
  devices = list(jax.devices() if devices is None else devices)
  sizes = list(mesh_shape.values())
  needed = len(devices) if -1 in sizes else math.prod(sizes)
  if needed > len(devices):
    raise errors.ConfigError(
        f"The mesh {dict(mesh_shape)} needs {needed} devices but only {len(devices)} exist; "
        "`flan-jax plan` emulates them (XLA --xla_force_host_platform_device_count).")
  mesh = partitioning.create_mesh(partition, devices[:needed])
  rules = partition.rules()
  model = family.build(model_config)
  tx = optimizers.make_optimizer(optimizer, total_steps=1000)
  with jax.set_mesh(mesh), nn.logical_axis_rules(rules):
    layout = state.state_layout(model, tx, task_feature_lengths, mesh, rules)
    batch_sharding = partitioning.batch_sharding(mesh, rules)
    batch = abstract_batch(family, batch_size, task_feature_lengths, pack, batch_sharding)
    temp = activations = xla_flops = None
    if compile:
      train_step = steps.make_train_step(model, tx, loss, num_microbatches)
      jitted = steps.jit_train_step(train_step, layout.shardings, batch_sharding)
      rng = jax.ShapeDtypeStruct((2,), jnp.uint32)
      compiled = jitted.lower(layout.abstract, batch, rng).compile()
      memory = compiled.memory_analysis()
      temp = int(memory.temp_size_in_bytes) if memory is not None else None
      cost = compiled.cost_analysis()
      cost = cost[0] if isinstance(cost, (list, tuple)) else cost
      xla_flops = float(cost["flops"]) if cost and "flops" in cost else None
      activations = _saved_activation_bytes(model, layout, batch, loss, mesh)
  num_params = sum(math.prod(x.shape) for x in jax.tree.leaves(layout.abstract.params))
  return TrainPlan(
      mesh=dict(mesh.shape), num_params=num_params,
      params_bytes=sharded_bytes(layout.abstract.params),
      optimizer_bytes=sharded_bytes(layout.abstract.opt_state),
      batch_bytes=sharded_bytes(batch), temp_bytes=temp, activation_bytes=activations,
      xla_flops_per_device=xla_flops,
      model_flops_per_step=family.train_flops(model_config, batch_size, task_feature_lengths),
      hbm_bytes=hbm_bytes)


def _saved_activation_bytes(model, layout, batch, loss_config, mesh) -> int | None:
  """Per-device bytes of the residuals the backward pass keeps (batch split over data)."""
  try:
    from jax._src.ad_checkpoint import saved_residuals
  except ImportError:  # A private helper; the plan still has XLA's temp total.
    return None

  def loss_of(params, batch):
    return steps.loss_sum(params, batch, model, loss_config, None)[0]

  residuals = saved_residuals(loss_of, layout.abstract.params, batch)
  data_ways = partitioning.data_parallel_size(mesh, partitioning.standard_logical_axis_rules())
  batch_size = next(iter(batch.values())).shape[0]
  total = 0
  for aval, _ in residuals:
    shape = getattr(aval, "shape", ())
    size = math.prod(shape) * jnp.dtype(aval.dtype).itemsize
    # Activations carry the batch first and are split over the data axes; params are not.
    total += size // data_ways if shape and shape[0] == batch_size else 0
  return total
