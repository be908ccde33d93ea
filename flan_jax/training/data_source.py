"""Which input path a run uses, checked at start-up: a premix (one source) or one SeqIO
pipeline per task, refused for mixtures too large for it.

Per-task cost (docs/BENCHMARKS.md, "Pre-mixed stream", scripts/bench_premix.py): toy_flan's
51 per-task pipelines took 104 s and 1.96 GiB to the first packed batch, against 7.1 s and
0.99 GiB from its premix in the same run (2 shared cores at load ~10): ~2 s and ~19 MiB more
per task, on every host at every restart; a premix's start does not grow with the tasks.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import jax
import numpy as np

from flan_jax import errors

# Most tasks a mixture may have on the per-task path unless TrainConfig says otherwise.
MAX_PER_TASK_PIPELINES = 256
# Measured start-up cost of one task's pipeline: (104.3 s - 7.1 s) / 51 and
# (1,959 - 991 MiB) / 51 (docs/BENCHMARKS.md, "Pre-mixed stream"; load ~10 on 2 cores).
SECONDS_PER_TASK = 1.9
MIB_PER_TASK = 19


def num_tasks(provider: Any) -> int:
  return len(getattr(provider, "tasks", None) or [provider])


def check_per_task_scale(config: Any, provider: Any) -> None:
  """Refuses a per-task pipeline over MAX_PER_TASK_PIPELINES tasks, with the way out."""
  count = num_tasks(provider)
  if count <= MAX_PER_TASK_PIPELINES or config.force_per_task_pipelines:
    return
  name = config.mixture_or_task_name
  minutes = count * SECONDS_PER_TASK / 60
  gib = count * MIB_PER_TASK / 1024
  raise errors.ConfigError(
      f"{name!r} mixes {count:,} tasks: without a premix the trainer builds one SeqIO "
      f"pipeline per task before the first batch (measured ~{SECONDS_PER_TASK} s and "
      f"~{MIB_PER_TASK} MiB per task on 2 busy cores: ~{minutes:,.0f} min and ~{gib:,.0f} GiB "
      f"on every host at every restart; docs/BENCHMARKS.md). Build the stream once with `flan-jax premix "
      f"{name} --out DIR --num-examples N` and train with --gin.PREMIXED_DIR=\"'DIR'\", or "
      "set TrainConfig.force_per_task_pipelines=True to build the per-task pipelines anyway.")


def check_premix(config: Any, provider: Any):
  """Reads PREMIXED_DIR's manifest and refuses it unless it was built for this run."""
  from flan_jax.premix import manifest, reader  # pylint: disable=g-import-not-at-top
  directory = config.premixed_dir
  premix = manifest.read(directory)
  manifest.check_matches(premix, directory, config.mixture_or_task_name, config.render_seed,
                         provider.output_features)
  reader.check_shards(directory, premix, config.data_shards or jax.process_count())
  return premix


def rows_per_packed_example(batch: dict) -> float:
  """Mean number of rows packed into one example of a (global) batch, from its segment ids."""
  segments = batch.get("decoder_segment_ids")
  if segments is None:
    return 1.0
  local = np.concatenate([np.asarray(s.data) for s in segments.addressable_shards])
  return float(local.max(axis=1).mean())


def log_passes(config: Any, first_batch: dict) -> None:
  """Says how many passes over the premix the run's steps need (a second pass repeats rows)."""
  from flan_jax.premix import manifest  # pylint: disable=g-import-not-at-top
  premix = manifest.read(config.premixed_dir)
  per_example = rows_per_packed_example(first_batch)
  rows = config.train_steps * config.batch_size * per_example
  passes = rows / max(premix.num_examples, 1)
  logging.info("premix %s: %s rows; %d steps x %d packed rows x ~%.1f rows each read ~%s "
               "rows (%.2f passes%s)", config.premixed_dir, f"{premix.num_examples:,}",
               config.train_steps, config.batch_size, per_example,
               f"{math.ceil(rows):,}", passes,
               "; later passes repeat the same renders in a new order" if passes > 1 else "")
