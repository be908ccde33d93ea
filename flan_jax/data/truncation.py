"""Real per-task caps: a task whose every split holds at most `cap` examples.

`truncated_task` registers `{task}#cap{N}`, a plain seqio.Task with the original
preprocessors over a source that yields only the first N records in the source's
deterministic (unshuffled) order, like TFDS `train[:N]`. The same N records are reused
every epoch. Few-shot exemplars still come from the original task's pool.
"""

from __future__ import annotations

from typing import Callable, Sequence

import seqio
import tensorflow as tf

from flan_jax import errors
from flan_jax.data import formats

# Shuffle buffer over the truncated records (raw records, before rendering).
MAX_SHUFFLE_BUFFER = 10_000



class TruncatedSource(seqio.DataSource):
  """The first `cap` records of each split of `inner`, shuffled among themselves."""

  def __init__(self, inner: seqio.DataSource, cap: int):
    if cap <= 0:
      raise errors.ConfigError(f"A truncation cap must be positive, got {cap}.")
    self._inner = inner
    self._cap = int(cap)
    super().__init__(splits=inner.splits, num_input_examples=None,
                     caching_permitted=inner.caching_permitted,
                     performs_internal_shuffling=True)

  @property
  def cap(self) -> int:
    return self._cap

  @property
  def supports_arbitrary_sharding(self) -> bool:
    return False

  def list_shards(self, split: str) -> Sequence[str]:
    return [f"{split}[:{self._cap}]"]

  def num_input_examples(self, split: str) -> int | None:
    n = self._inner.num_input_examples(split)
    return None if n is None else min(int(n), self._cap)

  def get_dataset(self, split: str = "train", shuffle: bool = True, seed: int | None = None,
                  shard_info: seqio.ShardInfo | None = None, **unused) -> tf.data.Dataset:
    del unused
    ds = self._inner.get_dataset(split=split, shuffle=False, seed=None).take(self._cap)
    if shard_info and shard_info.num_shards > 1:
      ds = ds.shard(shard_info.num_shards, shard_info.index)
    if shuffle:
      ds = ds.shuffle(min(self._cap, MAX_SHUFFLE_BUFFER), seed=seed,
                      reshuffle_each_iteration=True)
    return ds


def with_cache_placeholder(preprocessors: Sequence[Callable]) -> list[Callable]:
  """Adds seqio.CacheDatasetPlaceholder after tokenizing (before EOS) if missing, so the
  task can be cached by `flan-jax cache` and read with use_cached=True."""
  steps = list(preprocessors)
  if any(isinstance(p, seqio.CacheDatasetPlaceholder) for p in steps):
    return steps
  if steps and steps[-1] is seqio.preprocessors.append_eos_after_trim:
    return steps[:-1] + [seqio.CacheDatasetPlaceholder(), steps[-1]]
  return steps + [seqio.CacheDatasetPlaceholder()]


def truncated_task(task_name: str, cap: int) -> str:
  """Registers (once) and returns `{task}#cap{cap}`: `task_name` limited to `cap` examples."""
  name = formats.truncated_name(task_name, cap)
  if name in seqio.TaskRegistry.names():
    return name
  task = seqio.TaskRegistry.get(task_name)
  seqio.TaskRegistry.add_provider(name, task.replace(
      name=name, source=TruncatedSource(task.source, cap),
      preprocessors=with_cache_placeholder(task.preprocessors)))
  return name
