"""`build(PremixConfig)`: a mixture rendered and tokenized once into TFRecord files + manifest.

Rows are drawn exactly as `flan-jax export` draws them (flan_jax/mixtures/export.py: every
row's task drawn by the mixture's rates with the seed, drawn tasks rendered one pipeline at
a time into a position-keyed spill), so memory and open files do not grow with the number
of tasks. Each row is kept as its token ids (a tf.train.Example: `inputs`, `targets`,
`task`) instead of text. The stream is written in drawn order over `num_files` files of
consecutive rows (file k holds rows [k N / F, (k + 1) N / F)), one file open at a time.
The drawn order is already shuffled (i.i.d. task draws, each task's rows shuffled with the
seed), so any file, or any set of files, is a sample of the mixture.

The build writes into a staging folder beside `out` and renames it over `out` only once
the manifest is written; an existing `out` is kept unless `overwrite`.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import shutil
import sys
import tempfile
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from flan_jax import errors
from flan_jax.mixtures import export
from flan_jax.premix import manifest as manifest_lib

FILE_PATTERN = "rows-{index:05d}-of-{count:05d}.tfrecord"


@dataclasses.dataclass(frozen=True)
class PremixConfig:
  """What to pre-mix and where. `render_seed` must be the seed the tasks are registered with."""
  name: str
  out: str
  num_examples: int
  seed: int = 0
  render_seed: int = 0
  split: str = "train"
  num_files: int = 16
  overwrite: bool = False


def check_config(cfg: PremixConfig) -> None:
  """Refuses a bad config before anything is built or written."""
  if cfg.num_files < 1:
    raise errors.ConfigError(f"--num-files must be >= 1, got {cfg.num_files}.")
  if cfg.num_examples < cfg.num_files:
    raise errors.ConfigError(
        f"--num-examples {cfg.num_examples} is fewer than --num-files {cfg.num_files}; every "
        "file needs rows. Ask for more rows or fewer files.")
  if os.path.exists(cfg.out) and not cfg.overwrite and (
      not os.path.isdir(cfg.out) or os.listdir(cfg.out)):
    raise errors.ConfigError(f"--out {cfg.out!r} exists and is not empty; pass --overwrite "
                             "to replace it (only once the new premix is complete).")


def export_config(cfg: PremixConfig) -> export.ExportConfig:
  return export.ExportConfig(name=cfg.name, out=cfg.out, split=cfg.split,
                             num_examples=cfg.num_examples, seed=cfg.seed)


def plan(provider: Any, cfg: PremixConfig) -> export.Plan:
  """The export's plan; a single task becomes a one-task mixture (rate 1)."""
  rows = export.plan_rows(provider, export_config(cfg))
  if rows.rates is None:
    return export.Plan(rows.tasks, [1.0], cfg.num_examples)
  return rows


def file_rows(num_examples: int, num_files: int) -> list[int]:
  return [export.shard_size(num_examples, k, num_files) for k in range(num_files)]


def task_row_counts(plan_: export.Plan, cfg: PremixConfig) -> np.ndarray:
  """Rows drawn per task (the same draws the build renders), chunk by chunk."""
  counts = np.zeros(len(plan_.tasks), np.int64)
  for chunk in export.task_draws(plan_.rates, plan_.count, export.sample_seed(export_config(cfg))):
    counts += np.bincount(chunk, minlength=len(plan_.tasks))
  return counts


def serialize_row(inputs: Iterable[int], targets: Iterable[int], task_id: int) -> bytes:
  """One row as a serialized tf.train.Example (int64 token lists and the task's index)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  def ints(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))

  return tf.train.Example(features=tf.train.Features(feature={
      "inputs": ints(inputs), "targets": ints(targets), "task": ints([task_id])})
  ).SerializeToString()


def record_encoder(task_ids: Mapping[str, int]) -> export.RowEncoder:
  """The export's row encoder for premix: a base64 line of the row's Example (the spill is
  line-based, so the binary record is armored)."""

  def for_task(task, element_spec) -> Callable[[dict], bytes]:
    del element_spec
    task_id = task_ids[task.name]

    def encode(example) -> bytes:
      record = serialize_row(example["inputs"].tolist(), example["targets"].tolist(), task_id)
      return base64.b64encode(record) + b"\n"

    return encode

  return for_task


class FileWriter:
  """Writes the stream's records over files of fixed row counts, one file open at a time."""

  def __init__(self, directory: str, rows_per_file: list[int]):
    self._dir, self._rows = directory, rows_per_file
    self._index, self._left, self._writer = -1, 0, None
    self.names = [FILE_PATTERN.format(index=k, count=len(rows_per_file))
                  for k in range(len(rows_per_file))]

  def write(self, record: bytes) -> None:
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    while self._left == 0:
      self._close_current()
      self._index += 1
      if self._index >= len(self._rows):
        raise RuntimeError("More rows than the premix's files hold.")
      self._writer = tf.io.TFRecordWriter(os.path.join(self._dir, self.names[self._index]))
      self._left = self._rows[self._index]
    self._writer.write(record)
    self._left -= 1

  def _close_current(self) -> None:
    if self._writer is not None:
      self._writer.close()
      self._writer = None

  def close(self) -> None:
    self._close_current()
    if self._index != len(self._rows) - 1 or self._left:
      raise RuntimeError("Fewer rows than the premix's files hold.")


def make_manifest(cfg: PremixConfig, plan_: export.Plan, names: list[str],
                  counts: np.ndarray) -> manifest_lib.Manifest:
  rows = file_rows(cfg.num_examples, cfg.num_files)
  return manifest_lib.Manifest(
      mixture=cfg.name, split=cfg.split, seed=cfg.seed, render_seed=cfg.render_seed,
      num_examples=cfg.num_examples, files=tuple(zip(names, rows)),
      tasks=tuple(t.name for t in plan_.tasks), task_rows=tuple(int(c) for c in counts),
      rates=tuple(float(r) for r in plan_.rates),
      features=manifest_lib.describe_features(plan_.tasks[0].output_features),
      code_version=manifest_lib.code_version())


def publish(staging: str, out: str) -> None:
  """Moves the finished staging folder to `out`, replacing what was there only now."""
  old = None
  if os.path.exists(out):
    old = tempfile.mkdtemp(prefix=".premix-old-", dir=os.path.dirname(os.path.abspath(out)))
    os.rename(out, os.path.join(old, "dir"))
  os.rename(staging, out)
  if old:
    shutil.rmtree(old)


def build(cfg: PremixConfig, progress: bool = True) -> manifest_lib.Manifest:
  """Renders, tokenizes and writes the premix; returns its manifest."""
  from tqdm import tqdm  # pylint: disable=g-import-not-at-top
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  check_config(cfg)
  plan_ = plan(catalog.get_mixture_or_task(cfg.name, render_seed=cfg.render_seed), cfg)
  counts = task_row_counts(plan_, cfg)
  parent = os.path.dirname(os.path.abspath(cfg.out))
  os.makedirs(parent, exist_ok=True)
  staging = tempfile.mkdtemp(prefix=".premix-build-", dir=parent)
  try:
    writer = FileWriter(staging, file_rows(cfg.num_examples, cfg.num_files))
    encoder = record_encoder({t.name: i for i, t in enumerate(plan_.tasks)})
    with tempfile.TemporaryDirectory(prefix="spill-", dir=staging) as spill_dir, \
        tqdm(total=cfg.num_examples, unit="rows", disable=not progress, file=sys.stderr,
             mininterval=1.0, desc=cfg.name) as bar:
      for chunk, _ in export.mixture_chunks(plan_, export_config(cfg), spill_dir, bar, encoder):
        for line in chunk.splitlines():
          writer.write(base64.b64decode(line))
    writer.close()
    manifest = make_manifest(cfg, plan_, writer.names, counts)
    manifest_lib.write(staging, manifest)
    publish(staging, cfg.out)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
  return manifest
