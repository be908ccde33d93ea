"""Options blocks on a batch with uneven and empty choice rows, against hand-written text."""

import tensorflow as tf

from flan_jax.data import options


def _rows():
  return options.ChoiceRows.of(tf.ragged.constant([["red", "blue"], [], ["tea", "milk", "ink"]]))


def test_choice_rows_index_each_choice_by_row_and_position():
  rows = _rows()
  assert rows.row_ids.numpy().tolist() == [0, 0, 2, 2, 2]
  assert rows.positions.numpy().tolist() == [0, 1, 0, 1, 2]
  assert rows.starts.numpy().tolist() == [0, 2, 2]
  assert int(rows.rows) == 3


def test_blocks_and_targets_per_row_with_an_empty_row_and_a_missing_answer():
  # Per row: style 2 is "(A)", "(B)", ...; style 0 is "-" lines (not distinct: the answer
  # text is the target). Headers 1 ("Options:") and 0 ("Choices:").
  draw = options.OptionsDraw(style=tf.constant([2, 0, 2], tf.int64),
                             header=tf.constant([1, 0, 1], tf.int64),
                             ending=tf.constant([0, 0, 0], tf.int64))
  rows = _rows()
  block, markers = options.format_options(rows, draw)
  assert [b.decode() for b in block.numpy()] == [
      "Options:\n(A) red\n(B) blue", "Choices:\n", "Options:\n(A) tea\n(B) milk\n(C) ink"]
  targets, found = options.answer_targets(rows, markers, tf.constant(["blue", "x", "coffee"]), draw)
  assert [t.decode() for t in targets.numpy()] == ["(B)", "x", "coffee"]
  assert found.numpy().tolist() == [True, False, False]
