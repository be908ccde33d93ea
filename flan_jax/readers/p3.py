"""P3 (`bigscience/P3`) subsets as SeqIO sources, read from a local copy or the Hugging Face hub.

Layouts read (first found wins):
- the hub repository as published today: Parquet at the top level, one folder per subset
  (config), `{subset}/{split}-NNNNN-of-NNNNN.parquet` (the README's `configs:` name them);
- the hub's `refs/convert/parquet` branch: `{subset}/{split}/NNNN.parquet`;
- the original release, which earlier copies still have: `data/{subset}/{split}.tfrecord-
  00000-of-00001` with `data/{subset}/info.{split}.json` describing the features (Parquet
  under `data/{subset}/` is read too).
With `FLAN_JAX_P3_DIR` set, that folder is read; otherwise the subset's files are fetched from
the hub into the Hugging Face cache on first use (needs `pip install -e '.[hf]'`).

Records: `prompt` (inputs_pretokenized with each newline replaced by a space, then stripped),
`answer` (targets_pretokenized without newlines, stripped), `options` (answer_choices the same
way, multiple-choice subsets only) and an `idx` key: what FLAN's T0 preprocessing does.
"""

from __future__ import annotations

import functools
import glob
import json
import os
from typing import Iterator

import tensorflow as tf

from flan_jax import errors
from flan_jax.readers import lazy_source
from flan_jax.readers import local_data
from flan_jax.readers import layouts as source_layouts

P3_KEY, HUB_REPO = source_layouts.P3_KEY, source_layouts.P3_HUB_REPO
how_to_get = source_layouts.p3_how_to_get
PROMPT, ANSWER, OPTIONS = "prompt", "answer", "options"
_PARQUET_BATCH = 1024


class P3FormatError(errors.FlanJaxError, ValueError):
  """A P3 subset's files lack the features its wrapper needs."""


def subset_dir(subset: str) -> str:
  """The folder holding the subset's files: under FLAN_JAX_P3_DIR, else fetched from the hub."""
  var = local_data.env_var(P3_KEY)
  if os.environ.get(var):
    root = local_data.data_dir(P3_KEY, dataset=f"P3 subset {subset!r}",
                               how_to_get=how_to_get(subset))
  else:
    root = _hub_snapshot(subset)
  converted = os.path.join(root, subset)  # today's hub layout has no data/ level
  if not os.path.isdir(os.path.join(root, "data", subset)) and os.path.isdir(converted):
    return converted
  return local_data.require_file(os.path.join(root, "data", subset),
                                 dataset=f"P3 subset {subset!r}", key=P3_KEY,
                                 how_to_get=how_to_get(subset))


@functools.lru_cache(maxsize=None)  # One hub round trip per subset and process.
def _hub_snapshot(subset: str) -> str:
  try:
    import huggingface_hub  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise local_data.LocalDataMissingError(
        f"P3 subset {subset!r}: {local_data.env_var(P3_KEY)} is not set and huggingface_hub is "
        f"not installed. To get it: {how_to_get(subset)}") from None
  try:
    return huggingface_hub.snapshot_download(
        repo_id=HUB_REPO, repo_type="dataset", allow_patterns=hub_patterns(subset))
  except Exception as e:  # pylint: disable=broad-except  # offline, missing, auth...
    raise local_data.LocalDataMissingError(
        f"P3 subset {subset!r}: could not fetch it from the hub ({type(e).__name__}: {e}). "
        f"To get it: {how_to_get(subset)}") from None


def hub_patterns(subset: str) -> list[str]:
  """The subset's files in the hub repository: today's `{subset}/` Parquet folder, and the
  original `data/{subset}/` one for a revision that still has it."""
  return [f"{subset}/*", f"data/{subset}/*"]


def _parquet_files(folder: str, split: str) -> list[str]:
  return sorted(glob.glob(os.path.join(folder, f"{split}-*.parquet")) +
                glob.glob(os.path.join(folder, f"{split}.parquet")) +
                glob.glob(os.path.join(folder, split, "*.parquet")))


def _tfrecord_files(folder: str, split: str) -> list[str]:
  return sorted(glob.glob(os.path.join(folder, f"{split}.tfrecord-*")))


def _check_columns(subset: str, columns, multiple_choice: bool, where: str) -> None:
  need = ["inputs_pretokenized", "targets_pretokenized"]
  if multiple_choice:
    need.append("answer_choices")
  missing = [c for c in need if c not in columns]
  if missing:
    raise P3FormatError(
        f"P3 subset {subset!r} ({where}) lacks {missing}; it has {sorted(columns)}. "
        + ("The catalog's T0 table lists this subset as multiple choice; if its records really "
           "have no answer_choices, list it as QA in tasks/tables/t0_subsets.py."
           if "answer_choices" in missing else "Re-download the subset."))


def _parse_tfrecords(subset: str, folder: str, split: str, files: list[str],
                     multiple_choice: bool) -> tf.data.Dataset:
  info_path = local_data.require_file(
      os.path.join(folder, f"info.{split}.json"), dataset=f"P3 subset {subset!r}",
      key=P3_KEY, how_to_get=how_to_get(subset))
  try:
    with open(info_path, encoding="utf-8") as f:
      features = json.load(f)["features"]
  except (ValueError, KeyError, TypeError) as e:  # not JSON / UTF-8, or no "features"
    raise P3FormatError(f"{info_path}: not a P3 info file with \"features\" ({type(e).__name__}: "
                        f"{e}); download the subset again: {how_to_get(subset)}") from None
  _check_columns(subset, features, multiple_choice, info_path)
  description = {
      "inputs_pretokenized": tf.io.FixedLenFeature([], tf.string),
      "targets_pretokenized": tf.io.FixedLenFeature([], tf.string)}
  if multiple_choice:
    description["answer_choices"] = tf.io.FixedLenSequenceFeature(
        [], tf.string, allow_missing=True)
  return tf.data.TFRecordDataset(files).map(
      lambda pb: tf.io.parse_single_example(pb, description),
      num_parallel_calls=tf.data.AUTOTUNE)


def _parquet_rows(files: list[str], multiple_choice: bool) -> Iterator[dict]:
  import pyarrow.parquet as pq  # pylint: disable=g-import-not-at-top
  columns = ["inputs_pretokenized", "targets_pretokenized"] + (
      ["answer_choices"] if multiple_choice else [])
  for path in files:
    for batch in pq.ParquetFile(path).iter_batches(batch_size=_PARQUET_BATCH, columns=columns):
      for row in batch.to_pylist():
        if multiple_choice:
          row["answer_choices"] = list(row["answer_choices"] or [])
        yield row


def _parse_parquet(subset: str, files: list[str], multiple_choice: bool) -> tf.data.Dataset:
  import pyarrow  # pylint: disable=g-import-not-at-top
  import pyarrow.parquet as pq  # pylint: disable=g-import-not-at-top
  for path in files:  # Footers only: a truncated or foreign file fails here, named.
    try:
      columns = pq.ParquetFile(path).schema_arrow.names
    except (pyarrow.ArrowException, OSError) as e:
      raise P3FormatError(f"{path}: not a readable Parquet file ({e}); download the subset "
                          f"again: {how_to_get(subset)}") from None
    _check_columns(subset, columns, multiple_choice, path)
  signature = {"inputs_pretokenized": tf.TensorSpec([], tf.string),
               "targets_pretokenized": tf.TensorSpec([], tf.string)}
  if multiple_choice:
    signature["answer_choices"] = tf.TensorSpec([None], tf.string)
  return tf.data.Dataset.from_generator(lambda: _parquet_rows(files, multiple_choice),
                                        output_signature=signature)


def read_split(subset: str, split: str, multiple_choice: bool) -> tf.data.Dataset:
  """The split's records as {prompt, answer, [options], idx} (files in the order listed)."""
  folder = subset_dir(subset)
  if parquet := _parquet_files(folder, split):
    raw = _parse_parquet(subset, parquet, multiple_choice)
  elif tfrecords := _tfrecord_files(folder, split):
    raw = _parse_tfrecords(subset, folder, split, tfrecords, multiple_choice)
  else:
    raise local_data.LocalDataMissingError(
        f"P3 subset {subset!r}: no {split} files in {folder} (looked for {split}-*.parquet, "
        f"{split}/*.parquet and {split}.tfrecord-*). To get them: {how_to_get(subset)}")

  @tf.autograph.experimental.do_not_convert
  def to_record(i, ex):
    prompt = tf.strings.regex_replace(ex["inputs_pretokenized"], "\n", " ")
    out = {PROMPT: tf.strings.strip(prompt),
           ANSWER: _without_newlines(ex["targets_pretokenized"]),
           "idx": tf.strings.join([f"{split}/", tf.strings.as_string(i)])}
    if multiple_choice:
      out[OPTIONS] = _without_newlines(ex["answer_choices"])
    return out

  return raw.enumerate().map(to_record, num_parallel_calls=tf.data.AUTOTUNE)


def _without_newlines(text: tf.Tensor) -> tf.Tensor:
  """FLAN's T0 targets and choices: newlines removed, then stripped."""
  return tf.strings.strip(tf.strings.regex_replace(text, "\n", ""))


def p3_source(subset: str, *, multiple_choice: bool,
              sizes: dict[str, int]) -> lazy_source.LazyDataSource:
  """A lazy source over one subset; `sizes` ({split: records}) are the known split sizes."""
  return lazy_source.LazyDataSource(
      name=f"p3/{subset}", splits=tuple(sizes),
      build=lambda split, shuffle, seed: read_split(subset, split, multiple_choice),
      count=sizes.get)
