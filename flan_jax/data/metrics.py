"""SeqIO metric functions: each takes (targets, predictions) lists and returns a dict."""

from __future__ import annotations

import collections
from typing import Sequence


def _normalize(text) -> str:
  if isinstance(text, bytes):
    text = text.decode("utf-8", errors="replace")
  return " ".join(str(text).split())


def accuracy(targets: Sequence, predictions: Sequence) -> dict[str, float]:
  """Exact-match accuracy (whitespace-normalized), plus the majority-class baseline.

  `majority_baseline` is the accuracy of always predicting the most frequent target:
  a model has learned something only when `accuracy` is clearly above it.
  """
  if len(targets) != len(predictions):
    raise ValueError(f"accuracy: {len(targets)} targets but {len(predictions)} predictions.")
  if not targets:
    return {"accuracy": 0.0, "majority_baseline": 0.0}
  norm_targets = [_normalize(t) for t in targets]
  hits = sum(t == _normalize(p) for t, p in zip(norm_targets, predictions))
  most_common = collections.Counter(norm_targets).most_common(1)[0][1]
  return {
      "accuracy": 100.0 * hits / len(targets),
      "majority_baseline": 100.0 * most_common / len(targets),
  }


def exact_match(targets: Sequence, predictions: Sequence) -> dict[str, float]:
  """Exact-match accuracy in percent (whitespace-normalized) and how many examples it scored.

  The held-out suites' metric: their postprocess functions have already extracted the answer.
  """
  if len(targets) != len(predictions):
    raise ValueError(f"exact_match: {len(targets)} targets but {len(predictions)} predictions.")
  hits = sum(_normalize(t) == _normalize(p) for t, p in zip(targets, predictions))
  return {"accuracy": 100.0 * hits / len(targets) if targets else 0.0,
          "num_examples": float(len(targets))}
