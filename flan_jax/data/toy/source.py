"""SeqIO data sources of the toy collection: records are generated on call, never at import."""

from __future__ import annotations

import dataclasses
import functools

import seqio
import tensorflow as tf

from flan_jax.data.toy import families


@dataclasses.dataclass(frozen=True)
class ToyConfig:
  """Split sizes and generator seed of the toy collection."""
  train_size: int = 5000
  validation_size: int = 200
  seed: int = 0

  def size(self, split: str) -> int:
    return {"train": self.train_size, "validation": self.validation_size}[split]


@functools.lru_cache(maxsize=64)
def records(family: str, split: str, config: ToyConfig = ToyConfig()) -> tuple[dict, ...]:
  """The generated records of one family split (cached per process)."""
  return tuple(families.generate(family, split, config.size(split), config.seed,
                                 train_size=config.train_size))


def _to_dataset(rows: tuple[dict, ...], fields: tuple[str, ...]) -> tf.data.Dataset:
  columns = {}
  for field in fields + ("idx",):
    values = [r[field] for r in rows]
    if values and isinstance(values[0], list):
      flat = tf.constant([v for row in values for v in row], dtype=tf.string)
      columns[field] = tf.RaggedTensor.from_row_lengths(flat, [len(row) for row in values])
    else:
      columns[field] = tf.constant(values, dtype=tf.string)
  return tf.data.Dataset.from_tensor_slices(columns)


def _dataset_fn(split: str, shuffle_files: bool, seed: int | None = None, *, family: str,
                config: ToyConfig) -> tf.data.Dataset:
  rows = records(family, split, config)
  ds = _to_dataset(rows, families.FAMILIES[family].fields)
  if shuffle_files:  # In memory, so a full shuffle is cheap; prompts do not depend on order.
    ds = ds.shuffle(len(rows), seed=seed, reshuffle_each_iteration=True)
  return ds


class GeneratedDataSource(seqio.FunctionDataSource):
  """A FunctionDataSource for in-memory generated data, which it shuffles fully itself
  (so seqio's warning about poorly shuffled function sources does not apply)."""

  def get_dataset(self, split="train", shuffle=True, seed=None, shard_info=None, **kwargs):
    del kwargs
    if shard_info and shard_info.num_shards > 1:  # seqio shards one-file sources itself.
      raise ValueError("GeneratedDataSource has one shard; let seqio shard the dataset.")
    return self._dataset_fn(split=split, shuffle_files=shuffle, seed=seed)


def toy_source(family: str, config: ToyConfig = ToyConfig()) -> seqio.FunctionDataSource:
  """A lazy source for one family: nothing is generated until get_dataset is called."""
  if family not in families.FAMILIES:
    raise KeyError(f"Unknown toy family {family!r}; known: {sorted(families.FAMILIES)}.")
  return GeneratedDataSource(
      dataset_fn=functools.partial(_dataset_fn, family=family, config=config),
      splits=("train", "validation"),
      num_input_examples={"train": config.train_size, "validation": config.validation_size},
  )
