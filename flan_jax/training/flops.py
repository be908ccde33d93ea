"""Model FLOPs utilization (MFU): achieved model FLOP/s over the devices' peak.

Each model family counts its training FLOPs per step (`train_flops_per_step` in
flan_jax/models/t5.py and palm.py): 3 x the forward FLOPs, i.e. 2 x matmul parameters x
tokens for every dense matmul plus the two attention matmuls (QK^T and AV) per layer.
Padding counts as computed work, as on the accelerator. MFU = FLOPs per step x steps/s /
(peak dense bf16 FLOP/s per device x devices).
"""

from __future__ import annotations

import jax

# Peak dense bf16 FLOP/s per device, by jax `device_kind` prefix.
PEAK_FLOPS = {
    "TPU v4": 275e12,
    "TPU v5 lite": 197e12,
    "TPU v5e": 197e12,
    "TPU v5p": 459e12,
    "TPU v5": 459e12,
    "TPU v6 lite": 918e12,
    "NVIDIA H100": 989e12,
    "NVIDIA H200": 989e12,
    "NVIDIA A100": 312e12,
}


def peak_flops_per_device(override: float | None = None) -> float | None:
  """The peak FLOP/s of this job's devices, or None when unknown (e.g. CPU)."""
  if override:
    return override
  kind = jax.devices()[0].device_kind
  for prefix, flops in PEAK_FLOPS.items():
    if kind.startswith(prefix):
      return flops
  return None
