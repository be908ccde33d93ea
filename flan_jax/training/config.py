"""The run-level training config (bound from gin at the entry point)."""

from __future__ import annotations

import dataclasses
from typing import Mapping


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """What to train on, for how long, and how often to evaluate and checkpoint.

  Field names mirror T5X's macros: MODEL_DIR, MIXTURE_OR_TASK_NAME, TASK_FEATURE_LENGTHS,
  TRAIN_STEPS (absolute: counts the steps of INITIAL_CHECKPOINT_PATH), BATCH_SIZE,
  EVAL_PERIOD, USE_CACHED_TASKS, INITIAL_CHECKPOINT_PATH, MIXTURE_OR_TASK_MODULE, RENDER_SEED,
  and PREMIXED_DIR (flan_jax's own).
  """
  model_dir: str
  mixture_or_task_name: str
  task_feature_lengths: Mapping[str, int]
  train_steps: int
  batch_size: int = 128
  seed: int = 0
  eval_period: int = 1000          # 0: evaluate only at the end.
  checkpoint_period: int = 5000
  keep_checkpoints: int | None = 3
  # Also keep the best checkpoint by this eval scalar ('task/metric', as in TensorBoard),
  # in MODEL_DIR/best_checkpoint; best_checkpoint_mode is 'max' or 'min'.
  best_checkpoint_metric: str | None = None
  best_checkpoint_mode: str = "max"
  log_period: int = 10
  use_cached_tasks: bool = False
  cache_dirs: tuple[str, ...] = ()  # Where `flan-jax cache` wrote cached tasks.
  pack: bool = True
  num_microbatches: int = 1
  # SeqIO data shards (default: one per process). Fix it to get the same global batches
  # whatever the number of hosts (e.g. to compare a 1-host and a 2-host run).
  data_shards: int | None = None
  initial_checkpoint_path: str | None = None
  eval_mixture_or_task_name: str | None = None  # Default: the training mixture.
  eval_split: str = "validation"
  eval_num_examples: int | None = None          # Per task; None: the whole split.
  eval_batch_size: int = 64
  progress_bar: bool = True
  # What a NaN/Inf loss does: 'stop' (raise, naming the step and the last good
  # checkpoint; nothing non-finite is ever saved) or 'skip' (drop that update).
  nonfinite_policy: str = "stop"
  # Peak FLOP/s per device for MFU; None: looked up from the device kind (none on CPU).
  peak_flops_per_device: float | None = None
  # Module(s) imported before the task is looked up (T5X MIXTURE_OR_TASK_MODULE): they
  # register SeqIO tasks/mixtures on import or follow the catalog contract.
  mixture_or_task_module: str | tuple[str, ...] | None = None
  # Seed of every prompt draw (template, options, exemplars); 0 is the catalog default.
  render_seed: int = 0
  # Vocabulary of the real collections and suites (gin VOCABULARY): a SentencePiece model
  # file (local or gs://), a Hugging Face tokenizer.json, or a checkpoint directory holding
  # one; None: the tokenizer of a Hugging Face decoder INITIAL_CHECKPOINT_PATH, else T5's
  # public vocabulary. Exported as $FLAN_JAX_VOCABULARY.
  vocabulary: str | None = None
  # Train on the datasets whose data is in place, naming and skipping the others (the
  # remaining rates are renormalized); False: refuse to start when any is missing.
  skip_missing: bool = False
  # A folder written by `flan-jax premix` for this mixture (gin PREMIXED_DIR): training reads
  # its tokenized rows as one source instead of one SeqIO pipeline per task.
  premixed_dir: str | None = None
  # Without a premix, a mixture of more than MAX_PER_TASK_PIPELINES (256) tasks is refused at
  # start-up (its start takes minutes and GiBs); True builds the per-task pipelines anyway.
  force_per_task_pipelines: bool = False
