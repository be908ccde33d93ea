"""Scores predictions written by any system with a task's own answer extraction and metrics.

Rows are JSON objects with `prediction` and `target` (or `targets`, as `flan-jax infer`
writes); with a mixture, each row also names its `task`. No suite data is read.
"""

from __future__ import annotations

import json
import os
from typing import Iterable, Iterator, Mapping

import seqio

from flan_jax import errors
from flan_jax.evaluation import evaluator

TARGET_KEYS = ("target", "targets")


class PredictionsFileError(errors.FlanJaxError, ValueError):
  """A predictions file is not JSON lines of {prediction, target} objects."""


def check_path(path: str) -> None:
  """PredictionsFileError unless `path` is a file (checked before any task is looked up)."""
  if os.path.isdir(path):
    raise PredictionsFileError(f"--predictions {path} is a folder: pass the JSON-lines file "
                               "of predictions itself (e.g. what `flan-jax infer --out` wrote).")
  if not os.path.isfile(path):
    raise PredictionsFileError(f"--predictions {path} does not exist: pass the JSON-lines file "
                               "of predictions (e.g. what `flan-jax infer --out` wrote).")


def _lines(path: str) -> Iterator[tuple[int, str]]:
  """(line number, text) of a UTF-8 file; PredictionsFileError if it is not one."""
  check_path(path)
  with open(path, "rb") as f:
    for number, raw in enumerate(f, 1):
      try:
        yield number, raw.decode("utf-8")
      except UnicodeDecodeError as e:
        raise PredictionsFileError(
            f"{path}:{number}: not UTF-8 text ({e.reason} at byte {e.start} of the line); "
            "write the predictions file as UTF-8 JSON lines.") from None


def read_rows(path: str) -> Iterator[tuple[str, dict]]:
  """(file:line, row) for each non-blank line; PredictionsFileError naming the line if bad."""
  for number, line in _lines(path):
    if not line.strip():
      continue
    where = f"{path}:{number}"
    try:
      row = json.loads(line)
    except json.JSONDecodeError as e:
      raise PredictionsFileError(f"{where}: not valid JSON ({e.msg}).") from None
    if not isinstance(row, dict) or "prediction" not in row or not any(
        k in row for k in TARGET_KEYS):
      keys = sorted(row) if isinstance(row, dict) else type(row).__name__
      raise PredictionsFileError(
          f"{where}: each row needs 'prediction' and 'target' (or 'targets'); got {keys}.")
    yield where, row


def score_task(task: seqio.Task, rows: Iterable[Mapping]) -> dict[str, float]:
  """The task's metrics over rows, each side passed through the task's postprocess_fn."""
  rows = list(rows)
  post = task.postprocess_fn or (lambda text, example=None, is_target=False: text)
  targets, predictions = [], []
  for row in rows:
    target = next(row[k] for k in TARGET_KEYS if k in row)
    targets.append(post(str(target), example=None, is_target=True))
    predictions.append(post(str(row["prediction"]), example=None, is_target=False))
  metrics: dict[str, float] = {}
  for fn in task.predict_metric_fns:
    metrics.update({k: float(getattr(v, "value", v)) for k, v in fn(targets, predictions).items()})
  metrics["num_examples"] = float(len(rows))
  return metrics


def score_file(provider: seqio.Task | seqio.Mixture, path: str) -> dict[str, dict[str, float]]:
  """{task: metrics} for a predictions file scored against a task or a mixture's tasks."""
  tasks = {t.name: t for t in evaluator.subtasks(provider)}
  single = isinstance(provider, seqio.Task)
  grouped: dict[str, list[dict]] = {}
  for where, row in read_rows(path):
    name = provider.name if single else row.get("task")
    if single and row.get("task", name) != name:
      raise PredictionsFileError(
          f"{where}: the row is for task {row['task']!r}, but --task is {name!r}; score it "
          "with --task set to its task or to a mixture holding both, or drop its 'task' field.")
    if name not in tasks:
      raise PredictionsFileError(
          f"{where}: row's task {row.get('task')!r} is not part of {provider.name!r}; "
          "with a mixture every row needs a 'task' field naming one of its tasks.")
    grouped.setdefault(name, []).append(row)
  if not grouped:
    raise PredictionsFileError(f"{path} holds no predictions.")
  return {name: score_task(tasks[name], rows) for name, rows in sorted(grouped.items())}


def missing_tasks(provider: seqio.Task | seqio.Mixture,
                  results: Mapping[str, Mapping[str, float]]) -> list[str]:
  """The provider's tasks that no prediction row scored (its average leaves them out)."""
  return [t.name for t in evaluator.subtasks(provider) if t.name not in results]
