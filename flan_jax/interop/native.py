"""flan_jax's own model format: `config.json` (T5Config fields) + `params/` (Orbax PyTree).

    DST/config.json   {"vocab_size": 32128, "emb_dim": 512, ...}   -> T5Config(**fields)
    DST/params/       ocp.PyTreeCheckpointer directory of the unboxed float32 params

Plain Orbax, so `ocp.PyTreeCheckpointer().restore(DST + '/params')` works without flan_jax.

`load` also reads a training MODEL_DIR (run.json + checkpoints/<step>/), taking the
parameters of its latest checkpoint, so a finetuned run converts or warm-starts directly.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import jax
import numpy as np

from flan_jax.interop import ConversionError
from flan_jax.interop import param_tree
from flan_jax.models import t5

PyTree = Any
CONFIG_FILE = "config.json"
RUN_FILE = "run.json"  # Written by the trainer into MODEL_DIR.
PARAMS_DIR = "params"


def save(config: t5.T5Config, params: PyTree, path: str) -> None:
  """Writes `config` and `params` to the empty or absent directory `path`."""
  import orbax.checkpoint as ocp
  if os.path.isdir(path) and os.listdir(path):
    raise ConversionError(f"Refusing to write into non-empty directory {path!r}.")
  if os.path.exists(path) and not os.path.isdir(path):
    raise ConversionError(f"{path!r} exists and is not a directory.")
  params = param_tree._unbox(params)
  check = config.replace(scan_layers=False) if config.scan_layers else config
  param_tree.check_params(check, param_tree.unstack_layers(params) if config.scan_layers
                          else params, source="params to save")
  os.makedirs(path, exist_ok=True)
  numpy_params = _to_numpy(params)
  ocp.PyTreeCheckpointer().save(os.path.abspath(os.path.join(path, PARAMS_DIR)), numpy_params)
  with open(os.path.join(path, CONFIG_FILE), "w") as f:
    json.dump(dataclasses.asdict(config), f, indent=2, sort_keys=True)


def load(path: str) -> tuple[t5.T5Config, PyTree]:
  """(T5Config, float32 numpy params) from a directory written by `save` or a MODEL_DIR."""
  import orbax.checkpoint as ocp
  if is_model_dir(path):
    return load_model_dir(path)
  if not is_native_dir(path):
    raise ConversionError(f"{path!r} is not a flan_jax model directory (expected "
                          f"{CONFIG_FILE} and {PARAMS_DIR}/).")
  with open(os.path.join(path, CONFIG_FILE)) as f:
    fields = json.load(f)
  known = {f.name for f in dataclasses.fields(t5.T5Config)}
  unknown = sorted(set(fields) - known)
  if unknown:
    raise ConversionError(f"{path}/{CONFIG_FILE} has unknown T5Config fields {unknown}.")
  config = t5.T5Config(**fields)
  params = ocp.PyTreeCheckpointer().restore(os.path.abspath(os.path.join(path, PARAMS_DIR)))
  return config, _to_numpy(params)


def is_native_dir(path: str) -> bool:
  return is_model_dir(path) or (os.path.isfile(os.path.join(path, CONFIG_FILE))
                                and os.path.isdir(os.path.join(path, PARAMS_DIR)))


def is_model_dir(path: str) -> bool:
  """A MODEL_DIR written by `flan-jax train` (run.json + checkpoints/)."""
  return (os.path.isfile(os.path.join(path, RUN_FILE))
          and os.path.isdir(os.path.join(path, "checkpoints")))


def load_model_dir(path: str, step: int | None = None) -> tuple[t5.T5Config, PyTree]:
  """(T5Config, numpy params) of a training MODEL_DIR's latest (or given) checkpoint.

  Without `step`, damaged newer checkpoints are skipped with a warning (left in place).
  """
  with open(os.path.join(path, RUN_FILE)) as f:
    run = json.load(f)
  if run.get("model_family", "T5Config") != "T5Config":
    raise ConversionError(f"{path!r} holds a {run['model_family']} model; only T5 models "
                          "convert to the Hugging Face / T5X / native T5 formats.")
  config = t5.T5Config(**run["model_config"])
  folder = os.path.abspath(os.path.join(path, "checkpoints"))
  steps = sorted(int(n) for n in os.listdir(folder) if n.isdigit())
  if not steps:
    raise ConversionError(f"{folder!r} holds no complete checkpoint.")
  if step is not None:
    return config, _restore_params(os.path.join(folder, str(step), "state"))
  from flan_jax.training import checkpoints  # pylint: disable=g-import-not-at-top
  params, _, _ = checkpoints.newest_restorable(
      folder, steps, lambda s: _restore_params(os.path.join(folder, str(s), "state")))
  return config, params


def _restore_params(state_dir: str) -> PyTree:
  """The float32 numpy params of one training checkpoint's `state` item."""
  import orbax.checkpoint as ocp
  checkpointer = ocp.PyTreeCheckpointer()
  metadata = checkpointer.metadata(state_dir)
  metadata = getattr(metadata, "item_metadata", metadata)
  tree = getattr(metadata, "tree", metadata)
  if not isinstance(tree, dict) or "params" not in tree:
    raise ValueError(f"checkpoint metadata is unreadable or incomplete in {state_dir}")
  restore_args = jax.tree_util.tree_map(lambda _: ocp.RestoreArgs(restore_type=np.ndarray),
                                        tree["params"])
  restored = checkpointer.restore(
      state_dir, args=ocp.args.PyTreeRestore(item={"params": tree["params"]},
                                             restore_args={"params": restore_args},
                                             partial_restore=True))
  return _to_numpy(restored["params"])


def _to_numpy(tree: Any) -> Any:
  if isinstance(tree, dict):
    return {k: _to_numpy(v) for k, v in tree.items()}
  return np.asarray(tree, np.float32)
