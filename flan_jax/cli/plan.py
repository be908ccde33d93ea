"""`flan-jax plan --gin_file=... --mesh data=64,model=4 --hbm 32GiB`: will it fit?

Compiles the train step ahead of time for an emulated CPU mesh of the target size, with
abstract parameters (nothing is allocated), and prints per-device memory (parameters,
optimizer state, batch, temporaries), FLOPs per step and whether it fits in --hbm.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

# Macros a run config leaves %gin.REQUIRED that a plan does not use.
_UNUSED_REQUIRED = {"MODEL_DIR": "'/tmp/flan_jax_plan_unused'",
                    "MIXTURE_OR_TASK_NAME": "'unused_by_plan'", "TRAIN_STEPS": "1000"}


def build_parser() -> argparse.ArgumentParser:
  from flan_jax.cli import gin_flags
  parser = argparse.ArgumentParser(
      formatter_class=argparse.ArgumentDefaultsHelpFormatter,
      prog="flan-jax plan",
      description="Per-device memory and FLOPs of a training config on a target mesh, "
                  "compiled ahead of time on this machine. Example: flan-jax plan "
                  "--gin_file=models/t5_1_1/xxl.gin --gin_file=runs/finetune.gin "
                  "--mesh data=64,model=4 --hbm 32GiB")
  gin_flags.add_gin_arguments(parser)
  parser.add_argument("--mesh", required=True,
                      help="target mesh as AXIS=SIZE pairs over data, fsdp, model, e.g. "
                           "data=64,model=4 (256 devices).")
  parser.add_argument("--hbm", default=None,
                      help="memory per device, e.g. 32GiB (TPU v4), 16GiB (v5e), 80GB (H100).")
  parser.add_argument("--no_compile", action="store_true",
                      help="parameters and optimizer state only (no XLA compile; instant).")
  parser.add_argument("--json", action="store_true", help="print the plan as JSON.")
  return parser


def main(argv: list[str]) -> int:
  from flan_jax.cli import gin_flags
  argv, overrides = gin_flags.split_gin_overrides(argv)
  args = build_parser().parse_args(argv)
  _emulate_devices(_device_count(args.mesh))
  import jax
  from flan_jax.training import planning
  mesh_shape = planning.parse_mesh(args.mesh)
  hbm = planning.parse_bytes(args.hbm) if args.hbm else None
  gin_flags.parse_gin(args.gin_file, args.gin_bindings + overrides, args.gin_search_paths)
  bound = _train_arguments(args.gin_file, args.gin_bindings + overrides, args.gin_search_paths)
  config, partition = bound["config"], bound["partitioning"]
  from flan_jax.training import losses, optimizers
  plan = planning.plan_train_step(
      bound["model_config"], config.batch_size, config.task_feature_lengths, mesh_shape,
      optimizer=bound.get("optimizer", optimizers.OptimizerConfig()),
      loss=bound.get("loss", losses.LossConfig()),
      logical_axis_rules=partition.logical_axis_rules, fsdp=partition.fsdp,
      num_microbatches=config.num_microbatches, pack=config.pack,
      compile=not args.no_compile, hbm_bytes=hbm, devices=jax.devices())
  if args.json:
    print(json.dumps(dict(vars(plan), total_bytes=plan.total_bytes, fits=plan.fits)))
  else:
    print(f"{type(bound['model_config']).__name__}, batch {config.batch_size}, lengths "
          f"{dict(config.task_feature_lengths)}, {bound.get('optimizer').name}")
    print(plan.format())
  return 0


def _device_count(mesh: str) -> int:
  """The number of devices a --mesh asks for (validated later by planning.parse_mesh)."""
  sizes = [part.partition("=")[2].strip() for part in mesh.split(",") if part]
  return math.prod(int(s) for s in sizes if s.isdigit()) or 1


def _emulate_devices(count: int) -> None:
  """Asks XLA for `count` CPU devices; must run before jax starts its backend."""
  from jax._src import xla_bridge
  if xla_bridge.backends_are_initialized():
    import jax
    if jax.device_count() < count:
      from flan_jax import errors
      raise errors.ConfigError(
          f"The mesh needs {count} devices but jax already started with "
          f"{jax.device_count()}; run `flan-jax plan` in a fresh process.")
    return
  flags = os.environ.get("XLA_FLAGS", "")
  os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={count}".strip()
  os.environ["JAX_PLATFORMS"] = "cpu"
  os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")


def _train_arguments(files, bindings, search_paths) -> dict:
  """The configs gin binds to `train`, with run-only macros the config left required filled."""
  import gin
  from flan_jax.cli import gin_flags
  missing = []
  for macro, placeholder in _UNUSED_REQUIRED.items():
    try:
      value = gin.query_parameter(f"{macro}/macro.value")
    except ValueError:
      continue
    if "REQUIRED" in repr(value):
      missing.append(f"{macro} = {placeholder}")
  if missing:
    gin.clear_config()
    gin_flags.parse_gin(files, list(bindings) + missing, search_paths)
  return gin.get_bindings("train")


if __name__ == "__main__":
  from flan_jax.cli.main import run_user_facing
  sys.exit(run_user_facing(main, sys.argv[1:]))
