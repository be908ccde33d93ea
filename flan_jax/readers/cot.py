"""Chain-of-thought datasets as SeqIO sources: one TSV file per dataset in FLAN_JAX_COT_DIR.

File: `{dataset}_train.tsv`, one example per line, three tab-separated columns
question, answer, rationale, no quoting (the form of the Flan 2022 release's cot_data
files); a first line that reads exactly `question<TAB>answer<TAB>rationale` is taken as a
header and skipped. Records: question, answer, rationale and `idx` (`train/{line}`).

The release writes a newline inside a field as the two characters `\\n`; as FLAN's own reader
does, they become a newline in the question and the rationale (the answer is kept as written).
"""

from __future__ import annotations

import os
from typing import Iterator

import tensorflow as tf

from flan_jax import errors
from flan_jax.readers import lazy_source
from flan_jax.readers import local_data
from flan_jax.readers import layouts as source_layouts

COLUMNS = ("question", "answer", "rationale")
ESCAPED_NEWLINE_COLUMNS = ("question", "rationale")  # FLAN's simple_cot_tsv unescapes these.
_SIGNATURE = {k: tf.TensorSpec([], tf.string) for k in COLUMNS + ("idx",)}


class CotFormatError(errors.FlanJaxError, ValueError):
  """A CoT TSV line does not have the three columns question, answer, rationale."""


def cot_path(dataset: str) -> str:
  """`$FLAN_JAX_COT_DIR/{dataset}_train.tsv`, checked to exist."""
  how = source_layouts.cot_how_to_get(dataset)
  root = local_data.data_dir(source_layouts.COT_KEY, dataset=f"CoT dataset {dataset!r}",
                             how_to_get=how)
  return local_data.require_file(os.path.join(root, source_layouts.cot_file(dataset)),
                                 dataset=f"CoT dataset {dataset!r}",
                                 key=source_layouts.COT_KEY, how_to_get=how)


def records(dataset: str) -> Iterator[dict[str, str]]:
  """The file's rows as records; CotFormatError naming file:line for a malformed line."""
  path = cot_path(dataset)
  try:
    yield from _read_rows(path)
  except UnicodeDecodeError as e:
    raise CotFormatError(f"{path}: not UTF-8 text (byte {e.start}); the cot_data files are "
                         "UTF-8: download the file again.") from None


def _read_rows(path: str) -> Iterator[dict[str, str]]:
  with open(path, encoding="utf-8") as f:
    for number, line in enumerate(f, 1):
      line = line.rstrip("\r\n")
      if not line.strip() or (number == 1 and tuple(line.split("\t")) == COLUMNS):
        continue
      cells = line.split("\t")
      if len(cells) != len(COLUMNS):
        raise CotFormatError(f"{path}:{number}: {len(cells)} tab-separated column(s); each "
                             "line needs exactly question, answer, rationale.")
      record = dict(zip(COLUMNS, (c.strip() for c in cells)), idx=f"train/{number}")
      for column in ESCAPED_NEWLINE_COLUMNS:
        record[column] = unescape_newlines(record[column])
      yield record


def unescape_newlines(text: str) -> str:
  """The two characters backslash, n -> a newline (the cot_data files' escape)."""
  return text.replace("\\n", "\n")


def cot_source(dataset: str, num_train_examples: int) -> lazy_source.LazyDataSource:
  """A lazy source over one dataset's TSV (train split only)."""
  return lazy_source.LazyDataSource(
      name=f"cot/{dataset}", splits=("train",),
      build=lambda split, shuffle, seed: tf.data.Dataset.from_generator(
          lambda: records(dataset), output_signature=_SIGNATURE),
      count=lambda split: num_train_examples)
