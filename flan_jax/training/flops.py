"""Model FLOPs per training step and model FLOPs utilization (MFU).

Training FLOPs per step = 3 x forward FLOPs (forward + backward), where the forward
FLOPs of a T5 encoder-decoder over a [batch, length] padded batch are

  2 * (encoder matmul params * batch * L_in + decoder matmul params * batch * L_out)
  + 4 * batch * heads * head_dim * (enc_layers * L_in^2 + dec_layers * (L_out^2 + L_out * L_in))

The first term covers every dense matmul (attention projections, MLP, output logits;
embeddings lookups and norms are free); the second the two attention matmuls (QK^T and
AV) per layer. Padding counts as computed work, as on the accelerator. MFU divides the
achieved FLOP/s by the devices' peak (dense bf16) FLOP/s.
"""

from __future__ import annotations

from typing import Any, Mapping

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


def t5_train_flops_per_step(config: Any, batch_size: int,
                            task_feature_lengths: Mapping[str, int]) -> float:
  """Training FLOPs of one step of a T5 encoder-decoder (see the module docstring)."""
  l_in, l_out = task_feature_lengths["inputs"], task_feature_lengths["targets"]
  d, kv, mlp = config.emb_dim, config.num_heads * config.head_dim, config.mlp_dim
  mlp_in = len(config.mlp_activations)
  attention = 4 * d * kv                     # q, k, v, out projections.
  mlp_params = (mlp_in + 1) * d * mlp
  enc = config.num_encoder_layers * (attention + mlp_params)
  dec = config.num_decoder_layers * (2 * attention + mlp_params) + d * config.vocab_size
  dense = 2 * batch_size * (enc * l_in + dec * l_out)
  attn = 4 * batch_size * kv * (config.num_encoder_layers * l_in**2
                                + config.num_decoder_layers * (l_out**2 + l_out * l_in))
  return 3.0 * (dense + attn)
