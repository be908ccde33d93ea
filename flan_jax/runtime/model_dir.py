"""MODEL_DIR, the folder a training run owns: the one module that knows its layout.

    run.json               the run record (model family and config, train and optimizer config)
    config.gin             the operative gin config of the run
    checkpoints/<step>/    Orbax checkpoints (`state` item: step, params, opt_state)
    best_checkpoint/       the best checkpoint by TrainConfig.best_checkpoint_metric
    damaged_checkpoints/   damaged steps moved aside (kept, never deleted)
    vocabulary/            the vocabulary the run tokenized with: a SentencePiece model, or a
                           Hugging Face tokenizer.json and its config files (vocabulary.json
                           says which)
    train/, eval/          TensorBoard event files

Training writes the run record; evaluation, inference and conversion read it here.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any, Iterator

from etils import epath

from flan_jax import errors

RUN_FILE = "run.json"
CONFIG_GIN = "config.gin"
CHECKPOINTS_DIR = "checkpoints"
BEST_CHECKPOINT_DIR = "best_checkpoint"
DAMAGED_CHECKPOINTS_DIR = "damaged_checkpoints"
VOCABULARY_DIR = "vocabulary"
VOCABULARY_INFO = "vocabulary.json"
TOKENIZER_JSON_KIND = "tokenizer.json"  # vocabulary.json's "kind" for a Hugging Face tokenizer.
TRAIN_LOG_DIR = "train"
EVAL_LOG_DIR = "eval"


def path(model_dir: str, entry: str) -> str:
  """`model_dir/entry` for one of this module's layout names."""
  return os.path.join(str(model_dir), entry)


def is_model_dir(folder: str) -> bool:
  """A MODEL_DIR written by `flan-jax train` (a run record and a checkpoints folder)."""
  return (os.path.isfile(path(folder, RUN_FILE))
          and os.path.isdir(path(folder, CHECKPOINTS_DIR)))


def read_run_record(model_dir: str) -> dict[str, Any] | None:
  """The run record, or None when MODEL_DIR has none (yet)."""
  run_file = epath.Path(model_dir) / RUN_FILE
  if not run_file.exists():
    return None
  return json.loads(run_file.read_text())


def require_run_record(model_dir: str) -> dict[str, Any]:
  """The run record, or an error saying the folder is not a trained MODEL_DIR."""
  record = read_run_record(model_dir)
  if record is None:
    raise errors.FlanJaxError(
        f"{model_dir!r} has no {RUN_FILE}: it is not a flan_jax MODEL_DIR "
        "(train with `flan-jax train` first).")
  return record


def write_run_record(model_dir: str, record: dict[str, Any]) -> None:
  """Writes the run record atomically (a temporary file renamed over the old one)."""
  folder = epath.Path(model_dir)
  tmp = folder / (RUN_FILE + ".tmp")
  tmp.write_text(json.dumps(record, indent=2, sort_keys=True))
  tmp.replace(folder / RUN_FILE)


def model_config_of(record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
  """(model config class name, its fields) of a run record."""
  return record.get("model_family", "T5Config"), record["model_config"]


def saved_optimizer_name(model_dir: str) -> str | None:
  """The optimizer name in MODEL_DIR's run record, if it has a readable one."""
  try:
    record = read_run_record(model_dir)
  except (OSError, ValueError):
    return None
  return ((record or {}).get("optimizer_config") or {}).get("name")


def saved_vocabulary(model_dir: str) -> str | None:
  """The vocabulary a run tokenized with, if MODEL_DIR has a run record: MODEL_DIR's own copy
  of a Hugging Face tokenizer.json, else TrainConfig.vocabulary (None: T5's)."""
  record = read_run_record(model_dir)
  if record is None:
    return None
  copied = saved_tokenizer_json(model_dir)
  return copied or record["train_config"].get("vocabulary")


def saved_tokenizer_json(model_dir: str) -> str | None:
  """MODEL_DIR/vocabulary/tokenizer.json when the run's vocabulary is a Hugging Face one."""
  folder = epath.Path(model_dir) / VOCABULARY_DIR
  info_file = folder / VOCABULARY_INFO
  if not info_file.exists():
    return None
  info = json.loads(info_file.read_text())
  if info.get("kind") != TOKENIZER_JSON_KIND:
    return None
  return str(folder / info.get("file", TOKENIZER_JSON_KIND))


@contextlib.contextmanager
def left_as_found_if_refused(model_dir: str) -> Iterator[None]:
  """Runs a training start; if it raises, the folders it created for MODEL_DIR (the folder
  itself, or new ones inside it such as checkpoints/) are removed again where they hold no
  file, so a refused run leaves MODEL_DIR as it found it. Files are never removed."""
  if not model_dir or "://" in str(model_dir):  # Remote folders: nothing to tidy on a bucket.
    yield
    return
  top = os.path.abspath(str(model_dir))
  highest_missing, parent = None, top
  while not os.path.exists(parent):
    highest_missing, parent = parent, os.path.dirname(parent)
  before = set(os.listdir(top)) if highest_missing is None and os.path.isdir(top) else set()
  try:
    yield
  except BaseException:
    if highest_missing is not None:
      _remove_empty_folders(highest_missing)
    elif os.path.isdir(top):
      for entry in set(os.listdir(top)) - before:
        _remove_empty_folders(os.path.join(top, entry))
    raise


def _remove_empty_folders(root: str) -> None:
  """Removes `root` and the folders under it that hold no file (bottom-up)."""
  if not os.path.isdir(root) or os.path.islink(root):
    return
  for folder, _, _ in os.walk(root, topdown=False):
    try:
      os.rmdir(folder)
    except OSError:  # Holds a file: kept.
      pass


def checkpoint_steps(model_dir: str) -> list[int]:
  """The steps of MODEL_DIR's complete checkpoints, oldest first."""
  folder = path(model_dir, CHECKPOINTS_DIR)
  return sorted(int(n) for n in os.listdir(folder) if n.isdigit())


def restore_numpy_params(model_dir: str, step: int | None = None) -> Any:
  """float32 numpy params of the latest (or given) checkpoint, on the host, no mesh.

  Without `step`, damaged newer checkpoints are skipped with a warning (left in place).
  Raises a FlanJaxError when MODEL_DIR holds no complete checkpoint.
  """
  folder = os.path.abspath(path(model_dir, CHECKPOINTS_DIR))
  steps = checkpoint_steps(model_dir)
  if not steps:
    raise errors.FlanJaxError(f"{folder!r} holds no complete checkpoint.")
  state_dir = lambda s: os.path.join(folder, str(s), "state")
  if step is not None:
    return _restore_numpy_params(state_dir(step))
  from flan_jax.runtime import checkpoints  # pylint: disable=g-import-not-at-top
  params, _, _ = checkpoints.newest_restorable(
      folder, steps, lambda s: _restore_numpy_params(state_dir(s)))
  return params


def _restore_numpy_params(state_dir: str) -> Any:
  """The float32 numpy params of one training checkpoint's `state` item."""
  import jax  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  import orbax.checkpoint as ocp  # pylint: disable=g-import-not-at-top
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
  return jax.tree_util.tree_map(lambda x: np.asarray(x, np.float32), restored["params"])
