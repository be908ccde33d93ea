"""SeqIO datasets -> globally sharded jax batches, with a resumable position."""

from __future__ import annotations

from typing import Iterator, Mapping

import jax
import numpy as np
import seqio
import tensorflow as tf
from jax.sharding import NamedSharding

from flan_jax import errors
from flan_jax.data import few_shot


def local_shards(data_shards: int | None) -> list[int]:
  """The data shards this process reads: shard i goes to process i % process_count."""
  processes = jax.process_count()
  shards = data_shards or processes
  if shards % processes:
    raise errors.ConfigError(
        f"data_shards={shards} must be a multiple of the {processes} processes.")
  return list(range(jax.process_index(), shards, processes))


def check_batch_split(global_batch_size: int, data_shards: int | None) -> None:
  shards = data_shards or jax.process_count()
  if global_batch_size % shards:
    raise errors.ConfigError(
        f"BATCH_SIZE={global_batch_size} is not divisible by {shards} data shards (one "
        "per process unless TrainConfig.data_shards says otherwise); make it a multiple.")


def train_dataset(mixture_or_task_name: str, task_feature_lengths: Mapping[str, int],
                  global_batch_size: int, seed: int,
                  feature_converter: seqio.FeatureConverter, use_cached: bool = False,
                  split: str = "train", data_shards: int | None = None,
                  premixed_dir: str | None = None) -> tf.data.Dataset:
  """This host's rows of an endless, shuffled, packed and batched training stream.

  The data is split into `data_shards` SeqIO shards (default: one per process); each
  contributes global_batch_size / data_shards rows to every global batch. Fixing
  `data_shards` makes the global batches identical whatever the number of processes,
  and skipping `n` batches of a fresh stream reproduces the position after `n` steps.
  With `premixed_dir` (built by `flan-jax premix`), shard i reads that premix's files
  i, i + shards, ... as one source (flan_jax/premix/reader.py) instead of one SeqIO
  pipeline per task.
  """
  check_batch_split(global_batch_size, data_shards)
  shards = data_shards or jax.process_count()
  per_shard = global_batch_size // shards
  streams = []
  if premixed_dir:
    from flan_jax.premix import manifest, reader  # pylint: disable=g-import-not-at-top
    premix = manifest.read(premixed_dir)
    for index in local_shards(data_shards):
      ds = reader.packed_shard(premixed_dir, premix, index, shards, seed,
                               task_feature_lengths, feature_converter)
      streams.append(ds.batch(per_shard, drop_remainder=True))
  else:
    with few_shot.shared_pool_scans():  # A dataset's formats scan its train split once.
      for index in local_shards(data_shards):
        ds = seqio.get_dataset(
            mixture_or_task_name, task_feature_lengths=dict(task_feature_lengths),
            feature_converter=feature_converter, dataset_split=split,
            use_cached=use_cached, shuffle=True, num_epochs=None,
            shard_info=seqio.ShardInfo(index=index, num_shards=shards), seed=seed,
            verbose=False)
        streams.append(ds.batch(per_shard, drop_remainder=True))
  if len(streams) == 1:
    return streams[0].with_options(_mixture_options())
  return tf.data.Dataset.zip(tuple(streams)).map(
      lambda *parts: {k: tf.concat([p[k] for p in parts], 0) for k in parts[0]}
  ).with_options(_mixture_options())


def _mixture_options() -> tf.data.Options:
  """No tf.data graph rewrites and no autotuning for the training stream.

  A mixture's pipeline holds every task's pipeline (toy_flan: 51 tasks, ~550 map
  functions): tf.data's default rewrites of that graph cost seconds when the iterator is
  created, and autotuning starts each map's parallelism low while the first batch fills
  every task's shuffle buffer. Without them toy_flan's first batch came 59 s sooner and the
  stream ran 1.7x faster (`scripts/bench_data.py` against `--tf_data_defaults`; figures in
  docs/BENCHMARKS.md). Without autotuning, AUTOTUNE map parallelism is the number of cores.
  Output and order are the same (tests/training/test_input_pipeline.py).
  """
  options = tf.data.Options()
  options.experimental_optimization.apply_default_optimizations = False
  options.autotune.enabled = False
  return options


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
