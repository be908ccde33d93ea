"""Multi-host start-up through JAX's own distributed runtime (`jax.distributed`)."""

from __future__ import annotations

import argparse
import os


def add_distributed_arguments(parser: argparse.ArgumentParser) -> None:
  parser.add_argument(
      "--multiprocess", action="store_true",
      help="call jax.distributed.initialize(); on Cloud TPU pods and SLURM/Kubernetes GPU "
           "clusters JAX discovers the coordinator itself.")
  parser.add_argument("--coordinator_address", default=os.environ.get(
      "JAX_COORDINATOR_ADDRESS"), help="host:port of process 0 (implies --multiprocess).")
  parser.add_argument("--num_processes", type=int, default=_env_int("JAX_NUM_PROCESSES"),
                      help="number of processes (hosts) with --coordinator_address.")
  parser.add_argument("--process_id", type=int, default=_env_int("JAX_PROCESS_ID"),
                      help="this process's index, 0 .. num_processes - 1.")
  parser.add_argument("--cpu_devices", type=int, default=None,
                      help="emulate N CPU devices (smoke tests); set before jax starts.")


def _env_int(name: str) -> int | None:
  value = os.environ.get(name)
  return int(value) if value else None


def configure_before_jax(args: argparse.Namespace) -> None:
  """Settings that must be in place before jax is first imported."""
  if args.cpu_devices:
    flags = os.environ.get("XLA_FLAGS", "")
    os.environ["XLA_FLAGS"] = (
        f"{flags} --xla_force_host_platform_device_count={args.cpu_devices}").strip()
    os.environ["JAX_PLATFORMS"] = "cpu"
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # TensorFlow: no GPU probing.


def initialize(args: argparse.Namespace) -> None:
  """Joins the distributed runtime when asked (one call per process, before any jax op)."""
  if not (args.multiprocess or args.coordinator_address):
    return
  import jax
  kwargs = {}
  if args.coordinator_address:
    kwargs = dict(coordinator_address=args.coordinator_address,
                  num_processes=args.num_processes, process_id=args.process_id)
    if args.cpu_devices:
      jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.distributed.initialize(**kwargs)
