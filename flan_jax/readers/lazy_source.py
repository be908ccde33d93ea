"""A seqio.DataSource whose records and counts come from callables run on first use.

Catalog collections register thousands of tasks; building a source must read nothing, so
files are located, checked and counted only when a dataset or a count is asked for.
"""

from __future__ import annotations

from typing import Callable, Sequence

import seqio
import tensorflow as tf

from flan_jax import errors

BuildFn = Callable[[str, bool, "int | None"], tf.data.Dataset]


class UnknownSplitError(errors.FlanJaxError, ValueError):
  """A split the source does not have (e.g. validation of CoT, which has only train)."""


class LazyDataSource(seqio.DataSource):
  """One-shard source: `build(split, shuffle, seed)` makes the dataset, `count(split)` the
  number of records (None when unknown); seqio shards the examples across hosts itself."""

  def __init__(self, *, name: str, splits: Sequence[str], build: BuildFn,
               count: Callable[[str], "int | None"] | None = None):
    super().__init__(splits=tuple(splits))
    self._name = name
    self._build = build
    self._count = count
    self._counts: dict[str, int | None] = {}

  def __repr__(self) -> str:
    return f"LazyDataSource({self._name})"

  @property
  def supports_arbitrary_sharding(self) -> bool:
    return False

  def _check_split(self, split: str) -> None:
    if split not in self.splits:
      raise UnknownSplitError(f"{self._name} has no split {split!r}; it has "
                              f"{list(self.splits)}: pass --split {self.splits[0]}.")

  def list_shards(self, split: str) -> list[str]:
    self._check_split(split)
    return [f"{self._name}/{split}"]

  def num_input_examples(self, split: str) -> int | None:
    """The record count of `split`, computed once on first request."""
    self._check_split(split)
    if self._count is None:
      return None
    if split not in self._counts:
      self._counts[split] = self._count(split)
    return self._counts[split]

  def get_dataset(self, split: str = "train", shuffle: bool = True, seed: int | None = None,
                  shard_info: seqio.ShardInfo | None = None, **unused) -> tf.data.Dataset:
    del unused
    self._check_split(split)
    ds = self._build(split, shuffle, seed)
    if shard_info and shard_info.num_shards > 1:
      ds = ds.shard(shard_info.num_shards, shard_info.index)
    return ds
