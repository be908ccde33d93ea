"""The dialog datasets of Flan 2022 (TFDS wiki_dialog and q_re_cc) as `turns` records whose
predicted turn always comes after the sixth.

The template engine cuts a `turns` list at a seeded point >= 1 (rendering.derive_dialog_fields):
context = the turns before the cut, turn = the turn at it. Merging the first
FIRST_PREDICTED_TURN - 1 turns into one element (joined by the same newline) leaves every
context text unchanged while moving the earliest possible cut to the seventh turn. QReCC rows
are one question-answer step of a conversation each, so the answer is the predicted turn.
"""

from __future__ import annotations

import tensorflow as tf

from flan_jax.readers import tfds_check

FIRST_PREDICTED_TURN = 7  # "turns after the sixth"
TURNS = "turns"


def _merge_head(turns: tf.Tensor, head: int) -> tf.Tensor:
  """[t0..t_{head-1} joined by newlines, t_head, ...] (turns has more than `head` items)."""
  return tf.concat([[tf.strings.reduce_join(turns[:head], separator="\n")], turns[head:]], 0)


def wiki_dialog_turns(dataset: tf.data.Dataset) -> tf.data.Dataset:
  """Reads title, utterances; keeps dialogs longer than six turns; writes title and turns."""
  head = FIRST_PREDICTED_TURN - 1

  @tf.autograph.experimental.do_not_convert
  def long_enough(ex):
    return tf.size(ex["utterances"]) > head

  @tf.autograph.experimental.do_not_convert
  def fn(ex):
    return {"title": ex["title"], TURNS: _merge_head(ex["utterances"], head)}

  return dataset.filter(long_enough).map(fn, num_parallel_calls=tf.data.AUTOTUNE)


def qrecc_turns(dataset: tf.data.Dataset) -> tf.data.Dataset:
  """Reads context, question, answer; keeps rows whose answer is turn seven or later; writes
  turns = [all earlier turns joined, answer], so the answer is the predicted turn."""

  @tf.autograph.experimental.do_not_convert
  def long_enough(ex):
    return tf.size(ex["context"]) + 2 >= FIRST_PREDICTED_TURN

  @tf.autograph.experimental.do_not_convert
  def fn(ex):
    earlier = tf.concat([ex["context"], [ex["question"]]], 0)
    return {TURNS: tf.stack([tf.strings.reduce_join(earlier, separator="\n"), ex["answer"]])}

  return dataset.filter(long_enough).map(fn, num_parallel_calls=tf.data.AUTOTUNE)


class DialogTfdsSource(tfds_check.CheckedTfdsDataSource):
  """A checked TFDS source whose counts fall back to the catalog's when TFDS has none
  (dataset not prepared yet), so mixture rates never need the data."""

  def __init__(self, tfds_name: str, *, splits: dict[str, str], catalog_counts: dict[str, int],
               **kwargs):
    super().__init__(tfds_name=tfds_name, splits=splits, **kwargs)
    self._catalog_counts = dict(catalog_counts)

  def num_input_examples(self, split: str) -> int | None:
    try:
      count = super().num_input_examples(split)
    except Exception:  # pylint: disable=broad-except  # TFDS has no split info before prepare.
      count = None
    return count or self._catalog_counts.get(split)
