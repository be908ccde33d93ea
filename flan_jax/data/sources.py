"""Data sources over a researcher's own files: JSON lines, one record (a JSON object) per line.

    source = jsonl_source({"train": "data/train.jsonl", "validation": "data/dev-*.jsonl"})
    registration.register_template_tasks("mine", template_set, source, features)

Records come out as the toy sources produce them: strings as tf.string scalars, lists of
strings (answer options, dialog turns) as 1-D tf.string tensors, integers/numbers/booleans
as int64/float32/bool scalars, plus an `idx` string that keys every seeded draw: the
record's declared id (`id_field`, else its own `idx`), else `{split}/{n}` with n its index in
the split as a whole (files in listed order, blank lines skipped). So the same records give the
same prompts however they are split into files. Nothing is read when the source is built or
a task registered; files are streamed when a dataset is iterated.
"""

from __future__ import annotations

import json
import random
from typing import Any, Callable, Iterator, Mapping, Sequence

import seqio
import tensorflow as tf

from flan_jax import errors
from flan_jax.data import seeding

_SPECS = {
    "string": tf.TensorSpec([], tf.string),
    "integer": tf.TensorSpec([], tf.int64),
    "number": tf.TensorSpec([], tf.float32),
    "boolean": tf.TensorSpec([], tf.bool),
    "list of strings": tf.TensorSpec([None], tf.string),
}
_GLOB_CHARS = frozenset("*?[")


class JsonlSourceError(errors.FlanJaxError, ValueError):
  """A JSON-lines source names a split or file that does not exist."""


class JsonlRecordError(JsonlSourceError):
  """A JSON-lines record is malformed or its fields differ from the split's first record."""


def value_kind(value: Any) -> str | None:
  """The kind of a JSON value as a field ('string', ..., 'list of strings'), None if unsupported."""
  if isinstance(value, str):
    return "string"
  if isinstance(value, bool):  # Before int: bool is an int in Python.
    return "boolean"
  if isinstance(value, int):
    return "integer"
  if isinstance(value, float):
    return "number"
  if isinstance(value, list) and all(isinstance(v, str) for v in value):
    return "list of strings"
  return None


def _a(kind: str) -> str:
  return ("an " if kind[0] in "aeiou" else "a ") + kind


def _describe(value: Any) -> str:
  if value is None:
    return "null"
  if isinstance(value, dict):
    return "an object"
  items = value if isinstance(value, list) else []
  bad = [i for i, v in enumerate(items) if not isinstance(v, str)]
  if bad:
    return f"a list whose element {bad[0]} is {json.dumps(value[bad[0]])}, not a string"
  return _a(value_kind(value) or type(value).__name__)


def parse_line(text: str, where: str) -> dict[str, Any]:
  """One JSON object from a line; JsonlRecordError naming `where` (file:line) otherwise."""
  try:
    record = json.loads(text)
  except json.JSONDecodeError as e:
    raise JsonlRecordError(f"{where}: not valid JSON: {e.msg} (column {e.colno}).") from None
  if not isinstance(record, dict):
    raise JsonlRecordError(
        f"{where}: each line must hold one JSON object, got {_describe(record)}.")
  for field, value in record.items():
    if value_kind(value) is None:
      raise JsonlRecordError(
          f"{where}: field {field!r} is {_describe(value)}; fields must be strings, numbers, "
          "booleans or lists of strings.")
  if seeding.KEY_FIELD in record and value_kind(record[seeding.KEY_FIELD]) not in (
      "string", "integer"):
    raise JsonlRecordError(f"{where}: field {seeding.KEY_FIELD!r} (the record key) must be a "
                           "string or an integer.")
  return record


def check_record(record: Mapping[str, Any], schema: Mapping[str, str], origin: str,
                 where: str) -> None:
  """Raises JsonlRecordError when `record` (at `where`) differs from the schema read at `origin`."""
  missing = sorted(set(schema) - set(record))
  if missing:
    raise JsonlRecordError(f"{where}: record lacks field(s) {missing}, which the split's first "
                           f"record ({origin}) has; every record of a split needs the same fields.")
  extra = sorted(set(record) - set(schema))
  if extra:
    raise JsonlRecordError(f"{where}: record has field(s) {extra} that the split's first record "
                           f"({origin}) lacks; every record of a split needs the same fields.")
  for field, kind in schema.items():
    got = value_kind(record[field])
    if got != kind and not (kind == "number" and got == "integer"):
      raise JsonlRecordError(f"{where}: field {field!r} is {_a(got)} here but {_a(kind)} in the "
                             f"split's first record ({origin}).")


class JsonlDataSource(seqio.DataSource):
  """A seqio.DataSource over JSON-lines files, one file list (paths or globs) per split.

  Files are this source's shards (seqio shards across hosts by file when there are enough).
  The field schema is taken from a split's first record when its dataset is built; every
  other record is checked against it as it is read.
  """

  def __init__(self, split_files: Mapping[str, str | Sequence[str]],
               num_input_examples: Mapping[str, int] | None = None,
               id_field: str | None = None):
    if not split_files:
      raise JsonlSourceError(
          "jsonl_source needs at least one split, e.g. {'train': 'train.jsonl'}.")
    self._split_files = {s: (f,) if isinstance(f, str) else tuple(f)
                         for s, f in split_files.items()}
    self._counts: dict[str, int] = dict(num_input_examples or {})
    self._id_field = id_field
    self._file_counts: dict[str, int] = {}
    super().__init__(splits=tuple(self._split_files), num_input_examples=None)

  def __repr__(self) -> str:
    return f"JsonlDataSource({self._split_files})"

  @property
  def supports_arbitrary_sharding(self) -> bool:
    return False

  def _check_split(self, split: str) -> None:
    if split not in self._split_files:
      raise JsonlSourceError(f"JSON-lines source has no split {split!r}; it has "
                             f"{sorted(self._split_files)} (few-shot formats need 'train').")

  def list_shards(self, split: str) -> list[str]:
    """The split's files: each pattern expanded (sorted), in the order given."""
    self._check_split(split)
    files = []
    for pattern in self._split_files[split]:
      if _GLOB_CHARS & set(pattern):
        matched = sorted(tf.io.gfile.glob(pattern))
        if not matched:
          raise JsonlSourceError(f"Split {split!r}: pattern {pattern!r} matches no file.")
        files += matched
      elif not tf.io.gfile.exists(pattern):
        raise JsonlSourceError(f"Split {split!r}: file {pattern!r} does not exist.")
      else:
        files.append(pattern)
    return files

  def num_input_examples(self, split: str) -> int:
    """The given count, else the split's non-blank lines (counted once, then cached)."""
    self._check_split(split)
    if split not in self._counts:
      self._counts[split] = sum(self._file_count(f) for f in self.list_shards(split))
    return self._counts[split]

  def _file_count(self, path: str) -> int:
    """Non-blank lines of one file (counted once per process)."""
    if path not in self._file_counts:
      self._file_counts[path] = sum(1 for _ in _lines(path))
    return self._file_counts[path]

  def _offsets(self, split: str) -> dict[str, int]:
    """Index in the whole split of each file's first record (files in listed order)."""
    offsets, total = {}, 0
    for path in self.list_shards(split):
      offsets[path] = total
      total += self._file_count(path)
    return offsets

  def validate(self, split: str | None = None) -> dict[str, int]:
    """Reads every record of one (default: every) split, raising JsonlRecordError at the first
    bad one, and returns the record count per split. Use it to check files before a run."""
    counts = {}
    for name in [split] if split else self.splits:
      files = self.list_shards(name)
      schema, origin = _first_schema(files, name)
      counts[name] = sum(1 for _ in _records(files, name, schema, origin, self._id_field))
      self._counts.setdefault(name, counts[name])
    return counts

  def get_dataset(self, split: str = "train", shuffle: bool = True, seed: int | None = None,
                  shard_info: seqio.ShardInfo | None = None, **unused) -> tf.data.Dataset:
    """Streams the split's records; shuffle=True shuffles the file order (seqio's task
    shuffle buffer mixes records)."""
    del unused
    files = self.list_shards(split)
    if shard_info:
      files = files[shard_info.index::shard_info.num_shards]
    if shuffle:
      random.Random(seed).shuffle(files)
    schema, origin = _first_schema(files, split)
    signature = {k: _SPECS[kind] for k, kind in schema.items()}
    signature[seeding.KEY_FIELD] = _SPECS["string"]
    offsets = lambda: self._offsets(split)  # pylint: disable=unnecessary-lambda-assignment
    return tf.data.Dataset.from_generator(
        lambda: _noting_errors(_records(files, split, schema, origin, self._id_field, offsets)),
        output_signature=signature)

  def locate(self, key: str) -> str | None:
    """`file:line` of the record whose key (`idx`) is `key`, None if no record has it.

    Used by error messages: reads the files again, which only a failing run does."""
    for split in self.splits:
      files = self.list_shards(split)
      schema, origin = _first_schema(files, split)
      offsets = lambda: self._offsets(split)  # pylint: disable=cell-var-from-loop
      for where, record in _located(files, split, schema, origin, self._id_field, offsets):
        if record[seeding.KEY_FIELD] == key:
          return where
    return None


def _noting_errors(records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
  """`records`, noting a bad record's error for the command (TensorFlow may drop it)."""
  try:
    yield from records
  except errors.FlanJaxError as e:
    raise errors.noted_in_pipeline(e)


def _lines(path: str) -> Iterator[tuple[int, str]]:
  """(1-based line number, text) of each non-blank line of a file (UTF-8, checked per line)."""
  with tf.io.gfile.GFile(path, "rb") as f:
    for number, raw in enumerate(f, 1):
      try:
        text = raw.decode("utf-8")
      except UnicodeDecodeError as e:
        raise JsonlRecordError(
            f"{path}:{number}: not valid UTF-8: byte 0x{raw[e.start]:02x} at column "
            f"{len(raw[:e.start].decode('utf-8', 'replace')) + 1}. Save the file as UTF-8 "
            "(e.g. `iconv -f latin1 -t utf-8`).") from None
      if text.strip():
        yield number, text


def _first_schema(files: Sequence[str], split: str) -> tuple[dict[str, str], str]:
  """The field kinds of the first record in `files` and where it was read."""
  for path in files:
    for number, text in _lines(path):
      where = f"{path}:{number}"
      record = parse_line(text, where)
      record.pop(seeding.KEY_FIELD, None)
      return {k: value_kind(v) for k, v in record.items()}, where
  raise JsonlRecordError(f"Split {split!r} has no records (files: {list(files)}).")


def _records(files: Sequence[str], split: str, schema: Mapping[str, str], origin: str,
             id_field: str | None = None,
             offsets: Callable[[], Mapping[str, int]] | None = None) -> Iterator[dict[str, Any]]:
  """The checked records of `files`, each with its `idx` key (see the module docstring);
  `offsets` (computed only if a record has no id) gives each file's first index in the split."""
  for _, record in _located(files, split, schema, origin, id_field, offsets):
    yield record


def _located(files: Sequence[str], split: str, schema: Mapping[str, str], origin: str,
             id_field: str | None = None,
             offsets: Callable[[], Mapping[str, int]] | None = None
             ) -> Iterator[tuple[str, dict[str, Any]]]:
  """(`file:line`, record) of each checked record of `files` (see `_records`)."""
  known: Mapping[str, int] | None = None
  for path in files:
    for index, (number, text) in enumerate(_lines(path)):
      where = f"{path}:{number}"
      record = parse_line(text, where)
      key = record.pop(seeding.KEY_FIELD, None)
      check_record(record, schema, origin, where)
      if id_field is not None:
        if id_field not in record:
          raise JsonlRecordError(f"{where}: record lacks its id field {id_field!r}.")
        key = record[id_field]
      if key is None:
        if known is None:
          known = offsets() if offsets is not None else {}
        key = f"{split}/{known.get(path, 0) + index}"
      record[seeding.KEY_FIELD] = str(key)
      yield where, record


def jsonl_source(split_files: Mapping[str, str | Sequence[str]],
                 num_input_examples: Mapping[str, int] | None = None,
                 id_field: str | None = None) -> seqio.DataSource:
  """A lazy seqio source over JSON-lines files: {split: path, glob or list of them}.

  num_input_examples: per-split record counts, if known; otherwise they are counted (once)
  when first asked for, e.g. by seqio's in-memory cache decision or a mixture's rates.
  id_field: a field holding each record's stable id (it keys the record's seeded draws);
  without it, a record's `idx` field, else its index in the split as a whole.
  """
  return JsonlDataSource(split_files, num_input_examples, id_field)
