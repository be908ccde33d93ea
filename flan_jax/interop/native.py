"""flan_jax's own model format: `config.json` (config fields) + `params/` (Orbax PyTree).

    DST/config.json   {"vocab_size": 32128, "emb_dim": 512, ...}   -> T5Config(**fields)
    DST/params/       ocp.PyTreeCheckpointer directory of the unboxed float32 params

A decoder-only model's config.json also says `"model_family": "PaLMConfig"`.

Plain Orbax, so `ocp.PyTreeCheckpointer().restore(DST + '/params')` works without flan_jax.

`load` also reads a training MODEL_DIR (run record + checkpoints/<step>/), taking the
parameters of its latest checkpoint, so a finetuned run converts or warm-starts directly.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import numpy as np

from flan_jax.interop import ConversionError
from flan_jax.interop import param_tree
from flan_jax.models import t5
from flan_jax.runtime import model_dir

PyTree = Any
CONFIG_FILE = "config.json"
PARAMS_DIR = "params"


FAMILY_KEY = "model_family"


def save(config: Any, params: PyTree, path: str) -> None:
  """Writes `config` and `params` to the empty or absent directory `path`."""
  import orbax.checkpoint as ocp
  if os.path.isdir(path) and os.listdir(path):
    raise ConversionError(f"Refusing to write into non-empty directory {path!r}.")
  if os.path.exists(path) and not os.path.isdir(path):
    raise ConversionError(f"{path!r} exists and is not a directory.")
  params = param_tree.unbox(params)
  check = config.replace(scan_layers=False) if config.scan_layers else config
  param_tree.check_params(check, param_tree.unstack_layers(params) if config.scan_layers
                          else params, source="params to save")
  os.makedirs(path, exist_ok=True)
  numpy_params = _to_numpy(params)
  ocp.PyTreeCheckpointer().save(os.path.abspath(os.path.join(path, PARAMS_DIR)), numpy_params)
  fields = dataclasses.asdict(config)
  if not isinstance(config, t5.T5Config):
    fields[FAMILY_KEY] = type(config).__name__
  with open(os.path.join(path, CONFIG_FILE), "w") as f:
    json.dump(fields, f, indent=2, sort_keys=True)


def load(path: str) -> tuple[Any, PyTree]:
  """(config, float32 numpy params) from a directory written by `save` or a MODEL_DIR."""
  import orbax.checkpoint as ocp
  if is_model_dir(path):
    return load_model_dir(path)
  if not is_native_dir(path):
    raise ConversionError(f"{path!r} is not a flan_jax model directory (expected "
                          f"{CONFIG_FILE} and {PARAMS_DIR}/).")
  with open(os.path.join(path, CONFIG_FILE)) as f:
    fields = json.load(f)
  config_cls = _config_class(fields.pop(FAMILY_KEY, "T5Config"))
  known = {f.name for f in dataclasses.fields(config_cls)}
  unknown = sorted(set(fields) - known)
  if unknown:
    raise ConversionError(f"{path}/{CONFIG_FILE} has unknown {config_cls.__name__} fields "
                          f"{unknown}.")
  config = config_cls(**fields)
  params = ocp.PyTreeCheckpointer().restore(os.path.abspath(os.path.join(path, PARAMS_DIR)))
  return config, _to_numpy(params)


def is_native_dir(path: str) -> bool:
  return is_model_dir(path) or (os.path.isfile(os.path.join(path, CONFIG_FILE))
                                and os.path.isdir(os.path.join(path, PARAMS_DIR)))


def is_model_dir(path: str) -> bool:
  """A MODEL_DIR written by `flan-jax train` (see flan_jax/runtime/model_dir.py)."""
  return model_dir.is_model_dir(path)


def _config_class(name: str) -> type:
  from flan_jax.models import families  # pylint: disable=g-import-not-at-top
  return families.family_by_config_name(name).config_cls


def load_model_dir(path: str, step: int | None = None) -> tuple[Any, PyTree]:
  """(model config, numpy params) of a training MODEL_DIR's latest (or given) checkpoint.

  Without `step`, damaged newer checkpoints are skipped with a warning (left in place).
  """
  family, fields = model_dir.model_config_of(model_dir.require_run_record(path))
  config = _config_class(family)(**fields)
  if not model_dir.checkpoint_steps(path):
    folder = os.path.abspath(model_dir.path(path, model_dir.CHECKPOINTS_DIR))
    raise ConversionError(f"{folder!r} holds no complete checkpoint.")
  return config, model_dir.restore_numpy_params(path, step)


def _to_numpy(tree: Any) -> Any:
  if isinstance(tree, dict):
    return {k: _to_numpy(v) for k, v in tree.items()}
  return np.asarray(tree, np.float32)
