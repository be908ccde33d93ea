"""Super-Natural Instructions v2 tasks as SeqIO sources, one per task file.

Reads a local copy of the allenai/natural-instructions layout:
`$FLAN_JAX_NIV2_DIR/tasks/{file stem}.json` (the stem is the task name, except for the 41
files whose names have hyphens: `tables.niv2_tasks.file_stem`). Both formats the repository
has used are read: `Definition` a list of strings (joined by a space) or, in older files, one
string; `Positive Examples` ({input, output, explanation}); `Instances` ({id, input, output:
[strings]}; older files have no id, the instance's position stands in).

Records: `definition`, `input`, `answer` (the first output), `idx` (the instance id) and one
of the task's positive examples, `ex_input`, `ex_output`, `ex_explanation` (drawn by the
CRC32 of the instance id), which FLAN's NIv2 few-shot prompts show inline with their
explanation. The files have no train/validation split: an instance goes to validation when
the CRC32 of its id is divisible by VALIDATION_EVERY, so the split never depends on order.
"""

from __future__ import annotations

import os
import zlib
from typing import Iterator

import tensorflow as tf

from flan_jax.readers import lazy_source
from flan_jax.readers import local_data
from flan_jax.readers import niv2_files
from flan_jax.readers import layouts as source_layouts

NIV2_KEY = source_layouts.NIV2_KEY
VALIDATION_EVERY = niv2_files.VALIDATION_EVERY
Niv2FormatError = niv2_files.Niv2FormatError
split_of = niv2_files.split_of
DEFINITION, INPUT, ANSWER = "definition", "input", "answer"
EXAMPLE_FIELDS = ("ex_input", "ex_output", "ex_explanation")
FIELDS = (DEFINITION, INPUT, ANSWER) + EXAMPLE_FIELDS
HOW_TO_GET = source_layouts.NIV2_HOW_TO_GET


def task_path(task: str, file_stem: str | None = None) -> str:
  """`$FLAN_JAX_NIV2_DIR/tasks/{file_stem}.json`, checked to exist."""
  root = local_data.data_dir(NIV2_KEY, dataset=f"NIv2 task {task!r}", how_to_get=HOW_TO_GET)
  return local_data.require_file(os.path.join(root, "tasks", f"{file_stem or task}.json"),
                                 dataset=f"NIv2 task {task!r}", key=NIV2_KEY,
                                 how_to_get=HOW_TO_GET)


def records(task: str, split: str, file_stem: str | None = None) -> Iterator[dict[str, str]]:
  """The split's records of one task file (instances without an output are skipped)."""
  path = task_path(task, file_stem)
  data = niv2_files.read_task_file(path)
  definition = niv2_files.definition_text(data, path)
  examples = niv2_files.positive_examples(data, path) or [("", "", "")]
  for key, text, answer in niv2_files.instances(task, data):
    if split_of(key) == split:
      shown = examples[zlib.crc32(key.encode()) % len(examples)]
      yield dict(zip(FIELDS, (definition, text, answer) + shown), idx=key)


_SIGNATURE = {k: tf.TensorSpec([], tf.string) for k in FIELDS + ("idx",)}


def niv2_source(task: str, file_stem: str | None = None) -> lazy_source.LazyDataSource:
  """A lazy source over one task file; split sizes are counted from the file when asked."""
  return lazy_source.LazyDataSource(
      name=f"niv2/{task}", splits=("train", "validation"),
      build=lambda split, shuffle, seed: tf.data.Dataset.from_generator(
          lambda: records(task, split, file_stem), output_signature=_SIGNATURE),
      count=lambda split: sum(1 for _ in records(task, split, file_stem)))
