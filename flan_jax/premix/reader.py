"""A premix's rows as one endless, deterministic tf.data stream per data shard.

Sharding: data shard i of n reads the premix files i, i + n, i + 2n, ... (the file count
must be a multiple of n), so hosts read disjoint files and together read every row once
per pass.

Passes (epochs): each pass reads the shard's files in a new order drawn from the seed
(tf.data's seeded reshuffle per repetition), and rows go through a seeded shuffle buffer
of `ROW_SHUFFLE_BUFFER` rows. A second pass therefore repeats the same rendered rows (same
templates and exemplars) in another order; to train on fresh renders instead, build a
premix with at least as many rows as the run reads (the trainer logs how many passes its
steps need). The stream is a pure function of (premix, shard, seed): skipping k batches of
a fresh stream lands exactly where a run stopped after k steps.

Rows longer than a feature's length are cut to it, keeping the EOS when the feature adds
one (what the per-task path's `append_eos_after_trim` does).
"""

from __future__ import annotations

import os
from typing import Mapping

import tensorflow as tf

from flan_jax import errors
from flan_jax.premix import manifest as manifest_lib

ROW_SHUFFLE_BUFFER = 4096
_FEATURES = ("inputs", "targets")


def shard_files(directory: str, manifest: manifest_lib.Manifest, index: int,
                num_shards: int) -> list[str]:
  """The files data shard `index` of `num_shards` reads."""
  check_shards(directory, manifest, num_shards)
  return [os.path.join(directory, name) for name, _ in manifest.files[index::num_shards]]


def check_shards(directory: str, manifest: manifest_lib.Manifest, num_shards: int) -> None:
  count = len(manifest.files)
  if count % num_shards:
    raise errors.ConfigError(
        f"PREMIXED_DIR {directory!r} has {count} files, not a multiple of the run's "
        f"{num_shards} data shards (one per process unless TrainConfig.data_shards says "
        f"otherwise); rebuild it with `flan-jax premix ... --num-files` a multiple of "
        f"{num_shards}, or set TrainConfig.data_shards to a divisor of {count}.")


def _parse(record: tf.Tensor) -> dict[str, tf.Tensor]:
  spec = {name: tf.io.RaggedFeature(tf.int64) for name in _FEATURES}
  parsed = tf.io.parse_single_example(record, spec)
  return {name: tf.cast(parsed[name], tf.int32) for name in _FEATURES}


def _trimmer(lengths: Mapping[str, int], features: Mapping[str, dict]):
  """Cuts each feature to its length, ending a cut row with EOS where the feature adds one."""
  def trim(row):
    out = {}
    for name in _FEATURES:
      tokens, length = row[name], int(lengths[name])
      eos = features[name]["vocabulary"]["eos_id"]
      if features[name]["add_eos"] and eos is not None:
        cut = tf.concat([tokens[:length - 1], tf.constant([eos], tf.int32)], 0)
        out[name] = tf.cond(tf.size(tokens) > length, lambda c=cut: c,
                            lambda t=tokens: t)
      else:
        out[name] = tokens[:length]
    return out
  return trim


def shard_rows(directory: str, manifest: manifest_lib.Manifest, index: int,
               num_shards: int, seed: int) -> tf.data.Dataset:
  """Data shard `index`'s rows ({inputs, targets} int32), endless, in a seeded order."""
  files = shard_files(directory, manifest, index, num_shards)
  shard_seed = seed * 1_000_003 + index
  names = tf.data.Dataset.from_tensor_slices(files).shuffle(
      len(files), seed=shard_seed, reshuffle_each_iteration=True).repeat()
  rows = names.flat_map(tf.data.TFRecordDataset)
  rows = rows.shuffle(ROW_SHUFFLE_BUFFER, seed=shard_seed, reshuffle_each_iteration=True)
  return rows.map(_parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def packed_shard(directory: str, manifest: manifest_lib.Manifest, index: int,
                 num_shards: int, seed: int, task_feature_lengths: Mapping[str, int],
                 feature_converter) -> tf.data.Dataset:
  """Shard `index`'s rows cut to the lengths and packed/converted by the model's converter."""
  rows = shard_rows(directory, manifest, index, num_shards, seed)
  rows = rows.map(_trimmer(task_feature_lengths, manifest.features),
                  num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  return feature_converter(rows, dict(task_feature_lengths))
