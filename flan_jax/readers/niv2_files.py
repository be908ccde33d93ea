"""The Super-Natural Instructions task file format, read with the standard library only.

`tasks/{file stem}.json` of allenai/natural-instructions, in both formats the repository has
used: `Definition` a list of strings or (older files) one string; `Positive Examples`
({input, output, explanation}); `Instances` ({id, input, output: [strings]}; older files have
no id, the instance's position stands in). No TensorFlow: the catalog counts a task's
examples with this module (`count_split`, `train_counts`, counts cached on disk) without
building anything.
"""

from __future__ import annotations

import json
import logging
import os
import zlib
from typing import Iterable, Iterator

from flan_jax import errors

VALIDATION_EVERY = 20


class Niv2FormatError(errors.FlanJaxError, ValueError):
  """A task file is not a natural-instructions task (keys, types or encoding)."""


def split_of(instance_id: str) -> str:
  """'validation' for one instance id in VALIDATION_EVERY (by CRC32), else 'train'."""
  return "validation" if zlib.crc32(instance_id.encode()) % VALIDATION_EVERY == 0 else "train"


def read_task_file(path: str) -> dict:
  """The parsed task file, its keys and their types checked (one-line errors)."""
  try:
    with open(path, encoding="utf-8") as f:
      data = json.load(f)
  except UnicodeDecodeError as e:
    raise Niv2FormatError(f"{path}: not UTF-8 text (byte {e.start}); download the task file "
                          "again from allenai/natural-instructions.") from None
  except json.JSONDecodeError as e:
    raise Niv2FormatError(f"{path}: not JSON ({e.msg} at line {e.lineno}); download the task "
                          "file again from allenai/natural-instructions.") from None
  if not isinstance(data, dict):
    raise Niv2FormatError(f"{path}: holds a JSON {type(data).__name__}; a natural-instructions "
                          "task file is an object with Definition and Instances.")
  missing = [k for k in ("Definition", "Instances") if k not in data]
  if missing:
    raise Niv2FormatError(f"{path}: lacks {missing}; a natural-instructions task file has "
                          "Definition, Positive Examples, Negative Examples and Instances.")
  if not isinstance(data["Instances"], list):
    raise Niv2FormatError(f"{path}: Instances is a {type(data['Instances']).__name__}, "
                          "not a list of {input, output} objects.")
  return data


def definition_text(data: dict, path: str = "") -> str:
  """The task's Definition: a list of strings joined by a space, or the older plain string."""
  value = data["Definition"]
  if isinstance(value, str):
    return value.strip()
  if isinstance(value, list) and all(isinstance(v, str) for v in value):
    return " ".join(v.strip() for v in value).strip()
  raise Niv2FormatError(f"{path}: Definition is neither a string nor a list of strings "
                        f"(got {type(value).__name__}).")


def positive_examples(data: dict, path: str = "") -> list[tuple[str, str, str]]:
  """(input, output, explanation) of each positive example that has an input and output."""
  out = []
  for example in data.get("Positive Examples") or []:
    if not isinstance(example, dict):
      raise Niv2FormatError(f"{path}: a Positive Example is a {type(example).__name__}, not an "
                            "{input, output, explanation} object.")
    output = example.get("output", "")
    output = output[0] if isinstance(output, list) and output else output
    if example.get("input") and isinstance(output, str) and output:
      out.append((example["input"].strip(), output.strip(),
                  str(example.get("explanation") or "").strip()))
  return out


def instances(task: str, data: dict) -> Iterator[tuple[str, str, str]]:
  """(id, input, first output) of every instance that has an output."""
  for number, inst in enumerate(data["Instances"]):
    outputs = inst.get("output") or [] if isinstance(inst, dict) else []
    if isinstance(outputs, str):
      outputs = [outputs]
    if outputs and isinstance(inst.get("input"), str):
      yield str(inst.get("id", f"{task}-{number}")), inst["input"].strip(), outputs[0].strip()


def count_split(path: str, task: str, split: str = "train") -> int:
  """How many records `split` of the task file at `path` has (what rates should use)."""
  return sum(split_of(key) == split for key, _, _ in instances(task, read_task_file(path)))


def train_counts(root: str, stems: Iterable[tuple[str, str]]) -> dict[str, int]:
  """{task: train records} for the (task, file stem) pairs whose file is under `root`/tasks;
  tasks without a file are left out. A file is parsed once: its count is kept in
  $FLAN_JAX_CACHE_DIR/niv2_train_counts.json, keyed by its path, size and modification time,
  so listing the catalog stays quick once the repository has been counted."""
  cache_path = _counts_cache_path()
  cache = _read_cache(cache_path)
  out, changed, told = {}, False, False
  for task, stem in stems:
    path = os.path.abspath(os.path.join(root, "tasks", f"{stem}.json"))
    try:
      stat = os.stat(path)
    except OSError:
      continue
    key = [stat.st_size, stat.st_mtime_ns, task]
    entry = cache.get(path)
    if not (isinstance(entry, list) and entry[:3] == key):
      if not told:
        logging.warning("Counting the NIv2 task files under %s (once: the counts are kept in "
                        "%s).", root, cache_path)
        told = True
      entry = cache[path] = key + [count_split(path, task, "train")]
      changed = True
    out[task] = int(entry[3])
  if changed:
    _write_cache(cache_path, cache)
  return out


def _counts_cache_path() -> str:
  # The folder of flan_jax.data.vocab.cache_dir(), without importing SeqIO.
  root = os.environ.get("FLAN_JAX_CACHE_DIR") or os.path.join(
      os.path.expanduser("~"), ".cache", "flan_jax")
  return os.path.join(root, "niv2_train_counts.json")


def _read_cache(path: str) -> dict:
  try:
    with open(path, encoding="utf-8") as f:
      data = json.load(f)
    return data if isinstance(data, dict) else {}
  except (OSError, ValueError):
    return {}


def _write_cache(path: str, cache: dict) -> None:
  """Atomically (temp file, then rename); a read-only cache folder only costs a recount."""
  try:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
      json.dump(cache, f)
    os.replace(tmp, path)
  except OSError:
    pass
