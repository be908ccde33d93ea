"""`train()`: finetune a model on a SeqIO task or mixture over a device mesh.

The entry point (flan_jax/cli/train.py) binds the config dataclasses from gin; this
module is gin-free. Everything that can be wrong with the configuration is checked in
`prepare()` before anything is compiled.
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from typing import Any, Callable

import flax.linen as nn
import jax
from clu import metric_writers

from flan_jax import errors
from flan_jax.evaluation import evaluator as evaluator_lib
from flan_jax.runtime import model_dir as model_dir_lib
from flan_jax.runtime.partitioning import PartitionConfig
from flan_jax.training import data_source, flops, run_setup, startup_report, steps
from flan_jax.training.config import TrainConfig
from flan_jax.training.losses import LossConfig
from flan_jax.training.optimizers import OptimizerConfig
from flan_jax.training.run_setup import Run, prepare


class NonFiniteLossError(errors.FlanJaxError):
  """The loss became NaN/Inf; the message names the step and the last good checkpoint."""


def train(config: TrainConfig, model_config: Any, optimizer: OptimizerConfig = OptimizerConfig(),
          loss: LossConfig = LossConfig(), partitioning: PartitionConfig = PartitionConfig(),
          on_start: Callable[[str], None] | None = None) -> dict[str, Any]:
  """Trains to `config.train_steps`, resuming from MODEL_DIR's latest checkpoint.

  Returns a summary: logged losses, the final step, the final eval metrics, and
  `preempted` when a SIGTERM stopped the run early (after saving a checkpoint).
  The run record (flan_jax/runtime/model_dir.py) and `on_start(model_dir)` (the CLI
  writes config.gin) happen only once the first step has trained: a refused or failed start rewrites nothing.
  """
  with model_dir_lib.left_as_found_if_refused(config.model_dir):
    run = prepare(config, model_config, optimizer, loss, partitioning)
    try:
      with jax.set_mesh(run.mesh), nn.logical_axis_rules(run.rules), \
          PreemptionWatcher() as preemption:
        return _train_loop(run, preemption, on_start)
    finally:
      run.checkpoints.close()  # Let an in-flight async save finish before exiting.


class PreemptionWatcher:
  """Turns SIGTERM into a flag the loop polls, so it can save and exit cleanly.

  With several processes, JAX's preemption sync point makes every host stop at the
  same step: JAX's runtime catches SIGTERM itself and agrees on the step with the other
  hosts, so no Python handler may replace its handler there.
  """

  def __init__(self):
    self._flag = threading.Event()
    self._previous = None

  def __enter__(self):
    if jax.process_count() > 1:
      if not _has_preemption_service():
        logging.warning("The JAX preemption service is off in this multi-process run: "
                        "SIGTERM will stop the run without a final checkpoint.")
      return self
    if threading.current_thread() is threading.main_thread():
      self._previous = signal.signal(signal.SIGTERM, lambda *_: self._flag.set())
    return self

  def __exit__(self, *exc):
    if self._previous is not None:
      signal.signal(signal.SIGTERM, self._previous)

  def should_stop(self, step: int) -> bool:
    if jax.process_count() > 1:
      from jax.experimental import multihost_utils
      try:
        return multihost_utils.reached_preemption_sync_point(step)
      except RuntimeError:  # No preemption service in this runtime.
        return False
    return self._flag.is_set()


def _has_preemption_service() -> bool:
  from jax._src import distributed  # pylint: disable=g-import-not-at-top
  return getattr(distributed.global_state, "preemption_sync_manager", None) is not None


def _train_loop(run: Run, preemption: PreemptionWatcher,
                on_start: Callable[[str], None] | None) -> dict[str, Any]:
  config = run.config
  state, batches, first_batch = _start(run)
  start_step = int(state.step)
  train_step = steps.jit_train_step(
      steps.make_train_step(run.model, run.tx, run.loss_config, config.num_microbatches,
                            run.learning_rate_fn, config.nonfinite_policy == "skip"),
      run.layout.shardings, run.batch_sharding)
  dropout_rng = jax.random.PRNGKey(config.seed + 1)
  summary: dict[str, Any] = {"model_dir": config.model_dir, "start_step": start_step,
                             "loss_history": [], "eval_history": [], "preempted": False}
  log = _MetricLog(run, summary["loss_history"], _progress(config, start_step))
  logging.info("compiling the train step (the first step waits for it) ...")
  for step in range(start_step, config.train_steps):
    batch = first_batch if step == start_step else next(batches)
    state, metrics = train_step(state, batch, dropout_rng)
    if step == start_step:
      run.record_start()  # The run record and config.gin, now that training runs.
      if on_start is not None and jax.process_index() == 0:
        on_start(config.model_dir)
    done = step + 1
    saving = run.checkpoints.period and done % run.checkpoints.period == 0
    evaluating = config.eval_period and done % config.eval_period == 0
    last = done == config.train_steps
    # The first step is logged so the user sees training has begun. Windows before a save,
    # an eval or the end are read at once: a non-finite loss stops before anything is saved.
    log.after_step(metrics, done, log=step == start_step or done % config.log_period == 0
                   or last or saving, read_now=saving or evaluating or last)
    run.checkpoints.save(done, state, batches.position)
    run.checkpoints.report_committed()  # Logs "Saved checkpoint" once a save commits.
    if preemption.should_stop(done):
      log.close()  # Its last window and TensorBoard's queue, before the process exits.
      run.checkpoints.save(done, state, batches.position, force=True)
      run.checkpoints.wait()  # "saved" only once the save has committed.
      logging.warning("SIGTERM: saved step %d to %s and stopped; rerun the same command "
                      "to resume.", done, run.checkpoints.directory)
      summary.update(preempted=True, final_step=done)
      return summary
    if evaluating and not last:
      results = evaluator_lib.flatten_metrics(_evaluate(run, state, done))
      summary["eval_history"].append((done, results))
      run.checkpoints.save_if_best(done, state, batches.position, results)
  log.close()
  return _finish(run, state, batches, summary)


def _start(run: Run):
  """Reports the run, reads the first batch (before compiling, so bad data fails fast) and
  initializes or restores the state; returns (state, batches, first batch)."""
  latest = run.checkpoints.latest_step()
  if jax.process_index() == 0:
    for line in startup_report.startup_lines(run, latest):
      logging.info("%s", line)
  position = run.checkpoints.latest_data_position()
  logging.info("reading the first batch of %s ...", run.config.mixture_or_task_name)
  batches, first_batch = run_setup.first_batches(run, position)
  if run.config.premixed_dir and jax.process_index() == 0:
    data_source.log_passes(run.config, first_batch)
  logging.info("initializing the parameters ..." if latest is None
               else f"restoring the checkpoint of step {latest} ...")
  state, restored_position = run.restore_or_init()
  if restored_position != position:  # The newest checkpoint was damaged: an older one.
    batches, first_batch = run_setup.first_batches(run, restored_position)
  return state, batches, first_batch


def _finish(run: Run, state: steps.TrainState, batches, summary: dict[str, Any]) -> dict[str, Any]:
  """The final checkpoint and evaluation, the best step, and the first / last losses."""
  step = int(state.step)
  run.checkpoints.save(step, state, batches.position, force=True)
  run.checkpoints.wait()
  summary["final_step"] = step
  summary["eval"] = _evaluate(run, state, step)
  final = evaluator_lib.flatten_metrics(summary["eval"])
  summary["eval_history"].append((step, final))
  run.checkpoints.save_if_best(step, state, batches.position, final)
  summary["best_step"] = run.checkpoints.best_step()
  history = summary["loss_history"]
  if history:
    summary["first_loss"], summary["last_loss"] = history[0][1], history[-1][1]
  return summary


class _MetricLog:
  """Averages the steps' metrics over log windows and writes them (TensorBoard, log line,
  progress bar). A plain log step's window is read only after the next step is queued, so
  the device keeps working while the host fetches metrics and writes TensorBoard."""

  def __init__(self, run: Run, loss_history: list, progress):
    self.run, self.loss_history, self.progress = run, loss_history, progress
    self.writer = metric_writers.create_default_writer(
        model_dir_lib.path(run.config.model_dir, model_dir_lib.TRAIN_LOG_DIR),
        just_logging=jax.process_index() > 0, asynchronous=True)
    self.window, self.tick, self.pending = [], time.perf_counter(), None

  def after_step(self, metrics, done: int, *, log: bool, read_now: bool) -> None:
    self.flush()  # The previous log step's window, now that this step is queued.
    self.window.append(metrics)
    if log:
      self.pending = (self.window, time.perf_counter() - self.tick, done)
      self.window, self.tick = [], time.perf_counter()
      if read_now:
        self.flush()
    self.progress.update(1)

  def flush(self) -> None:
    if self.pending:
      window, seconds, done = self.pending
      self.pending = None
      scalars = _log_window(self.run, window, seconds, done, self.writer)
      self.loss_history.append((done, scalars["loss"]))
      self.progress.set_postfix(loss=f"{scalars['loss']:.3f}")

  def close(self) -> None:
    self.flush()
    self.progress.close()
    self.writer.flush()


def _log_window(run: Run, window: list[dict], seconds: float, step: int,
                writer) -> dict[str, float]:
  """Averages the window's metrics, checks them, writes them to TensorBoard and logs."""
  window = jax.device_get(window)
  scalars = {k: float(sum(m[k] for m in window) / len(window)) for k in window[0]}
  if "skipped_nonfinite" in scalars:
    scalars["skipped_nonfinite"] *= len(window)
  if not math.isfinite(scalars["loss"]) and run.config.nonfinite_policy == "stop":
    last = run.checkpoints.latest_step()
    raise NonFiniteLossError(
        f"The loss became {scalars['loss']} between steps {step - len(window) + 1} and "
        f"{step}. The last good checkpoint is step {last} in {run.checkpoints.directory} "
        "(nothing non-finite was saved). Lower the learning rate, or set "
        "TrainConfig.nonfinite_policy = 'skip' to drop such updates.")
  tokens = sum(float(m["num_tokens"]) for m in window)
  scalars.pop("num_tokens")
  scalars["target_tokens_per_second"] = tokens / max(seconds, 1e-9)
  scalars["steps_per_second"] = len(window) / max(seconds, 1e-9)
  peak = flops.peak_flops_per_device(run.config.peak_flops_per_device)
  if peak:
    step_flops = run.family.train_flops(
        run.model_config, run.config.batch_size, run.config.task_feature_lengths)
    scalars["mfu"] = step_flops * scalars["steps_per_second"] / (peak * jax.device_count())
  writer.write_scalars(step, scalars)
  logging.info("step %d: %s", step,
               ", ".join(f"{k}={v:.4g}" for k, v in sorted(scalars.items())))
  return scalars


def _evaluate(run: Run, state: steps.TrainState, step: int) -> dict[str, dict[str, float]]:
  results = evaluator_lib.evaluate(run.evaluator, run.predictor, state.params, step)
  run.eval_writer.write_scalars(step, evaluator_lib.flatten_metrics(results))
  run.eval_writer.flush()
  counts = evaluator_lib.example_counts(run.evaluator)
  for task, metrics in results.items():
    shown = ", ".join(f"{k}={v:.1f}" for k, v in metrics.items())
    logging.info("eval step %d %s (%d examples): %s", step, task, counts.get(task, 0), shown)
  return results


def _progress(config: TrainConfig, start_step: int):
  """A progress bar on a terminal only: redirected to a file, its carriage-return redraws
  would glue onto the log lines, and the periodic step lines say the same."""
  import sys
  import tqdm
  on_terminal = hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
  return tqdm.tqdm(total=config.train_steps, initial=start_step, desc="train",
                   unit="step", dynamic_ncols=True, file=sys.stderr,
                   disable=not (config.progress_bar and on_terminal) or jax.process_index() > 0)
