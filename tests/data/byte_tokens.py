"""A test vocabulary with one token per byte, so prompt lengths can be counted by hand."""

import seqio
import tensorflow as tf


class ByteTokens(seqio.ByteVocabulary):
  """seqio's byte vocabulary, encoding batches of unequal lengths too (ASCII test text)."""

  def _encode_tf(self, s):
    ids = (tf.io.decode_raw(s, tf.uint8) if s.shape.rank == 0
           else tf.strings.unicode_decode(s, "UTF-8"))
    return tf.cast(ids, tf.int32) + self._num_special_tokens


def features() -> dict[str, seqio.Feature]:
  return {k: seqio.Feature(ByteTokens(), add_eos=True) for k in ("inputs", "targets")}
