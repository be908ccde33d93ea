"""Which eval examples share a long word n-gram with a training mixture (data contamination).

As GPT-3 and PaLM checked their benchmarks: text is lower-cased and split into words (runs of
letters and digits); an eval example counts as contaminated when any of its 13-grams also occurs
in the training text. N-grams that more than half of a task's examples share are the task's own
prompt (instructions, few-shot exemplars), not the example, and are left out of the check.

Memory is bounded by the eval side only: its n-grams are hashed into one sorted array, and the
training text is streamed, hashed in batches and looked up there (64-bit hashes; a collision is
about one in 10^19 per pair).
"""

from __future__ import annotations

import collections
import dataclasses
import re
from typing import Iterable, Mapping, Sequence

import numpy as np

_WORD_RE = re.compile(r"[a-z0-9]+")
DEFAULT_NGRAM = 13


@dataclasses.dataclass(frozen=True)
class ContaminationConfig:
  """n: words per n-gram; shared_fraction: n-grams in more than this share of a task's examples
  are prompt text and ignored; batch: training hashes looked up at once."""
  n: int = DEFAULT_NGRAM
  shared_fraction: float = 0.5
  batch: int = 1 << 16


def words(text: str) -> list[str]:
  return _WORD_RE.findall(text.lower())


def ngrams(text: str, n: int) -> list[str]:
  """The text's word n-grams, joined by spaces (none when it has fewer than n words)."""
  w = words(text)
  return [" ".join(w[i:i + n]) for i in range(len(w) - n + 1)]


def _hash(gram: str) -> int:
  return hash(gram)  # Salted per process; both sides are hashed in the same process.


class EvalIndex:
  """The eval side: every (n-gram hash, example) pair of each task, sorted by hash."""

  def __init__(self, tasks: Mapping[str, Sequence[str]], config: ContaminationConfig):
    self.config = config
    self.tasks = {name: list(texts) for name, texts in tasks.items()}
    self._ignored: dict[str, set[str]] = {}
    hashes, owners = [], []
    self._owner_names: list[tuple[str, int]] = []
    for name, texts in self.tasks.items():
      grams = [set(ngrams(t, config.n)) for t in texts]
      counts = collections.Counter(g for gs in grams for g in gs)
      limit = config.shared_fraction * len(texts)
      ignored = {g for g, c in counts.items() if len(texts) > 1 and c > limit}
      self._ignored[name] = ignored
      for i, gs in enumerate(grams):
        owner = len(self._owner_names)
        self._owner_names.append((name, i))
        for g in gs - ignored:
          hashes.append(_hash(g))
          owners.append(owner)
    order = np.argsort(np.asarray(hashes, np.int64), kind="stable")
    self._hashes = np.asarray(hashes, np.int64)[order]
    self._owners = np.asarray(owners, np.int64)[order]
    self._hit = np.zeros(len(self._hashes), bool)  # Per (hash, example) entry.

  def mark(self, train_hashes: np.ndarray) -> None:
    """Flags eval examples owning any of these training n-gram hashes."""
    if not len(self._hashes) or not len(train_hashes):
      return
    left = np.searchsorted(self._hashes, train_hashes, side="left")
    right = np.searchsorted(self._hashes, train_hashes, side="right")
    for lo, hi in zip(left[right > left], right[right > left]):
      self._hit[lo:hi] = True

  def contaminated(self) -> dict[str, list[int]]:
    """{task: indices of its flagged examples}."""
    out = {name: [] for name in self.tasks}
    for owner in np.unique(self._owners[self._hit]):
      name, index = self._owner_names[owner]
      out[name].append(index)
    return out

  def overlapping_ngrams(self, task: str, index: int) -> list[str]:
    """The example's n-grams found in the training text, in text order."""
    found = set(self._hashes[self._hit].tolist())
    return [g for g in dict.fromkeys(ngrams(self.tasks[task][index], self.config.n))
            if g not in self._ignored[task] and _hash(g) in found]


def scan(index: EvalIndex, train_texts: Iterable[str]) -> int:
  """Streams training texts through the index; returns how many texts were read."""
  buffer: list[int] = []
  count = 0
  for text in train_texts:
    count += 1
    buffer.extend(_hash(g) for g in ngrams(text, index.config.n))
    if len(buffer) >= index.config.batch:
      index.mark(np.unique(np.asarray(buffer, np.int64)))
      buffer = []
  index.mark(np.unique(np.asarray(buffer, np.int64)))
  return count


def overlap_report(index: EvalIndex) -> dict[str, dict]:
  """{task: {num_examples, contaminated, percent, examples: flagged indices}}."""
  flagged = index.contaminated()
  report = {}
  for name, texts in index.tasks.items():
    hits = flagged[name]
    report[name] = {"num_examples": len(texts), "contaminated": len(hits),
                    "percent": 100.0 * len(hits) / len(texts) if texts else 0.0,
                    "examples": hits}
  return report
