"""Answer-choice blocks: one deterministic form and a seeded randomized family.

Everything works on a batch: choices are a RaggedTensor [B, None] of strings, so the same
code renders one query or the exemplars of a few-shot prompt without Python round trips.
"""

from __future__ import annotations

import dataclasses
import re
import string
from typing import Sequence

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


def _core(text: str) -> str:
  """A marker or cue without its punctuation, lower-cased: 'A.', '(a)' and 'A:' are all 'a'."""
  return re.sub(r"[\s().:]", "", text).lower()


def clean_styles(cues: Sequence[str]) -> list[int]:
  """For each marker style, itself when none of its markers reads like one of `cues` (the
  template's own answer cue, a few-shot answer lead), else the next style that does not:
  a prompt listing `A. Lima` and ending with the cue `A:` would be ambiguous."""
  cores = {_core(c) for c in cues if c and _core(c)}
  clashes = [bool(cores & {_core(m) for m in style.markers}) for style in MARKER_STYLES]
  count = len(MARKER_STYLES)
  return [next(((s + k) % count for k in range(count) if not clashes[(s + k) % count]), s)
          for s in range(count)]


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


@dataclasses.dataclass(frozen=True)
class ChoiceRows:
  """A batch's choices [B, None] as flat values with each value's row and its position in the
  row, computed once per batch (RaggedTensor methods rebuild row ids with dozens of graph
  ops at every call, and a few-shot task traces its render graph once per pipeline)."""
  values: tf.Tensor     # [N] strings
  row_ids: tf.Tensor    # [N] int64
  positions: tf.Tensor  # [N] int64, 0 for each row's first choice
  starts: tf.Tensor     # [B] int64, flat index of each row's first choice
  rows: tf.Tensor       # scalar int64, B

  @classmethod
  def of(cls, choices: tf.RaggedTensor) -> "ChoiceRows":
    splits = tf.cast(choices.row_splits, tf.int64)
    starts, ends = splits[:-1], splits[1:]
    index = tf.range(tf.size(choices.flat_values, out_type=tf.int64), dtype=tf.int64)
    row_ids = tf.searchsorted(ends, index, side="right")
    return cls(choices.flat_values, row_ids, index - tf.gather(starts, row_ids), starts,
               tf.size(starts, out_type=tf.int64))


def format_options(choices: ChoiceRows, draw: OptionsDraw) -> tuple[tf.Tensor, tf.Tensor]:
  """Returns (block [B], markers [N]): a header line and one 'marker choice' line per choice.

  The ending is separate (`ending_text`): the layout adds it only where the template leaves
  the prompt open after the block.
  """
  style_rows = tf.gather(tf.broadcast_to(draw.style, [choices.rows]), choices.row_ids)
  markers = tf.gather_nd(_markers_table(), tf.stack([style_rows, choices.positions], axis=1))
  lines = tf.strings.join([markers, choices.values], separator=" ")
  body = tf.strings.unsorted_segment_join(lines, choices.row_ids, choices.rows, separator="\n")
  header = tf.gather(tf.constant(HEADERS), draw.header)
  return tf.strings.join([header, "\n", body]), markers


def ending_text(draw: OptionsDraw) -> tf.Tensor:
  """The drawn ending ("" or a line break and a closing cue)."""
  return tf.gather(tf.constant(ENDINGS), draw.ending)


def answer_targets(choices: ChoiceRows, markers: tf.Tensor, answers: tf.Tensor,
                   draw: OptionsDraw) -> tuple[tf.Tensor, tf.Tensor]:
  """([B] targets, [B] found): the answer's marker when markers are distinct, else the answer
  text; found is False where the answer is not among the row's choices."""
  hits = tf.equal(choices.values, tf.gather(answers, choices.row_ids))
  pos = tf.math.unsorted_segment_max(tf.where(hits, choices.positions, -1), choices.row_ids,
                                     tf.shape(answers, out_type=tf.int64)[0])
  found = pos >= 0
  # The answer's marker; an appended "" where it is not found.
  flat = tf.concat([markers, [""]], axis=0)
  marker = tf.gather(flat, tf.where(found, choices.starts + pos, tf.size(markers, out_type=tf.int64)))
  distinct = tf.gather(tf.constant([s.distinct for s in MARKER_STYLES]), draw.style)
  return tf.where(tf.logical_and(found, distinct), marker, answers), found
