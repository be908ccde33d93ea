"""Scores predictions written by any system with a task's own answer extraction and metrics.

Rows are JSON objects with `prediction` and `target` (or `targets`, as `flan-jax infer`
writes); with a mixture, each row also names its `task`. No suite data is read.
"""

from __future__ import annotations

import json
from typing import Iterable, Iterator, Mapping

import seqio

from flan_jax import errors
from flan_jax.evaluation import evaluator

TARGET_KEYS = ("target", "targets")


class PredictionsFileError(errors.FlanJaxError, ValueError):
  """A predictions file is not JSON lines of {prediction, target} objects."""


def read_rows(path: str) -> Iterator[tuple[str, dict]]:
  """(file:line, row) for each non-blank line; PredictionsFileError naming the line if bad."""
  with open(path, encoding="utf-8") as f:
    for number, line in enumerate(f, 1):
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
    if name not in tasks:
      raise PredictionsFileError(
          f"{where}: row's task {row.get('task')!r} is not part of {provider.name!r}; "
          "with a mixture every row needs a 'task' field naming one of its tasks.")
    grouped.setdefault(name, []).append(row)
  if not grouped:
    raise PredictionsFileError(f"{path} holds no predictions.")
  return {name: score_task(tasks[name], rows) for name, rows in sorted(grouped.items())}
