"""Orbax checkpoints of the train state plus the data position, in MODEL_DIR/checkpoints.

Orbax writes each step to a temporary folder and renames it when complete, so a crash
mid-save leaves the previous step as the latest readable one. A step folder damaged later
(a lost file, a truncated array) is skipped on restore with a warning naming it and why;
it is never deleted. The layout is plain Orbax:
`ocp.CheckpointManager(MODEL_DIR/checkpoints)` restores the 'state' and 'data' items.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any, Callable, Iterable, TypeVar

import jax
import numpy as np
import orbax.checkpoint as ocp
from etils import epath

from flan_jax import errors
from flan_jax.runtime import model_dir as model_dir_layout

T = TypeVar("T")
DAMAGED_DIR = model_dir_layout.DAMAGED_CHECKPOINTS_DIR  # Damaged steps moved aside.


class CheckpointCorruptError(errors.FlanJaxError):
  """No checkpoint of a folder restores; the message lists each step and its problem."""


def newest_restorable(directory: str, steps: Iterable[int], restore_step: Callable[[int], T],
                      warn: bool = True, kept: str = "it was left in place"
                      ) -> tuple[T, int, list[str]]:
  """(restore_step(step), step, skipped) for the newest step that restores.

  A step that raises is skipped with a warning naming its folder, the whole first line of
  the reason and what becomes of it (`kept`). Raises CheckpointCorruptError when no step
  restores.
  """
  skipped = []
  _ignore_closed_event_loop_noise()  # Before reading: a damaged step's reads end after it.
  for step in sorted(steps, reverse=True):
    try:
      return restore_step(step), step, skipped
    except Exception as e:  # pylint: disable=broad-except  # Any damage: try the next.
      reason = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
      skipped.append(f"step {step} ({os.path.join(directory, str(step))}): {reason}")
      if warn:
        logging.warning("Skipping damaged checkpoint step %d (%s): %s; %s. Falling back to an "
                        "older checkpoint.", step, os.path.join(directory, str(step)), reason,
                        kept)
  raise CheckpointCorruptError(
      f"No checkpoint in {directory} could be restored:\n  " + "\n  ".join(skipped)
      + "\nNothing was deleted. Restore the files, or move the damaged step folders away.")


def _ignore_closed_event_loop_noise() -> None:
  """After a failed restore, TensorStore still completes the damaged step's reads and hands
  them to Orbax's event loop, already closed; Python then prints one `RuntimeError: Event
  loop is closed` traceback per read. Those (and only those) are dropped; the warning above
  says what happened."""
  if getattr(sys.excepthook, "_drops_closed_loop", False):
    return

  def closed_loop(error: BaseException | None) -> bool:
    return isinstance(error, RuntimeError) and str(error) == "Event loop is closed"

  previous_excepthook, previous_unraisable = sys.excepthook, sys.unraisablehook

  def excepthook(kind, error, traceback):
    if not closed_loop(error):
      previous_excepthook(kind, error, traceback)

  def unraisablehook(unraisable):
    if not closed_loop(unraisable.exc_value):
      previous_unraisable(unraisable)

  previous_thread_hook = threading.excepthook

  def thread_excepthook(args):  # The same error raised in one of the reads' threads.
    if not closed_loop(args.exc_value):
      previous_thread_hook(args)

  excepthook._drops_closed_loop = True  # pylint: disable=protected-access
  sys.excepthook, sys.unraisablehook = excepthook, unraisablehook
  threading.excepthook = thread_excepthook
  # The abandoned reads' futures and tasks, collected unread, are logged by asyncio one by
  # one ("Future exception was never retrieved", "Task exception ...": the class's name).
  logging.getLogger("asyncio").addFilter(
      lambda record: not str(record.msg).partition("\n")[0].endswith(
          " exception was never retrieved"))


class CheckpointStore:
  """Saves every `period` steps, keeps the last `keep`, restores the latest complete one.

  With `best_metric` (an eval scalar such as 'toy.category:zs_noopt/accuracy'), the best
  checkpoint by that metric is also kept, in MODEL_DIR/best_checkpoint.
  """

  def __init__(self, model_dir: str, period: int, keep: int | None = 3,
               async_save: bool = True, best_metric: str | None = None,
               best_mode: str = "max"):
    if "://" not in model_dir:
      model_dir = os.path.abspath(model_dir)
    self.directory = model_dir_layout.path(model_dir, model_dir_layout.CHECKPOINTS_DIR)
    self.period = period
    self.best_metric = best_metric
    options = ocp.CheckpointManagerOptions(
        max_to_keep=keep, enable_async_checkpointing=async_save, create=True)
    self._manager = ocp.CheckpointManager(
        self.directory, options=options, item_handlers=_handlers())
    self._best = None
    self._pending_step: int | None = None  # An async save not yet reported committed.
    self.skipped: list[str] = []           # Damaged steps skipped by the last restore.
    if best_metric:
      best_options = ocp.CheckpointManagerOptions(
          max_to_keep=1, best_fn=lambda metrics: metrics[best_metric], best_mode=best_mode,
          keep_checkpoints_without_metrics=False, enable_async_checkpointing=async_save,
          create=True)
      best_dir = model_dir_layout.path(model_dir, model_dir_layout.BEST_CHECKPOINT_DIR)
      self._best = ocp.CheckpointManager(best_dir, options=best_options,
                                         item_handlers=_handlers())

  def save_if_best(self, step: int, state: Any, data_position: int,
                   metrics: dict[str, float]) -> None:
    """Offers an evaluated state to the best-checkpoint slot (no-op without best_metric)."""
    if self._best is None:
      return
    if self.best_metric not in metrics:
      raise errors.ConfigError(
          f"TrainConfig.best_checkpoint_metric={self.best_metric!r} is not an eval metric; "
          f"known: {', '.join(sorted(metrics))}.")
    args = ocp.args.Composite(state=ocp.args.PyTreeSave(state),
                              data=ocp.args.JsonSave({"position": int(data_position)}))
    self._best.save(step, args=args, metrics={self.best_metric: float(metrics[self.best_metric])},
                    force=True)

  def best_step(self) -> int | None:
    return None if self._best is None else self._best.best_step()

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def latest_data_position(self) -> int:
    """The data position of the newest checkpoint whose data record reads (0: none).

    Cheap (a small JSON read), so the first batch can be checked before anything
    is restored or compiled.
    """
    if not self._manager.all_steps():
      return 0
    args = ocp.args.Composite(data=ocp.args.JsonRestore())
    try:
      restored, _, _ = newest_restorable(
          self.directory, self._manager.all_steps(),
          lambda s: self._manager.restore(s, args=args), warn=False)
    except CheckpointCorruptError:
      return 0  # restore() reports the damage in full.
    return int(restored["data"]["position"])

  def check_compatible(self, abstract_state: Any, saved_optimizer: str | None = None
                       ) -> None:
    """Raises CheckpointMismatchError when the newest readable checkpoint has other
    parameter shapes or another optimizer-state structure (e.g. a switched optimizer).

    `saved_optimizer` (from the run record) only makes the message more precise.
    """
    if not self._manager.all_steps():
      return
    saved, step, _ = newest_restorable(
        self.directory, self._manager.all_steps(),
        lambda s: _metadata_tree(self._manager.item_metadata(s)["state"]), warn=False)
    problems = _differences(_shapes_by_path(abstract_state.params),
                            _shapes_by_path(saved["params"]))
    if problems:
      shown = "\n  ".join(problems[:8])
      more = f"\n  ... and {len(problems) - 8} more" if len(problems) > 8 else ""
      raise errors.CheckpointMismatchError(
          f"MODEL_DIR holds a checkpoint (step {step}, {self.directory}) of a different "
          f"model shape:\n  {shown}{more}\nIt was left untouched. Point MODEL_DIR at a new "
          "folder, or use the model config that wrote this checkpoint.")
    if "opt_state" in saved and hasattr(abstract_state, "opt_state"):
      problems = _differences(_shapes_by_path(abstract_state.opt_state),
                              _shapes_by_path(saved["opt_state"]))
      if problems:
        which = f" (written with OptimizerConfig.name={saved_optimizer!r})" \
            if saved_optimizer else ""
        raise errors.CheckpointMismatchError(
            f"MODEL_DIR holds a checkpoint (step {step}, {self.directory}) whose optimizer "
            f"state does not fit the configured optimizer{which}: "
            f"{len(problems)} optimizer-state entries differ, e.g. {problems[0]}. It was "
            "left untouched. Keep the optimizer settings of that run to resume it, or start "
            "a new MODEL_DIR (warm-start with INITIAL_CHECKPOINT_PATH=MODEL_DIR).")

  def save(self, step: int, state: Any, data_position: int, force: bool = False) -> bool:
    """Saves if `step` is on the period (or `force`); returns whether it saved."""
    if not force and (self.period <= 0 or step % self.period):
      return False
    if step in self._manager.all_steps():
      return False
    args = ocp.args.Composite(state=ocp.args.PyTreeSave(state),
                              data=ocp.args.JsonSave({"position": int(data_position)}))
    if self._pending_step is not None:  # Orbax waits for it before the next save anyway.
      self._manager.wait_until_finished()
      self.report_committed()
    saved = self._manager.save(step, args=args, force=True)
    if saved:
      self._pending_step = step
      self.report_committed()
    return saved

  def report_committed(self) -> None:
    """Logs `Saved checkpoint for step N` once step N's (async) save has committed."""
    if self._pending_step is None or self._manager.is_saving_in_progress():
      return
    logging.info("Saved checkpoint for step %d.", self._pending_step)
    self._pending_step = None

  def restore(self, abstract_state: Any, step: int | None = None) -> tuple[Any, int]:
    """Restores (state, data_position) with the shardings of `abstract_state`.

    Without `step`, the newest step that restores; damaged newer ones are moved aside
    to MODEL_DIR/damaged_checkpoints (kept, not deleted) so training can save over
    their step numbers again.
    """
    args = ocp.args.Composite(
        state=ocp.args.PyTreeRestore(
            item=abstract_state,
            restore_args=ocp.checkpoint_utils.construct_restore_args(abstract_state)),
        data=ocp.args.JsonRestore())
    if step is not None:
      restored = self._manager.restore(step, args=args)
    else:
      restored, step, self.skipped = newest_restorable(
          self.directory, self._manager.all_steps(), lambda s: self._checked_restore(s, args),
          kept=f"it is moved to {epath.Path(self.directory).parent / DAMAGED_DIR}")
      if self.skipped:
        self._move_aside(s for s in self._manager.all_steps() if s > step)
    return restored["state"], int(restored["data"]["position"])

  def _move_aside(self, steps: Iterable[int]) -> None:
    """Moves damaged step folders to MODEL_DIR/damaged_checkpoints/<step> (process 0)."""
    target = epath.Path(self.directory).parent / DAMAGED_DIR
    if jax.process_index() == 0:
      target.mkdir(parents=True, exist_ok=True)
      for step in steps:
        destination = target / str(step)
        suffix = 0
        while destination.exists():
          suffix += 1
          destination = target / f"{step}.{suffix}"
        (epath.Path(self.directory) / str(step)).rename(destination)
        logging.warning("Moved damaged checkpoint step %d to %s (kept for inspection).",
                        step, destination)
    if jax.process_count() > 1:
      from jax.experimental import multihost_utils
      multihost_utils.sync_global_devices("flan_jax_move_damaged_checkpoints")
    self._manager.reload()

  def restore_params(self, abstract_params: Any, step: int | None = None) -> tuple[Any, int]:
    """(params, step): only the parameters (no optimizer state), e.g. for inference.

    Without `step`, the newest step that restores (damaged ones are skipped with a
    warning and left untouched: this is a read-only use of MODEL_DIR).
    """
    if not self._manager.all_steps():
      raise errors.FlanJaxError(f"No checkpoint in {self.directory}; train first.")
    item = {"params": abstract_params}
    args = ocp.args.Composite(state=ocp.args.PyTreeRestore(
        item=item, restore_args=ocp.checkpoint_utils.construct_restore_args(item),
        partial_restore=True))
    if step is not None:
      return self._manager.restore(step, args=args)["state"]["params"], step
    restored, step, self.skipped = newest_restorable(
        self.directory, self._manager.all_steps(), lambda s: self._checked_restore(s, args))
    return restored["state"]["params"], step

  def _checked_restore(self, step: int, args: Any) -> Any:
    """Restores `step` after checking its metadata reads (a step without it is damaged)."""
    _metadata_tree(self._manager.item_metadata(step)["state"])
    return self._manager.restore(step, args=args)

  def wait(self) -> None:
    for manager in (self._manager, self._best):
      if manager is not None:
        manager.wait_until_finished()
    self.report_committed()

  def close(self) -> None:
    self.wait()
    for manager in (self._manager, self._best):
      if manager is not None:
        manager.close()


def _handlers() -> dict:
  return {"state": ocp.PyTreeCheckpointHandler(), "data": ocp.JsonCheckpointHandler()}


def _metadata_tree(metadata: Any) -> Any:
  tree = getattr(metadata, "tree", metadata)
  if not isinstance(tree, dict) or "params" not in tree:
    raise ValueError(f"checkpoint metadata is unreadable or incomplete ({type(tree).__name__})")
  return tree


def _differences(want: dict[str, tuple], have: dict[str, tuple]) -> list[str]:
  return [f"{p}: checkpoint {have.get(p)} vs model {want.get(p)}"
          for p in sorted(set(want) | set(have)) if want.get(p) != have.get(p)]


def _shapes_by_path(tree: Any) -> dict[str, tuple]:
  """{'a/b/0/c': shape} with plain path names, so that a live tree (named tuples, dicts)
  and the same tree read back from checkpoint metadata (dicts, lists) compare equal."""
  flat = jax.tree_util.tree_flatten_with_path(
      tree, is_leaf=lambda x: hasattr(x, "shape") and not isinstance(x, dict))[0]
  return {"/".join(_key_name(k) for k in path): tuple(np.shape(leaf))
          for path, leaf in flat}


def _key_name(key: Any) -> str:
  for attribute in ("name", "key", "idx"):
    if hasattr(key, attribute):
      return str(getattr(key, attribute))
  return str(key)
