"""INITIAL_CHECKPOINT_PATH: params from a flan_jax, Hugging Face or T5X checkpoint.

The format is detected from the directory's contents; the weights must fit the training
run's model config (same shapes and, where the source records them, the same architecture
fields), else one CheckpointMismatchError lists every difference. Decoder-only runs
(PaLMConfig) start from a Hugging Face Llama / Falcon directory or a flan_jax one.
"""

from __future__ import annotations

import json
import os
from typing import Any

from flan_jax import errors
from flan_jax.interop import hf
from flan_jax.interop import hf_decoder
from flan_jax.interop import native
from flan_jax.interop import param_tree
from flan_jax.interop import t5x
from flan_jax.models import palm
from flan_jax.models import t5

PyTree = Any
# Fields that change the function a checkpoint computes without changing any shape.
ARCHITECTURE_FIELDS = ("mlp_activations", "logits_via_embedding",
                       "relative_attention_max_distance", "layer_norm_epsilon")
# PaLMConfig fields a run may choose freely whatever the checkpoint (numerics, memory,
# dropout, and whether the prompt attends bidirectionally while finetuning).
DECODER_RUN_FIELDS = ("dropout_rate", "dtype", "scan_layers", "remat_policy",
                      "attention_impl", "prefix_lm")


def detect_format(path: str) -> str:
  """'flan_jax', 'hf' or 't5x' for a checkpoint directory."""
  if not os.path.exists(path):
    raise errors.ConfigError(f"INITIAL_CHECKPOINT_PATH {path!r} does not exist.")
  if native.is_native_dir(path):
    return "flan_jax"
  config = os.path.join(path, "config.json")
  if os.path.isfile(config):
    with open(config) as f:
      if json.load(f).get("model_type") in ("t5",) + hf_decoder.MODEL_TYPES:
        return "hf"
  return "t5x"


def load_source(path: str) -> tuple[Any, PyTree]:
  """(the source's own config if it records one, unscanned params) of any format."""
  kind = detect_format(path)
  if kind == "flan_jax":
    config, params = native.load(path)
    if config.scan_layers:
      params = param_tree.unstack_layers(params)
    return config.replace(scan_layers=False), params
  if kind == "hf" and hf_decoder.model_type_of(path):
    model, params = hf_decoder.load_decoder(path)
    return model.config, params
  if kind == "hf":
    model, params = hf.load_t5(path)
    return model.config, params
  _, params = t5x.load_t5(path)
  return None, params


def load_params(path: str, model_config: Any) -> PyTree:
  """Float32 params shaped like the model's `init(...)['params']`, unboxed."""
  source_config, params = load_source(path)
  if type(source_config) is not type(model_config) and source_config is not None:
    raise errors.CheckpointMismatchError(
        f"INITIAL_CHECKPOINT_PATH {path!r} holds a {type(source_config).__name__} model but "
        f"the run trains a {type(model_config).__name__}; include the matching model gin file.")
  if isinstance(model_config, palm.PaLMConfig):
    if source_config is None:
      raise errors.CheckpointMismatchError(
          f"INITIAL_CHECKPOINT_PATH {path!r} is a T5X checkpoint (T5 models only); a "
          "decoder-only run starts from a Hugging Face Llama / Falcon or a flan_jax one.")
    _check_decoder_architecture(path, source_config, model_config)
  elif source_config is not None:
    diffs = [f"{name}: checkpoint {getattr(source_config, name)!r} vs model "
             f"{getattr(model_config, name)!r}" for name in ARCHITECTURE_FIELDS
             if getattr(source_config, name) != getattr(model_config, name)]
    if diffs:
      raise errors.CheckpointMismatchError(
          f"INITIAL_CHECKPOINT_PATH {path!r} has another architecture: " + "; ".join(diffs))
  unscanned = model_config.replace(scan_layers=False)
  param_tree.check_params(unscanned, params, source=f"initial checkpoint {path!r}")
  return param_tree.stack_layers(params) if model_config.scan_layers else params


def _check_decoder_architecture(path: str, source: palm.PaLMConfig,
                                model: palm.PaLMConfig) -> None:
  """Every PaLMConfig field but the run's own choices must match; the error gives the gin
  bindings that would make the run's model the checkpoint's."""
  import dataclasses  # pylint: disable=g-import-not-at-top
  diffs = [f.name for f in dataclasses.fields(palm.PaLMConfig)
           if f.name not in DECODER_RUN_FIELDS
           and getattr(source, f.name) != getattr(model, f.name)]
  if diffs:
    bindings = " ".join(f"--gin.network.PaLMConfig.{name}={getattr(source, name)!r}"
                        for name in diffs)
    raise errors.CheckpointMismatchError(
        f"INITIAL_CHECKPOINT_PATH {path!r} has another architecture than the run's "
        f"PaLMConfig ({', '.join(diffs)} differ); to train it, bind: {bindings}")
