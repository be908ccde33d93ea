"""Small TensorFlow helpers that turn TFDS features into template fields.

Each imports TensorFlow when called (never at import), so template modules that use them
can be imported to list the collection without TensorFlow.
"""

from __future__ import annotations

from typing import Sequence


def _tf():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return tf


def text(value):
  """A string tensor of any scalar feature (numbers are formatted)."""
  tf = _tf()
  value = tf.convert_to_tensor(value)
  return value if value.dtype == tf.string else tf.strings.as_string(value)


def const(value: str):
  """A per-dataset constant field (e.g. the kind of text), the same for every record."""
  return _tf().constant(value)


def choices(values: Sequence[str]):
  """A fixed list of answer choices as a 1-D string tensor."""
  return _tf().constant(list(values), dtype=_tf().string)


def pick(values: Sequence[str], index, offset: int = 0):
  """values[index - offset] for an integer label (ClassLabel or plain int)."""
  tf = _tf()
  return tf.gather(tf.constant(list(values)), tf.cast(index, tf.int32) - offset)


def pick_from(seq, index, offset: int = 0):
  """seq[index - offset] for a 1-D string tensor and an integer label."""
  tf = _tf()
  return tf.gather(seq, tf.cast(index, tf.int32) - offset)


def label_in_range(label, low: int, high: int):
  """low <= label < high (drops unlabelled -1 rows and impossible labels)."""
  tf = _tf()
  label = tf.cast(label, tf.int64)
  return tf.logical_and(label >= low, label < high)


def index_in(seq, label, offset: int = 0):
  """0 <= label - offset < len(seq): the label points at one of the sequence's items."""
  tf = _tf()
  i = tf.cast(label, tf.int64) - offset
  return tf.logical_and(i >= 0, i < tf.shape(seq, out_type=tf.int64)[0])


def first_or(seq, default: str = ""):
  """The first item of a 1-D string tensor, or `default` when it is empty."""
  tf = _tf()
  return tf.concat([seq, tf.constant([default])], axis=0)[0]


def join(seq, separator: str):
  """The items of a 1-D string tensor joined by `separator`."""
  return _tf().strings.reduce_join(seq, separator=separator)


def numbered(seq):
  """Items as '1. a\\n2. b' (a list the reader can refer to by number)."""
  tf = _tf()
  n = tf.shape(seq)[0]
  marks = tf.strings.as_string(tf.range(1, n + 1))
  return tf.strings.reduce_join(tf.strings.join([marks, ". ", seq]), separator="\n")


def with_answer(options, answer):
  """options, plus the answer appended when it is missing, so an options task always has
  its answer among the choices (used where choices are parsed from free text)."""
  tf = _tf()
  present = tf.reduce_any(tf.equal(options, answer))
  return tf.cond(present, lambda: options, lambda: tf.concat([options, [answer]], axis=0))


def at_most(options, answer, n: int):
  """The first n options, with the answer kept: when it sits past the first n it replaces
  the n-th. (The options renderer labels at most 26 choices.)"""
  tf = _tf()
  head = options[:n]
  present = tf.reduce_any(tf.equal(head, answer))
  return tf.cond(present, lambda: head, lambda: tf.concat([options[:n - 1], [answer]], axis=0))


def unique(seq):
  """The distinct items of a 1-D string tensor, first occurrence order."""
  return _tf().unique(seq).y


def strip(value):
  return _tf().strings.strip(value)
