"""Answer-choice blocks: one deterministic form and a seeded randomized family.

Everything works on a batch: choices are a RaggedTensor [B, None] of strings, so the same
code renders one query or the exemplars of a few-shot prompt without Python round trips.
"""

from __future__ import annotations

import dataclasses
import string

import tensorflow as tf

_MAX_CHOICES = 26
_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii",
          "xiv", "xv", "xvi", "xvii", "xviii", "xix", "xx", "xxi", "xxii", "xxiii", "xxiv",
          "xxv", "xxvi")

FIXED_HEADER = "Choices:"


@dataclasses.dataclass(frozen=True)
class MarkerStyle:
  """How each choice line starts; with distinct markers the target becomes the marker."""
  name: str
  markers: tuple[str, ...]
  distinct: bool = True


MARKER_STYLES = (
    MarkerStyle("dash", ("-",) * _MAX_CHOICES, distinct=False),
    MarkerStyle("upper_dot", tuple(f"{c}." for c in string.ascii_uppercase)),
    MarkerStyle("upper_paren", tuple(f"({c})" for c in string.ascii_uppercase)),
    MarkerStyle("lower_paren", tuple(f"{c})" for c in string.ascii_lowercase)),
    MarkerStyle("number_dot", tuple(f"{i}." for i in range(1, _MAX_CHOICES + 1))),
    MarkerStyle("number_paren", tuple(f"({i})" for i in range(1, _MAX_CHOICES + 1))),
    MarkerStyle("roman_dot", tuple(f"{r}." for r in _ROMAN)),
    MarkerStyle("roman_paren", tuple(f"({r})" for r in _ROMAN)),
)

HEADERS = (
    "Choices:",
    "Options:",
    "Pick one of these:",
    "Possible answers:",
    "Select from the list below.",
    "The candidates are:",
)

ENDINGS = ("", "", "\nAnswer:", "\nYour pick:", "\nReply with one choice.")


@dataclasses.dataclass(frozen=True)
class OptionsDraw:
  """Indices into MARKER_STYLES, HEADERS and ENDINGS: scalars (one prompt) or [B] (per row)."""
  style: tf.Tensor
  header: tf.Tensor
  ending: tf.Tensor


def fixed_draw() -> OptionsDraw:
  """The deterministic form: the fixed header and '- choice' lines, no ending."""
  zero = tf.constant(0, tf.int64)
  return OptionsDraw(style=zero, header=zero, ending=zero)


def _markers_table() -> tf.Tensor:
  return tf.constant([list(s.markers) for s in MARKER_STYLES], dtype=tf.string)


def _positions(choices: tf.RaggedTensor) -> tf.RaggedTensor:
  return tf.ragged.range(choices.row_lengths())


def format_options(choices: tf.RaggedTensor, draw: OptionsDraw) -> tuple[tf.Tensor, tf.RaggedTensor]:
  """Returns (block [B], markers [B, None]): a header line and one 'marker choice' line each.

  The ending is separate (`ending_text`): the layout adds it only where the template leaves
  the prompt open after the block.
  """
  rows = tf.shape(choices.row_lengths())[0]
  style_rows = tf.gather(tf.broadcast_to(draw.style, [rows]), choices.value_rowids())
  flat = tf.gather_nd(_markers_table(),
                      tf.stack([style_rows, _positions(choices).flat_values], axis=1))
  markers = choices.with_flat_values(flat)
  lines = choices.with_flat_values(
      tf.strings.join([markers.flat_values, choices.flat_values], separator=" "))
  body = tf.strings.reduce_join(lines, axis=1, separator="\n")
  header = tf.gather(tf.constant(HEADERS), draw.header)
  return tf.strings.join([header, "\n", body]), markers


def ending_text(draw: OptionsDraw) -> tf.Tensor:
  """The drawn ending ("" or a line break and a closing cue)."""
  return tf.gather(tf.constant(ENDINGS), draw.ending)


def answer_targets(choices: tf.RaggedTensor, markers: tf.RaggedTensor, answers: tf.Tensor,
                   draw: OptionsDraw) -> tuple[tf.Tensor, tf.Tensor]:
  """([B] targets, [B] found): the answer's marker when markers are distinct, else the answer
  text; found is False where the answer is not among the row's choices."""
  row_ids = choices.value_rowids()
  hits = tf.equal(choices.flat_values, tf.gather(answers, row_ids))
  pos = tf.math.unsorted_segment_max(
      tf.where(hits, _positions(choices).flat_values, -1), row_ids, tf.shape(answers)[0])
  found = pos >= 0
  marker = _gather_rows(markers, pos)
  distinct = tf.gather(tf.constant([s.distinct for s in MARKER_STYLES]), draw.style)
  return tf.where(tf.logical_and(found, distinct), marker, answers), found


def _gather_rows(ragged: tf.RaggedTensor, pos: tf.Tensor) -> tf.Tensor:
  """ragged[b, pos[b]] for each row (empty string where pos < 0 or the row is empty)."""
  flat = tf.concat([ragged.flat_values, [""]], axis=0)
  empty_slot = tf.shape(ragged.flat_values, out_type=tf.int64)[0]
  index = tf.where(pos >= 0, ragged.row_starts() + pos, empty_slot)
  return tf.gather(flat, index)
