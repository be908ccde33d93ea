"""T5X checkpoints -> flan_jax T5 parameters (names are identical, only formats differ).

Two on-disk layouts are read:
- legacy: a msgpack file `checkpoint` holding {'version', 'optimizer': {'target': ...,
  'state': ...}}, where each large array is a TensorStore spec whose kvstore path
  (`target.encoder.layers_0...`) is relative to the checkpoint directory;
- Orbax: a PyTree checkpoint directory (`_METADATA`, `manifest.ocdbt`, ...), possibly in a
  `state/` sub-folder as T5X's Orbax checkpointer writes it.
A directory of `checkpoint_<step>` folders resolves to its latest step.
"""

from __future__ import annotations

import os
import re
from typing import Any, Mapping, Optional

import numpy as np

from flan_jax.interop import ConversionError, contained_path
from flan_jax.interop import param_tree
from flan_jax.models import t5

PyTree = Any
LEGACY_FILE = "checkpoint"
LEGACY_VERSION = 3


def load_t5(source: str | Mapping[str, Any], config: Optional[t5.T5Config] = None,
            **overrides: Any) -> tuple[t5.Transformer, PyTree]:
  """(Transformer, float32 params) from a T5X checkpoint directory or a T5X-named tree.

  With `config=None` the architecture is inferred from shapes (`overrides` set the other
  fields, e.g. dtype); with a config the params are checked against it. Scanned trees are
  unstacked unless the config asks for scan_layers=True.
  """
  tree = read_checkpoint(source) if isinstance(source, (str, os.PathLike)) else source
  params = param_tree.find_params(tree)
  params = _to_numpy_tree(params)
  scanned = "layers" in params.get("encoder", {})
  if scanned:
    params = param_tree.unstack_layers(params)
  if config is None:
    config = param_tree.infer_config(params, **overrides)
  elif overrides:
    config = config.replace(**overrides)
  if config.scan_layers:
    check_cfg = config.replace(scan_layers=False)
    param_tree.check_params(check_cfg, params, source="T5X checkpoint")
    params = param_tree.stack_layers(params)
  else:
    param_tree.check_params(config, params, source="T5X checkpoint")
  return t5.Transformer(config), params


def read_checkpoint(path: str) -> dict:
  """The whole state tree of a T5X checkpoint directory, arrays as numpy."""
  path = _resolve_step_dir(os.fspath(path))
  if os.path.isfile(os.path.join(path, LEGACY_FILE)):
    return _read_legacy(path)
  for candidate in (path, os.path.join(path, "state")):
    if _is_orbax_dir(candidate):
      import orbax.checkpoint as ocp
      return ocp.PyTreeCheckpointer().restore(os.path.abspath(candidate))
  raise ConversionError(f"{path!r} is not a T5X checkpoint: no {LEGACY_FILE!r} msgpack file "
                        "and no Orbax metadata (_METADATA / manifest.ocdbt).")


def save_legacy(params: Mapping[str, Any], path: str, step: int = 0) -> str:
  """Writes params as a legacy T5X checkpoint (msgpack + one zarr array per param).

  Returns the checkpoint directory `path/checkpoint_<step>`. The optimizer state is left
  empty, as T5X's own inference-only exports do.
  """
  import msgpack
  from flax import traverse_util
  step_dir = os.path.join(path, f"checkpoint_{step}")
  if os.path.exists(step_dir):
    raise ConversionError(f"Refusing to overwrite existing checkpoint {step_dir!r}.")
  os.makedirs(step_dir)
  flat = traverse_util.flatten_dict(_to_numpy_tree(param_tree.unbox(params)))
  specs = {}
  for key, array in flat.items():
    name = ".".join(("target",) + key)
    spec = {"driver": "zarr", "dtype": array.dtype.name,
            "kvstore": {"driver": "file", "path": name},
            "metadata": {"compressor": {"id": "gzip"}, "shape": list(array.shape),
                         "chunks": list(array.shape)}}
    _write_tensorstore(spec, step_dir, array)
    specs[key] = spec
  state = {"version": LEGACY_VERSION,
           "optimizer": {"target": traverse_util.unflatten_dict(specs),
                         "state": {"step": int(step), "param_states": {}}}}
  with open(os.path.join(step_dir, LEGACY_FILE), "wb") as f:
    f.write(msgpack.packb(state, use_bin_type=True))
  return step_dir


def _read_legacy(path: str) -> dict:
  """Decodes the msgpack file and reads every TensorStore-backed leaf."""
  from flax import serialization
  with open(os.path.join(path, LEGACY_FILE), "rb") as f:
    state = serialization.msgpack_restore(f.read())

  def load(node: Any) -> Any:
    if isinstance(node, Mapping):
      if {"driver", "kvstore"} <= set(node) or {"driver", "path", "metadata"} <= set(node):
        return _read_tensorstore(dict(node), path)
      return {k: load(v) for k, v in node.items()}
    return node

  return load(state)


def _read_tensorstore(spec: dict, ckpt_dir: str) -> np.ndarray:
  """Opens a (relative, file or gcs) T5X TensorStore spec under `ckpt_dir` and reads it."""
  import tensorstore as ts
  kvstore = dict(spec.get("kvstore") or {})
  relative = kvstore.get("path", spec.pop("path", None))
  if relative is None:
    raise ConversionError(f"TensorStore spec without a path in {ckpt_dir!r}: {spec}")
  spec["kvstore"] = {"driver": "file", "path": contained_path(
      ckpt_dir, relative, f"The T5X checkpoint index {os.path.join(ckpt_dir, LEGACY_FILE)!r}")}
  spec.pop("metadata", None)  # Read what is on disk; the stored metadata may be partial.
  try:
    return np.asarray(ts.open(spec, open=True, read=True).result().read().result())
  except ValueError as e:
    raise ConversionError(f"Cannot read array {relative!r} of {ckpt_dir!r}: {e}") from e


def _write_tensorstore(spec: dict, ckpt_dir: str, array: np.ndarray) -> None:
  import tensorstore as ts
  full = dict(spec, kvstore={"driver": "file", "path": os.path.join(
      os.path.abspath(ckpt_dir), spec["kvstore"]["path"])})
  store = ts.open(full, create=True, open=False).result()
  store.write(array).result()


def _resolve_step_dir(path: str) -> str:
  if not os.path.isdir(path):
    raise ConversionError(f"T5X checkpoint directory {path!r} does not exist.")
  steps = [(int(m.group(1)), name) for name in os.listdir(path)
           if (m := re.fullmatch(r"checkpoint_(\d+)", name))]
  if steps and not os.path.isfile(os.path.join(path, LEGACY_FILE)) and not _is_orbax_dir(path):
    return os.path.join(path, max(steps)[1])
  return path


def _is_orbax_dir(path: str) -> bool:
  return any(os.path.exists(os.path.join(path, f)) for f in ("_METADATA", "manifest.ocdbt"))


def _to_numpy_tree(tree: Any) -> Any:
  if isinstance(tree, Mapping):
    return {k: _to_numpy_tree(v) for k, v in tree.items()}
  return np.asarray(tree, np.float32)
