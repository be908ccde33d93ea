"""Orbax checkpoints of the train state plus the data position, in MODEL_DIR/checkpoints.

Orbax writes each step to a temporary folder and renames it when complete, so a crash
mid-save leaves the previous step as the latest readable one. The layout is plain Orbax:
`ocp.CheckpointManager(MODEL_DIR/checkpoints)` restores the 'state' and 'data' items.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from flan_jax import errors


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
    self.directory = os.path.join(model_dir, "checkpoints")
    self.period = period
    self.best_metric = best_metric
    options = ocp.CheckpointManagerOptions(
        max_to_keep=keep, enable_async_checkpointing=async_save, create=True)
    self._manager = ocp.CheckpointManager(
        self.directory, options=options, item_handlers=_handlers())
    self._best = None
    if best_metric:
      best_options = ocp.CheckpointManagerOptions(
          max_to_keep=1, best_fn=lambda metrics: metrics[best_metric], best_mode=best_mode,
          keep_checkpoints_without_metrics=False, enable_async_checkpointing=async_save,
          create=True)
      self._best = ocp.CheckpointManager(os.path.join(model_dir, "best_checkpoint"),
                                         options=best_options, item_handlers=_handlers())

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

  def check_compatible(self, abstract_state: Any) -> None:
    """Raises CheckpointMismatchError when the latest checkpoint has other shapes."""
    step = self.latest_step()
    if step is None:
      return
    saved = self._manager.item_metadata(step)["state"]
    saved_tree = getattr(saved, "tree", saved)
    want = _shapes_by_path(abstract_state.params)
    have = _shapes_by_path(saved_tree["params"])
    problems = [f"{p}: checkpoint {have.get(p)} vs model {want.get(p)}"
                for p in sorted(set(want) | set(have)) if want.get(p) != have.get(p)]
    if problems:
      shown = "\n  ".join(problems[:8])
      more = f"\n  ... and {len(problems) - 8} more" if len(problems) > 8 else ""
      raise errors.CheckpointMismatchError(
          f"MODEL_DIR holds a checkpoint (step {step}, {self.directory}) of a different "
          f"model shape:\n  {shown}{more}\nIt was left untouched. Point MODEL_DIR at a new "
          "folder, or use the model config that wrote this checkpoint.")

  def save(self, step: int, state: Any, data_position: int, force: bool = False) -> bool:
    """Saves if `step` is on the period (or `force`); returns whether it saved."""
    if not force and (self.period <= 0 or step % self.period):
      return False
    if step in self._manager.all_steps():
      return False
    args = ocp.args.Composite(state=ocp.args.PyTreeSave(state),
                              data=ocp.args.JsonSave({"position": int(data_position)}))
    return self._manager.save(step, args=args, force=True)

  def restore(self, abstract_state: Any, step: int | None = None) -> tuple[Any, int]:
    """Restores (state, data_position) with the shardings of `abstract_state`."""
    step = self.latest_step() if step is None else step
    args = ocp.args.Composite(
        state=ocp.args.PyTreeRestore(
            item=abstract_state,
            restore_args=ocp.checkpoint_utils.construct_restore_args(abstract_state)),
        data=ocp.args.JsonRestore())
    restored = self._manager.restore(step, args=args)
    return restored["state"], int(restored["data"]["position"])

  def restore_params(self, abstract_params: Any, step: int | None = None) -> Any:
    """Restores only the parameters (no optimizer state), e.g. for inference."""
    step = self.latest_step() if step is None else step
    if step is None:
      raise errors.FlanJaxError(f"No checkpoint in {self.directory}; train first.")
    item = {"params": abstract_params}
    args = ocp.args.Composite(state=ocp.args.PyTreeRestore(
        item=item, restore_args=ocp.checkpoint_utils.construct_restore_args(item),
        partial_restore=True))
    return self._manager.restore(step, args=args)["state"]["params"]

  def wait(self) -> None:
    for manager in (self._manager, self._best):
      if manager is not None:
        manager.wait_until_finished()

  def close(self) -> None:
    self.wait()
    for manager in (self._manager, self._best):
      if manager is not None:
        manager.close()


def _handlers() -> dict:
  return {"state": ocp.PyTreeCheckpointHandler(), "data": ocp.JsonCheckpointHandler()}


def _shapes_by_path(tree: Any) -> dict[str, tuple]:
  flat = jax.tree_util.tree_flatten_with_path(
      tree, is_leaf=lambda x: hasattr(x, "shape") and not isinstance(x, dict))[0]
  return {jax.tree_util.keystr(path): tuple(np.shape(leaf) if not hasattr(leaf, "shape")
                                            else leaf.shape)
          for path, leaf in flat}
