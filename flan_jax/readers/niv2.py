"""Super-Natural Instructions v2 tasks as SeqIO sources, one per task file.

Reads a local copy of the allenai/natural-instructions layout:
`$FLAN_JAX_NIV2_DIR/tasks/{task}.json` with `Definition` (a list of strings), `Positive
Examples`, `Negative Examples` and `Instances` ({id, input, output: [strings]}).
Records: `definition` (the task's own), `input`, `answer` (the first output) and `idx` (the
instance id). The files have no train/validation split: an instance goes to validation when
the CRC32 of its id is divisible by VALIDATION_EVERY, so the split never depends on order.
"""

from __future__ import annotations

import json
import os
import zlib
from typing import Iterator

import tensorflow as tf

from flan_jax import errors
from flan_jax.readers import lazy_source
from flan_jax.readers import local_data
from flan_jax.readers import layouts as source_layouts

NIV2_KEY = source_layouts.NIV2_KEY
VALIDATION_EVERY = 20
DEFINITION, INPUT, ANSWER = "definition", "input", "answer"
HOW_TO_GET = source_layouts.NIV2_HOW_TO_GET


class Niv2FormatError(errors.FlanJaxError, ValueError):
  """A task file lacks the keys of the natural-instructions layout."""


def task_path(task: str) -> str:
  """`$FLAN_JAX_NIV2_DIR/tasks/{task}.json`, checked to exist."""
  root = local_data.data_dir(NIV2_KEY, dataset=f"NIv2 task {task!r}", how_to_get=HOW_TO_GET)
  return local_data.require_file(os.path.join(root, "tasks", f"{task}.json"),
                                 dataset=f"NIv2 task {task!r}", key=NIV2_KEY,
                                 how_to_get=HOW_TO_GET)


def split_of(instance_id: str) -> str:
  """'validation' for one instance id in VALIDATION_EVERY (by CRC32), else 'train'."""
  return "validation" if zlib.crc32(instance_id.encode()) % VALIDATION_EVERY == 0 else "train"


def load_task(task: str) -> dict:
  """The parsed task file, with its keys checked."""
  path = task_path(task)
  with open(path, encoding="utf-8") as f:
    data = json.load(f)
  missing = [k for k in ("Definition", "Instances") if k not in data]
  if missing:
    raise Niv2FormatError(f"{path}: lacks {missing}; a natural-instructions task file has "
                          "Definition, Positive Examples, Negative Examples and Instances.")
  return data


def records(task: str, split: str) -> Iterator[dict[str, str]]:
  """The split's records of one task file (instances without an output are skipped)."""
  data = load_task(task)
  definition = " ".join(data["Definition"]).strip()
  for number, inst in enumerate(data["Instances"]):
    outputs = inst.get("output") or []
    key = str(inst.get("id", f"{task}-{number}"))
    if outputs and split_of(key) == split:
      yield {DEFINITION: definition, INPUT: inst["input"].strip(), ANSWER: outputs[0].strip(),
             "idx": key}


_SIGNATURE = {k: tf.TensorSpec([], tf.string) for k in (DEFINITION, INPUT, ANSWER, "idx")}


def niv2_source(task: str) -> lazy_source.LazyDataSource:
  """A lazy source over one task file; split sizes are counted from the file when asked."""
  return lazy_source.LazyDataSource(
      name=f"niv2/{task}", splits=("train", "validation"),
      build=lambda split, shuffle, seed: tf.data.Dataset.from_generator(
          lambda: records(task, split), output_signature=_SIGNATURE),
      count=lambda split: sum(1 for _ in records(task, split)))
