"""Per-example random draws that are pure functions of (seed, task, example, purpose).

Every draw hashes a string key with FarmHash (tf.strings.to_hash_bucket_fast): small
choices take the hash modulo n, larger draws seed stateless Philox. The same seed gives
byte-identical prompts whatever the number of workers, hosts or the example order.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import tensorflow as tf

_HASH_BUCKETS = 2**62
KEY_FIELD = "idx"


def example_key(ex: Mapping[str, tf.Tensor], text_fields: Sequence[str]) -> tf.Tensor:
  """A stable string id of a record: its `idx` field if present, else a hash of its text."""
  if KEY_FIELD in ex:
    return tf.strings.as_string(ex[KEY_FIELD]) if ex[KEY_FIELD].dtype != tf.string else ex[KEY_FIELD]
  parts = [tf.strings.as_string(ex[f]) if ex[f].dtype != tf.string else ex[f] for f in text_fields]
  joined = tf.strings.reduce_join(tf.stack(parts, axis=-1), axis=-1, separator="\x1f")
  return tf.strings.as_string(tf.strings.to_hash_bucket_fast(joined, _HASH_BUCKETS))


def stateless_seed(prefix: str, key: tf.Tensor, purpose: str) -> tf.Tensor:
  """A [2] int64 seed for tf.random.stateless_* from prefix (seed|task), key and purpose."""
  base = tf.strings.join([prefix, "|", purpose, "|", key])
  return tf.stack([
      tf.strings.to_hash_bucket_fast(base, _HASH_BUCKETS),
      tf.strings.to_hash_bucket_fast(tf.strings.join([base, "#2"]), _HASH_BUCKETS),
  ])


def hash_index(prefix: str, key: tf.Tensor, purpose: str, n: int) -> tf.Tensor:
  """Uniform-ish int64 in [0, n) per key (any shape): FarmHash of (prefix, purpose, key).

  Vectorized, so a whole batch of examples draws in one op; n is tiny next to 2**64, so
  the modulo bias is negligible.
  """
  return tf.strings.to_hash_bucket_fast(tf.strings.join([prefix, "|", purpose, "|", key]), n)


def draw_uniforms(prefix: str, key: tf.Tensor, purpose: str, n: int) -> tf.Tensor:
  """n uniform floats in [0, 1) drawn for `purpose`."""
  return tf.random.stateless_uniform(
      [n], stateless_seed(prefix, key, purpose), dtype=tf.float32, alg="philox")


def pick(choices: Sequence[str], index: tf.Tensor) -> tf.Tensor:
  """The string at `index` of a constant list of choices."""
  return tf.gather(tf.constant(list(choices), dtype=tf.string), index)
