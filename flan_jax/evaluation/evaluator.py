"""SeqIO evaluation of a model's greedy predictions on a task or mixture's eval split."""

from __future__ import annotations

import logging
from typing import Any, Mapping, Sequence

import seqio

from flan_jax.evaluation.predict import Predictor


def make_evaluator(mixture_or_task_name: str, task_feature_lengths: Mapping[str, int],
                   split: str = "validation", num_examples: int | None = None,
                   seed: int = 42) -> seqio.Evaluator:
  """A SeqIO evaluator over unpacked examples (its datasets are built once, cached)."""
  return seqio.Evaluator(
      mixture_or_task_name=mixture_or_task_name,
      feature_converter=seqio.EncDecFeatureConverter(pack=False),
      eval_split=split, sequence_length=dict(task_feature_lengths),
      num_examples=num_examples, seed=seed, use_memory_cache=True)


def evaluate(evaluator: seqio.Evaluator, predictor: Predictor, params: Any,
             step: int | None = None) -> dict[str, dict[str, float]]:
  """Runs prediction metrics; returns {task_name: {metric: value}}."""
  if not evaluator.eval_tasks:
    logging.warning("No task has an eval split to evaluate.")
    return {}
  future, _ = evaluator.evaluate(compute_metrics=True, step=step,
                                 predict_fn=predictor.seqio_predict_fn(params))
  results = future.result() or {}
  return {task: {name: float(getattr(value, "value", value))
                 for name, value in metrics.items()}
          for task, metrics in results.items()}


def with_example_counts(evaluator: seqio.Evaluator,
                        results: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
  """Adds `num_examples` (how many examples each task's metrics scored) where missing."""
  counts = example_counts(evaluator)
  out = {}
  for task, metrics in results.items():
    metrics = dict(metrics)
    if "num_examples" not in metrics:
      metrics["num_examples"] = float(counts.get(task, 0))
    out[task] = metrics
  return out


def example_counts(evaluator: seqio.Evaluator) -> dict[str, int]:
  """{task: how many examples its metrics score}, counted from the evaluator's cached data."""
  return {task: sum(1 for _ in dataset)  # Held in memory: cheap to count.
          for task, dataset in evaluator.cached_task_datasets.items() if dataset is not None}


def subtasks(provider: seqio.Task | seqio.Mixture) -> list[seqio.Task]:
  """A mixture's tasks (nested mixtures flattened), or [the task]."""
  return list(provider.tasks) if isinstance(provider, seqio.Mixture) else [provider]


def eval_split(task_names: Sequence[str], requested: str | None) -> str:
  """The split to evaluate: the requested one, else the one the suites report (see
  suite_tasks.default_split: `test` for BBH, MMLU, CoT eval), else 'validation' when every task
  has it, else 'test' when every task has it."""
  from flan_jax.evaluation import suite_tasks  # pylint: disable=g-import-not-at-top
  if requested:
    return requested
  suite_split = suite_tasks.default_split(task_names)
  if suite_split:
    return suite_split
  splits = [set(seqio.TaskRegistry.get(name).splits) for name in task_names]
  for candidate in ("validation", "test"):
    if splits and all(candidate in s for s in splits):
      return candidate
  return "validation"


def flatten_metrics(results: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
  """{task: {metric: v}} -> {'task/metric': v}, as TensorBoard scalars."""
  return {f"{task}/{name}": value for task, metrics in results.items()
          for name, value in metrics.items()}
