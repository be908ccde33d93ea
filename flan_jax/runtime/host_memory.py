"""Keeps freed host memory in the process on CPU hosts, so XLA:CPU steps stop page-faulting.

XLA:CPU allocates all temporaries of a compiled step as one block (4.2 GB for T5 v1.1-small
at batch 8 x 512/128) from one of its worker threads, and frees it when the step ends.
glibc serves such a block from a thread's arena with a fresh `mmap` and returns it with
`munmap`, so every step touches about a million new pages that the kernel must fault in and
zero: 5-6 s of system CPU in a 16.2-17.2 s step alone in a process on 2 cores, 10-12 s when
torch's steps run in between. With every thread on the main arena, no `mmap` for large
blocks and no trimming, the block is reused from one step to the next: no page faults from
the second step on, and the step took 13.9 s instead of 16.7 s (`scripts/bench_train.py`;
docs/BENCHMARKS.md, "What closed most of the gap").

The settings must be made before the process starts its threads (before jax or TensorFlow
is imported), so the CLI's entry point calls `keep_freed_memory()` first thing. They are
skipped on hosts with an accelerator (the step's memory is the device's there, and one
malloc arena for every tf.data thread of a large host would only add lock contention), off
glibc, and when FLAN_JAX_HOST_MALLOC=system.
"""

from __future__ import annotations

import ctypes
import glob
import os

ENV_VAR = "FLAN_JAX_HOST_MALLOC"

# glibc's mallopt() parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8

_ACCELERATOR_DEVICES = ("/dev/accel*", "/dev/vfio/[0-9]*", "/dev/nvidia[0-9]*")


def accelerator_host() -> bool:
  """True when JAX_PLATFORMS names a non-CPU platform or accelerator device files exist."""
  platforms = [p.strip() for p in os.environ.get("JAX_PLATFORMS", "").split(",") if p.strip()]
  if platforms:
    return any(p != "cpu" for p in platforms)
  return any(glob.glob(pattern) for pattern in _ACCELERATOR_DEVICES)


def keep_freed_memory() -> bool:
  """Sets glibc malloc to reuse freed memory (see the module docstring); True if it did.

  FLAN_JAX_HOST_MALLOC=system leaves malloc as it is; =reuse applies the settings even on
  a host with an accelerator.
  """
  choice = os.environ.get(ENV_VAR, "auto")
  if choice not in ("auto", "reuse", "system"):
    raise ValueError(f"{ENV_VAR}={choice!r}: use 'auto' (the default), 'reuse' or 'system'.")
  if choice == "system" or (choice == "auto" and accelerator_host()):
    return False
  try:
    mallopt = ctypes.CDLL(None).mallopt
  except (OSError, AttributeError):  # Not glibc (macOS, musl): nothing to set.
    return False
  mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
  # Every thread allocates from the main arena, which grows with brk when mmap is off
  # (other arenas fall back to mmap for blocks over 64 MiB whatever the settings).
  # A trim threshold of -1 means never return the heap's top to the system.
  settings = ((_M_ARENA_MAX, 1), (_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, -1))
  return all(mallopt(param, value) == 1 for param, value in settings)
