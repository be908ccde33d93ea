"""`train()`: finetune a model on a SeqIO task or mixture over a device mesh.

The entry point (flan_jax/cli/train.py) binds the config dataclasses from gin; this
module is gin-free. Everything that can be wrong with the configuration is checked in
`prepare()` before anything is compiled.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Mapping

import flax.linen as nn
import jax
from clu import metric_writers

from flan_jax.evaluation import evaluator as evaluator_lib
from flan_jax.evaluation.predict import Predictor
from flan_jax.training import checkpoints, input_pipeline, steps
from flan_jax.training.losses import LossConfig
from flan_jax.training.optimizers import OptimizerConfig
from flan_jax.training.partitioning import PartitionConfig
from flan_jax.training.config import TrainConfig
from flan_jax.training.run_setup import Run, prepare


def train(config: TrainConfig, model_config: Any, optimizer: OptimizerConfig = OptimizerConfig(),
          loss: LossConfig = LossConfig(), partitioning: PartitionConfig = PartitionConfig()
          ) -> dict[str, Any]:
  """Trains to `config.train_steps`, resuming from MODEL_DIR's latest checkpoint.

  Returns a summary: the first and last logged loss and the final eval metrics.
  """
  run = prepare(config, model_config, optimizer, loss, partitioning)
  try:
    with jax.set_mesh(run.mesh), nn.logical_axis_rules(run.rules):
      return _train_loop(run)
  finally:
    run.checkpoints.close()  # Let an in-flight async save finish before exiting.


def _train_loop(run: Run) -> dict[str, Any]:
  config = run.config
  state, position = run.restore_or_init()
  start_step = int(state.step)
  batches = input_pipeline.ShardedBatches(run.train_dataset(), run.batch_sharding, position)
  train_step = jax.jit(
      steps.make_train_step(run.model, run.tx, run.loss_config, config.num_microbatches,
                            run.learning_rate_fn),
      in_shardings=(run.layout.shardings, run.batch_sharding, None),
      out_shardings=(run.layout.shardings, None), donate_argnums=(0,))
  writer = metric_writers.create_default_writer(
      f"{config.model_dir}/train", just_logging=jax.process_index() > 0, asynchronous=True)
  dropout_rng = jax.random.PRNGKey(config.seed + 1)
  summary: dict[str, Any] = {"model_dir": config.model_dir, "start_step": start_step}
  progress = _progress(config, start_step)
  window, tick = [], time.perf_counter()
  for step in range(start_step, config.train_steps):
    state, metrics = train_step(state, next(batches), dropout_rng)
    window.append(metrics)
    done = step + 1
    if done % config.log_period == 0 or done == config.train_steps:
      scalars = _mean_scalars(window, time.perf_counter() - tick, run)
      window, tick = [], time.perf_counter()
      writer.write_scalars(done, scalars)
      summary.setdefault("first_loss", scalars["loss"])
      summary["last_loss"] = scalars["loss"]
      progress.set_postfix(loss=f"{scalars['loss']:.3f}")
    progress.update(1)
    if run.checkpoints.save(done, state, batches.position):
      logging.info("Saving checkpoint for step %d.", done)
    if config.eval_period and done % config.eval_period == 0 and done < config.train_steps:
      _evaluate(run, state, done)
  progress.close()
  run.checkpoints.save(int(state.step), state, batches.position, force=True)
  run.checkpoints.wait()
  summary["final_step"] = int(state.step)
  summary["eval"] = _evaluate(run, state, int(state.step))
  writer.flush()
  return summary


def _evaluate(run: Run, state: steps.TrainState, step: int) -> dict[str, dict[str, float]]:
  evaluator = run.evaluator
  if evaluator is None:
    return {}
  predictor = Predictor(run.model, run.mesh, run.rules, run.layout.shardings.params,
                        run.config.eval_batch_size,
                        max_decode_length=run.config.task_feature_lengths["targets"])
  results = evaluator_lib.evaluate(evaluator, predictor, state.params, step)
  run.eval_writer.write_scalars(step, evaluator_lib.flatten_metrics(results))
  run.eval_writer.flush()
  for task, metrics in results.items():
    shown = ", ".join(f"{k}={v:.1f}" for k, v in metrics.items())
    logging.info("eval step %d %s: %s", step, task, shown)
    if run.config.progress_bar:
      print(f"[eval step {step}] {task}: {shown}", flush=True)
  return results


def _mean_scalars(window: list[dict], seconds: float, run: Run) -> dict[str, float]:
  window = jax.device_get(window)
  scalars = {k: float(sum(m[k] for m in window) / len(window)) for k in window[0]}
  tokens = sum(float(m["num_tokens"]) for m in window)
  scalars["target_tokens_per_second"] = tokens / max(seconds, 1e-9)
  scalars["steps_per_second"] = len(window) / max(seconds, 1e-9)
  scalars.pop("num_tokens")
  return scalars


def _progress(config: TrainConfig, start_step: int):
  import tqdm
  return tqdm.tqdm(total=config.train_steps, initial=start_step, desc="train",
                   unit="step", dynamic_ncols=True,
                   disable=not config.progress_bar or jax.process_index() > 0)
