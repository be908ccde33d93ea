"""INITIAL_CHECKPOINT_PATH: params from a flan_jax, Hugging Face or T5X checkpoint.

The format is detected from the directory's contents; the weights must fit the training
run's T5Config (same shapes and, where the source records them, the same architecture
fields), else one CheckpointMismatchError lists every difference.
"""

from __future__ import annotations

import json
import os
from typing import Any

from flan_jax import errors
from flan_jax.interop import hf
from flan_jax.interop import native
from flan_jax.interop import param_tree
from flan_jax.interop import t5x
from flan_jax.models import t5

PyTree = Any
# Fields that change the function a checkpoint computes without changing any shape.
ARCHITECTURE_FIELDS = ("mlp_activations", "logits_via_embedding",
                       "relative_attention_max_distance", "layer_norm_epsilon")


def detect_format(path: str) -> str:
  """'flan_jax', 'hf' or 't5x' for a checkpoint directory."""
  if not os.path.exists(path):
    raise errors.ConfigError(f"INITIAL_CHECKPOINT_PATH {path!r} does not exist.")
  if native.is_native_dir(path):
    return "flan_jax"
  config = os.path.join(path, "config.json")
  if os.path.isfile(config):
    with open(config) as f:
      if json.load(f).get("model_type") == "t5":
        return "hf"
  return "t5x"


def load_source(path: str) -> tuple[t5.T5Config | None, PyTree]:
  """(the source's own config if it records one, unscanned params) of any format."""
  kind = detect_format(path)
  if kind == "flan_jax":
    config, params = native.load(path)
    if config.scan_layers:
      params = param_tree.unstack_layers(params)
    return config.replace(scan_layers=False), params
  if kind == "hf":
    model, params = hf.load_t5(path)
    return model.config, params
  _, params = t5x.load_t5(path)
  return None, params


def load_params(path: str, model_config: t5.T5Config) -> PyTree:
  """Float32 params shaped like `Transformer(model_config).init(...)['params']`, unboxed."""
  source_config, params = load_source(path)
  if source_config is not None:
    diffs = [f"{name}: checkpoint {getattr(source_config, name)!r} vs model "
             f"{getattr(model_config, name)!r}" for name in ARCHITECTURE_FIELDS
             if getattr(source_config, name) != getattr(model_config, name)]
    if diffs:
      raise errors.CheckpointMismatchError(
          f"INITIAL_CHECKPOINT_PATH {path!r} has another architecture: " + "; ".join(diffs))
  unscanned = model_config.replace(scan_layers=False)
  param_tree.check_params(unscanned, params, source=f"initial checkpoint {path!r}")
  return param_tree.stack_layers(params) if model_config.scan_layers else params
