"""SeqIO datasets -> globally sharded jax batches, with a resumable position."""

from __future__ import annotations

from typing import Iterator, Mapping

import jax
import numpy as np
import seqio
import tensorflow as tf
from jax.sharding import NamedSharding

from flan_jax import errors


def feature_converter(pack: bool) -> seqio.FeatureConverter:
  return seqio.EncDecFeatureConverter(pack=pack)


def host_batch_size(global_batch_size: int) -> int:
  """Each process reads global_batch_size / process_count examples per step."""
  processes = jax.process_count()
  if global_batch_size % processes:
    raise errors.ConfigError(
        f"BATCH_SIZE={global_batch_size} is not divisible by the {processes} processes; "
        "make it a multiple of the process count.")
  return global_batch_size // processes


def train_dataset(mixture_or_task_name: str, task_feature_lengths: Mapping[str, int],
                  global_batch_size: int, seed: int, use_cached: bool = False,
                  pack: bool = True, split: str = "train") -> tf.data.Dataset:
  """This host's shard of an endless, shuffled, packed and batched training stream.

  The stream is a pure function of (seed, process index, process count), so skipping
  `n` batches of a fresh stream reproduces the position after `n` steps.
  """
  shard = seqio.ShardInfo(index=jax.process_index(), num_shards=jax.process_count())
  ds = seqio.get_dataset(
      mixture_or_task_name, task_feature_lengths=dict(task_feature_lengths),
      feature_converter=feature_converter(pack), dataset_split=split,
      use_cached=use_cached, shuffle=True, num_epochs=None, shard_info=shard,
      seed=seed, verbose=False)
  return ds.batch(host_batch_size(global_batch_size), drop_remainder=True)


class ShardedBatches:
  """Iterates host-local numpy batches as global arrays laid out by `sharding`.

  `position` counts the batches handed out; it is saved with each checkpoint so a
  restart continues the stream exactly where the saved step left it.
  """

  def __init__(self, dataset: tf.data.Dataset, sharding: NamedSharding, position: int = 0):
    self._sharding = sharding
    self.position = position
    self._iterator: Iterator = dataset.skip(position).as_numpy_iterator()

  def __iter__(self):
    return self

  def __next__(self) -> dict[str, jax.Array]:
    local = next(self._iterator)
    self.position += 1
    return {k: to_global(v, self._sharding) for k, v in local.items()}


def to_global(local: np.ndarray, sharding: NamedSharding) -> jax.Array:
  """Assembles per-process rows into one array sharded over the mesh."""
  global_shape = (local.shape[0] * jax.process_count(),) + local.shape[1:]
  return jax.make_array_from_process_local_data(sharding, local, global_shape)
