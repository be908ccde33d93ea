"""The premix build on Apache Beam: the same rows, bytes and manifest as `build.build`, with
each drawn task rendered on a worker.

  driver:  draw every row's task (as the local build does) -> one element per drawn task:
           (task index, its output positions)
  workers: RenderTask (the task's rows at those positions, as records; the same rendering
           call the local build makes) -> (file index, (position, record))
           -> GroupByKey per output file -> WriteFile (records in position order)
  driver:  check every file's row count, write the manifest, publish the folder.

A worker holds one task's pipeline at a time, and a file's rows once (a file is
num_examples / num_files rows: pick --num-files so that fits a worker). Runner options pass
straight to Beam: DirectRunner by default; Dataflow, Flink or Spark with their own flags
(docs/premix.md). The output folder must be on a file system every worker can write (a
gs:// or shared path for Dataflow); the staging folder is created beside it.
"""

from __future__ import annotations

import os
import shutil
from typing import Iterator, Sequence

import numpy as np

from flan_jax import errors
from flan_jax.mixtures import export
from flan_jax.premix import build as build_lib
from flan_jax.premix import manifest as manifest_lib


def _require_beam():
  try:
    import apache_beam  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise errors.ConfigError("`flan-jax premix --runner ...` needs Apache Beam: "
                             "pip install -e .[cache]") from None
  return apache_beam


class _Collect:
  """The `out` of export.render_task_rows: keeps (position, line) pairs."""

  def __init__(self):
    self.rows: list[tuple[int, bytes]] = []

  def add(self, positions: Sequence[int], lines: Sequence[bytes]) -> None:
    self.rows.extend(zip(positions, lines))


def _task(cfg: build_lib.PremixConfig, name: str, task_modules: Sequence[str]):
  """The task on a worker: registered here if the worker has not registered it yet."""
  import seqio  # pylint: disable=g-import-not-at-top
  if name not in seqio.TaskRegistry.names():
    from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
    catalog.add_task_modules(list(task_modules))
    catalog.get_mixture_or_task(cfg.name, render_seed=cfg.render_seed)
  return seqio.TaskRegistry.get(name)


def render_task(element, cfg: build_lib.PremixConfig,
                task_modules: Sequence[str], task_ids: dict[str, int],
                file_starts: np.ndarray) -> Iterator[tuple[int, tuple[int, bytes]]]:
  """(file index, (position, record)) for every row drawn from one task."""
  import base64  # pylint: disable=g-import-not-at-top
  _, name, positions = element
  out = _Collect()
  export.render_task_rows(_task(cfg, name, task_modules), build_lib.export_config(cfg),
                          positions, out, build_lib.record_encoder(task_ids))
  files = np.searchsorted(file_starts, [p for p, _ in out.rows], side="right") - 1
  for file_index, (position, line) in zip(files.tolist(), out.rows):
    yield file_index, (int(position), base64.b64decode(line))


def write_file(keyed, staging: str, names: Sequence[str]) -> tuple[str, int]:
  """Writes one output file's records in position order; returns (name, rows)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  file_index, rows = keyed
  rows = sorted(rows)
  with tf.io.TFRecordWriter(os.path.join(staging, names[file_index])) as writer:
    for _, record in rows:
      writer.write(record)
  return names[file_index], len(rows)


def build(cfg: build_lib.PremixConfig, pipeline_options: Sequence[str],
          task_modules: Sequence[str] = ()) -> manifest_lib.Manifest:
  """Builds the premix with Beam; the result matches `build_lib.build` byte for byte."""
  beam = _require_beam()
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  build_lib.check_config(cfg)
  plan = build_lib.plan(catalog.get_mixture_or_task(cfg.name, render_seed=cfg.render_seed), cfg)
  counts = build_lib.task_row_counts(plan, cfg)
  rows_per_file = build_lib.file_rows(cfg.num_examples, cfg.num_files)
  file_starts = np.concatenate([[0], np.cumsum(rows_per_file)[:-1]])
  names = [build_lib.FILE_PATTERN.format(index=k, count=cfg.num_files)
           for k in range(cfg.num_files)]
  task_ids = {t.name: i for i, t in enumerate(plan.tasks)}
  elements = [(i, plan.tasks[i].name, positions) for i, positions in
              export.task_positions(plan, build_lib.export_config(cfg))]
  parent = os.path.dirname(os.path.abspath(cfg.out))
  os.makedirs(parent, exist_ok=True)
  staging = os.path.join(parent, f".premix-beam-{os.path.basename(os.path.abspath(cfg.out))}")
  shutil.rmtree(staging, ignore_errors=True)
  os.makedirs(staging)
  options = list(pipeline_options)
  if not any(o.startswith("--runner") for o in options):
    options.insert(0, "--runner=DirectRunner")
  try:
    with beam.Pipeline(options=beam.options.pipeline_options.PipelineOptions(options)) as p:
      _ = (p | "DrawnTasks" >> beam.Create(elements)
           | "Reshuffle" >> beam.Reshuffle()
           | "RenderTask" >> beam.FlatMap(render_task, cfg, tuple(task_modules), task_ids,
                                          file_starts)
           | "ByFile" >> beam.GroupByKey()
           | "WriteFile" >> beam.Map(write_file, staging, names))
    _check_files(staging, names, rows_per_file)
    manifest = build_lib.make_manifest(cfg, plan, names, counts)
    manifest_lib.write(staging, manifest)
    build_lib.publish(staging, cfg.out)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
  return manifest


def _check_files(staging: str, names: Sequence[str], rows_per_file: Sequence[int]) -> None:
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  for name, rows in zip(names, rows_per_file):
    path = os.path.join(staging, name)
    got = sum(1 for _ in tf.data.TFRecordDataset(path)) if os.path.exists(path) else 0
    if got != rows:
      raise RuntimeError(f"Beam wrote {got} rows to {name}, expected {rows}.")
