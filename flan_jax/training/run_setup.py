"""Checks a training configuration and wires the pieces a run needs, before compiling.

Every mistake a user can make in gin (unknown task, a mesh that does not divide the
devices, a batch the data axes cannot split, a vocabulary bigger than the model's,
MODEL_DIR holding another model) is reported here, not at step 10,000.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import shutil
from typing import Any

import flax.linen as nn
import jax
from etils import epath
from clu import metric_writers
from jax.sharding import Mesh, NamedSharding

from flan_jax import errors
from flan_jax.catalog import lookup as catalog
from flan_jax.catalog import preflight
from flan_jax.data import t5_features
from flan_jax.evaluation import evaluator as evaluator_lib
from flan_jax.evaluation import predict as predict_lib
from flan_jax.evaluation.predict import Predictor
from flan_jax.models import families
from flan_jax.runtime import checkpoints, model_dir as model_dir_lib, partitioning
from flan_jax.runtime.partitioning import PartitionConfig
from flan_jax.training import input_pipeline, optimizers, state
from flan_jax.training import data_source, run_checks
from flan_jax.training.config import TrainConfig
from flan_jax.training.losses import LossConfig
from flan_jax.training.optimizers import OptimizerConfig

MIN_FREE_BYTES = 256 * 2**20


@dataclasses.dataclass
class Run:
  """Everything the train loop uses, built and validated by `prepare`."""
  config: TrainConfig
  model_config: Any
  family: families.ModelFamily
  loss_config: LossConfig
  mesh: Mesh
  rules: partitioning.LogicalRules
  model: nn.Module
  tx: Any
  learning_rate_fn: Any
  layout: state.StateLayout
  batch_sharding: NamedSharding
  checkpoints: checkpoints.CheckpointStore
  optimizer_config: OptimizerConfig | None = None

  def record_start(self) -> None:
    """Writes the run record (see runtime/model_dir.py); called once training has really started."""
    _write_run_file(self.config, self.model_config, self.optimizer_config)
    _copy_vocabulary(self.config)

  def train_dataset(self):
    c = self.config
    return input_pipeline.train_dataset(
        c.mixture_or_task_name, c.task_feature_lengths, c.batch_size, c.seed,
        self.family.feature_converter(c.pack), use_cached=c.use_cached_tasks,
        data_shards=c.data_shards, premixed_dir=c.premixed_dir)

  @functools.cached_property
  def eval_writer(self):
    return metric_writers.create_default_writer(
        model_dir_lib.path(self.config.model_dir, model_dir_lib.EVAL_LOG_DIR), just_logging=jax.process_index() > 0)

  @functools.cached_property
  def evaluator(self):
    c = self.config
    name = c.eval_mixture_or_task_name or c.mixture_or_task_name
    return evaluator_lib.make_evaluator(name, c.task_feature_lengths, c.eval_split,
                                        c.eval_num_examples, seed=c.seed)

  @functools.cached_property
  def predictor(self) -> Predictor:
    """One predictor (one compiled decode) for every evaluation of the run."""
    return Predictor(self.model, self.mesh, self.rules, self.layout.shardings.params,
                     self.config.eval_batch_size,
                     max_decode_length=self.config.task_feature_lengths["targets"],
                     eos_id=predict_lib.eos_id_of(self.config.eval_mixture_or_task_name
                                                  or self.config.mixture_or_task_name))

  def restore_or_init(self) -> tuple[Any, int]:
    """The latest checkpoint in MODEL_DIR if any, else a fresh (or warm-started) state."""
    if self.checkpoints.latest_step() is not None:
      return self.checkpoints.restore(self.layout.abstract)
    initial = None
    if self.config.initial_checkpoint_path:
      from flan_jax.interop import initial_checkpoint
      initial = initial_checkpoint.load_params(self.config.initial_checkpoint_path,
                                               self.model_config)
    return state.init_state(self.model, self.tx, self.config.task_feature_lengths,
                            self.layout, self.config.seed, initial), 0


def prepare(config: TrainConfig, model_config: Any, optimizer: OptimizerConfig,
            loss: LossConfig, partition: PartitionConfig) -> Run:
  """Validates the configuration and builds mesh, model, optimizer and checkpoints."""
  _check_train_config(config)
  run_checks.check_feature_lengths(config, model_config)
  optimizer.validate()
  loss.validate()
  if config.cache_dirs:
    from flan_jax.mixtures import caching
    caching.use_cache_dirs(config.cache_dirs)
  catalog.add_task_modules(config.mixture_or_task_module)
  config = _with_checkpoint_vocabulary(config)
  t5_features.use_vocabulary(config.vocabulary)  # Before any task is registered.
  if config.premixed_dir:  # The rows are in the premix: no source data is needed.
    task = catalog.get_mixture_or_task(config.mixture_or_task_name, config.render_seed)
    data_source.check_premix(config, task)
  else:
    task = preflight.resolve_available(config.mixture_or_task_name, config.render_seed,
                                       config.skip_missing)
    data_source.check_per_task_scale(config, task)
  if config.eval_mixture_or_task_name:
    preflight.resolve_available(config.eval_mixture_or_task_name, config.render_seed,
                                config.skip_missing)
  family = families.family_of(model_config)
  _check_vocabulary(task, model_config)
  mesh = partitioning.create_mesh(partition)
  rules = partition.rules()
  _check_batch(config, mesh, rules)
  run_checks.check_memory_for_lengths(config, model_config, mesh, rules,
                                      run_checks.device_memory_bytes)
  _check_model_dir(config, model_config)
  model = family.build(model_config)
  tx = optimizers.make_optimizer(optimizer, config.train_steps)
  layout = state.state_layout(model, tx, config.task_feature_lengths, mesh, rules)
  store = checkpoints.CheckpointStore(
      config.model_dir, config.checkpoint_period, config.keep_checkpoints,
      best_metric=config.best_checkpoint_metric, best_mode=config.best_checkpoint_mode)
  store.check_compatible(layout.abstract, model_dir_lib.saved_optimizer_name(config.model_dir))
  run_checks.check_train_steps(config, store)
  return Run(config=config, model_config=model_config, family=family, loss_config=loss,
             mesh=mesh,
             rules=rules, model=model, tx=tx,
             learning_rate_fn=optimizers.make_schedule(optimizer, config.train_steps),
             layout=layout, batch_sharding=partitioning.batch_sharding(mesh, rules),
             checkpoints=store, optimizer_config=optimizer)


def first_batches(run: Run, position: int) -> tuple[input_pipeline.ShardedBatches, dict]:
  """(batches, first batch) from `position`, built before anything compiles, so a data
  error (a record missing a field, a failing preprocessor) is reported naming the task."""
  return run_checks.first_batch(
      run.config.mixture_or_task_name,
      # Prefetch: the next batch is prepared while the host waits on the device.
      lambda: input_pipeline.ShardedBatches(run.train_dataset().prefetch(2), run.batch_sharding,
                                            position))


def _check_train_config(config: TrainConfig) -> None:
  lengths = dict(config.task_feature_lengths or {})
  if set(lengths) != {"inputs", "targets"} or any(int(v) < 1 for v in lengths.values()):
    raise errors.ConfigError(
        f"TASK_FEATURE_LENGTHS must be {{'inputs': N, 'targets': M}} with positive "
        f"lengths, got {lengths}.")
  if config.train_steps < 1:
    raise errors.ConfigError(f"TRAIN_STEPS must be >= 1, got {config.train_steps}.")
  if config.nonfinite_policy not in ("stop", "skip"):
    raise errors.ConfigError(
        f"TrainConfig.nonfinite_policy must be 'stop' or 'skip', got "
        f"{config.nonfinite_policy!r}.")
  if config.best_checkpoint_mode not in ("max", "min"):
    raise errors.ConfigError(f"TrainConfig.best_checkpoint_mode must be 'max' or 'min', got "
                             f"{config.best_checkpoint_mode!r}.")
  if config.log_period < 1:
    raise errors.ConfigError(f"TrainConfig.log_period must be >= 1, got {config.log_period}.")
  if not config.model_dir:
    raise errors.ConfigError("MODEL_DIR is not set; pass --gin.MODEL_DIR=\"'/path'\".")


def _with_checkpoint_vocabulary(config: TrainConfig) -> TrainConfig:
  """Without VOCABULARY, a run starting from a Hugging Face decoder directory tokenizes with
  the checkpoint's own tokenizer (tokenizer.json, else tokenizer.model), as users expect."""
  if config.vocabulary or not config.initial_checkpoint_path:
    return config
  from flan_jax.interop import hf_decoder  # pylint: disable=g-import-not-at-top
  found = hf_decoder.checkpoint_vocabulary(config.initial_checkpoint_path)
  if found is None:
    return config
  logging.info("vocabulary: %s, the tokenizer of INITIAL_CHECKPOINT_PATH (set VOCABULARY to "
               "use another)", found)
  return dataclasses.replace(config, vocabulary=found)


def _check_vocabulary(task: Any, model_config: Any) -> None:
  for name, feature in task.output_features.items():
    size = feature.vocabulary.vocab_size
    if size > model_config.vocab_size:
      raise errors.ConfigError(
          f"Feature {name!r} of {task.name!r} uses a vocabulary of {size} ids but the "
          f"model's vocab_size is {model_config.vocab_size}; set "
          f"{type(model_config).__name__}.vocab_size to "
          f"at least {size} (a multiple of 128 is fastest).")


def _check_batch(config: TrainConfig, mesh: Mesh, rules) -> None:
  dp = partitioning.data_parallel_size(mesh, rules)
  per_micro = config.batch_size // max(config.num_microbatches, 1)
  if config.batch_size % max(config.num_microbatches, 1) or per_micro % dp:
    raise errors.ConfigError(
        f"BATCH_SIZE={config.batch_size} with {config.num_microbatches} microbatch(es) "
        f"cannot be split over the {dp} data-parallel devices (mesh {dict(mesh.shape)}); "
        f"make BATCH_SIZE a multiple of {dp * max(config.num_microbatches, 1)}.")
  input_pipeline.check_batch_split(config.batch_size, config.data_shards)
  input_pipeline.local_shards(config.data_shards)


def _check_model_dir(config: TrainConfig, model_config: Any) -> None:
  """MODEL_DIR must be writable, have room, and not belong to another model.

  Paths may be local or remote (gs://...); the free-space check applies to local ones.
  """
  model_dir = epath.Path(config.model_dir)
  try:
    model_dir.mkdir(parents=True, exist_ok=True)
    probe = model_dir / f".write_probe_{os.getpid()}_{jax.process_index()}"
    probe.write_text("ok")
    probe.unlink()
  except OSError as e:
    raise errors.ConfigError(f"MODEL_DIR {config.model_dir!r} is not writable: {e}.") from e
  if "://" not in config.model_dir:
    free = shutil.disk_usage(config.model_dir).free
    if free < MIN_FREE_BYTES:
      raise errors.ConfigError(
          f"MODEL_DIR {config.model_dir!r} has only {free // 2**20} MiB free; checkpoints "
          "need more. Free some space or choose another folder.")
  record = model_dir_lib.read_run_record(config.model_dir)
  if record is not None:
    saved = record.get("model_config", {})
    current = _jsonable(dataclasses.asdict(model_config))
    diff = {k: (saved.get(k), v) for k, v in current.items()
            if k in saved and saved.get(k) != v and k not in _NON_SHAPE_FIELDS}
    if diff:
      shown = ", ".join(f"{k}: saved {a!r} vs now {b!r}" for k, (a, b) in diff.items())
      raise errors.CheckpointMismatchError(
          f"MODEL_DIR {config.model_dir!r} belongs to a model with a different shape "
          f"({shown}). Nothing was overwritten; use a new MODEL_DIR or the original model "
          "config.")


# Fields that may change between runs in the same MODEL_DIR (they change no shapes).
_NON_SHAPE_FIELDS = {"dropout_rate", "dtype", "remat_policy", "attention_impl"}


def _write_run_file(config: TrainConfig, model_config: Any,
                    optimizer: OptimizerConfig | None = None) -> None:
  if jax.process_index() != 0:
    return
  payload = {"model_family": type(model_config).__name__,
             "train_config": _jsonable(dataclasses.asdict(config)),
             "model_config": _jsonable(dataclasses.asdict(model_config))}
  if optimizer is not None:
    payload["optimizer_config"] = _jsonable(dataclasses.asdict(optimizer))
  model_dir_lib.write_run_record(config.model_dir, payload)


def _copy_vocabulary(config: TrainConfig) -> None:
  """MODEL_DIR/vocabulary/ gets the task's SentencePiece model or tokenizer.json, so `eval`,
  `infer` and `convert --to hf` find it without knowing which task or setting the run used."""
  if jax.process_index() != 0:
    return
  from flan_jax.interop import ConversionError, hf_tokenizer
  task = catalog.get_mixture_or_task(config.mixture_or_task_name)
  try:
    hf_tokenizer.save_seqio_vocabulary(task.output_features["inputs"].vocabulary,
                                       config.model_dir)
  except ConversionError as e:  # Training needs no copy; `convert --vocabulary` can add it.
    logging.warning("Not copying the vocabulary into MODEL_DIR: %s", e)


def _jsonable(value: Any) -> Any:
  return json.loads(json.dumps(value, default=lambda v: list(v) if isinstance(v, tuple)
                               else str(v)))
