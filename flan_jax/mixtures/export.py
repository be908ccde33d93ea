"""Streams a task or mixture to JSONL rows {inputs, targets, task, template, format}.

Rows flow through tf.data and are written as they come, so memory does not grow with the
number of rows. Same name, split, seed, shard and count give identical bytes (gzip too:
no timestamp in the header).

Epochs: every task repeats indefinitely (each epoch reshuffled with the seed), and a
mixture draws each row's task with probability proportional to its rate, so asking for
more rows than a task holds repeats that task's examples. A task exported without
`num_examples` yields exactly one epoch.

Shards: `--shard i/n` passes seqio.ShardInfo(i, n) to every task, so shard i reads the
records whose position (after the seeded source shuffle) is i mod n; within one epoch the
n shards are disjoint and together hold every record once. With `num_examples` N, shard i
writes N // n rows (+1 for i < N % n), so the shards sum to N.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import sys
from typing import Iterator

import seqio
import tensorflow as tf

from flan_jax import errors
from flan_jax.data import formats as formats_lib
from flan_jax.mixtures import truncation

ROW_KEYS = ("inputs", "targets", "task", "template", "format")
_BATCH = 256


@dataclasses.dataclass(frozen=True)
class ExportConfig:
  """What to export and where; `num_examples=None` means one epoch (tasks only)."""
  name: str
  out: str
  split: str = "train"
  num_examples: int | None = None
  seed: int = 0
  shard_index: int = 0
  num_shards: int = 1


def parse_shard(text: str) -> tuple[int, int]:
  """'i/n' -> (i, n) with 0 <= i < n."""
  try:
    index, num = (int(p) for p in text.split("/"))
  except ValueError:
    raise errors.ConfigError(f"--shard must look like i/n (e.g. 0/4), got {text!r}.") from None
  if num < 1 or not 0 <= index < num:
    raise errors.ConfigError(f"--shard {text!r}: need 0 <= i < n.")
  return index, num


def shard_size(total: int, index: int, num_shards: int) -> int:
  """Rows shard `index` writes so that the shards together write `total`."""
  return total // num_shards + (1 if index < total % num_shards else 0)


def _default_format(task_name: str) -> str:
  parsed = formats_lib.parse_task_name(truncation.base_task_name(task_name))
  return parsed[2] if parsed else ""


def _row_fn(task: seqio.Task, task_id: int, spec: dict):
  """Maps a task example to the row's string fields (decoding tokens if no text is kept)."""
  features = task.output_features
  fmt = _default_format(task.name)

  def text(ex, key):
    if f"{key}_pretokenized" in spec:
      return ex[f"{key}_pretokenized"]
    return features[key].vocabulary.decode_tf(ex[key])

  @tf.autograph.experimental.do_not_convert
  def fn(ex):
    return {"inputs": text(ex, "inputs"), "targets": text(ex, "targets"),
            "task": tf.constant(task_id, tf.int32),
            "template": ex["template"] if "template" in spec else tf.constant(""),
            "format": ex["prompt_format"] if "prompt_format" in spec else tf.constant(fmt)}

  return fn


def task_rows(task: seqio.Task, task_id: int, cfg: ExportConfig, repeat: bool) -> tf.data.Dataset:
  """One task's rows, shuffled with the seed and restricted to the config's shard."""
  shard = seqio.ShardInfo(cfg.shard_index, cfg.num_shards) if cfg.num_shards > 1 else None
  ds = task.get_dataset(sequence_length=None, split=cfg.split, shuffle=True, seed=cfg.seed,
                        shard_info=shard, num_epochs=None if repeat else 1,
                        trim_output_features=False)
  return ds.map(_row_fn(task, task_id, ds.element_spec), num_parallel_calls=tf.data.AUTOTUNE)


def _sample_seed(cfg: ExportConfig) -> int:
  digest = hashlib.sha256(f"{cfg.seed}/{cfg.shard_index}/{cfg.num_shards}".encode()).digest()
  return int.from_bytes(digest[:7], "little")


def row_dataset(provider: seqio.Task | seqio.Mixture,
                cfg: ExportConfig) -> tuple[tf.data.Dataset, list[str], int | None]:
  """The rows as a batched tf.data stream, the task names by id, and the row count."""
  if cfg.num_examples is not None and cfg.num_examples < 0:
    raise errors.ConfigError(f"--num-examples must be >= 0, got {cfg.num_examples}.")
  count = (shard_size(cfg.num_examples, cfg.shard_index, cfg.num_shards)
           if cfg.num_examples is not None else None)
  if isinstance(provider, seqio.Task):
    _check_split(provider, cfg.split)
    ds = task_rows(provider, 0, cfg, repeat=count is not None)
    names = [provider.name]
  else:
    if count is None:
      raise errors.ConfigError(
          f"{provider.name!r} is a mixture: pass --num-examples (a mixture never ends).")
    tasks = [t for t in provider.tasks if cfg.split in t.splits]
    if not tasks:
      raise errors.ConfigError(f"No task of {provider.name!r} has a {cfg.split!r} split.")
    names = [t.name for t in tasks]
    rates = [float(provider.get_rate(t)) for t in tasks]
    streams = [task_rows(t, i, cfg, repeat=True) for i, t in enumerate(tasks)]
    ds = tf.data.Dataset.sample_from_datasets(streams, weights=rates, seed=_sample_seed(cfg),
                                              stop_on_empty_dataset=True)
  if count is not None:
    ds = ds.take(count)
  return ds.batch(_BATCH).prefetch(2), names, count


def _check_split(task: seqio.Task, split: str) -> None:
  if split not in task.splits:
    raise errors.ConfigError(f"Task {task.name!r} has no {split!r} split; it has {list(task.splits)}.")


def _decode_batches(ds: tf.data.Dataset, names: list[str]) -> Iterator[list[dict]]:
  """Batches of row dicts with ROW_KEYS, in export order."""
  for batch in ds.as_numpy_iterator():
    yield [{"inputs": batch["inputs"][i].decode("utf-8"),
            "targets": batch["targets"][i].decode("utf-8"),
            "task": names[batch["task"][i]],
            "template": batch["template"][i].decode("utf-8"),
            "format": batch["format"][i].decode("utf-8")} for i in range(len(batch["task"]))]


def iter_rows(provider: seqio.Task | seqio.Mixture, cfg: ExportConfig) -> Iterator[dict]:
  """Rows as dicts with ROW_KEYS, in export order."""
  ds, names, _ = row_dataset(provider, cfg)
  for rows in _decode_batches(ds, names):
    yield from rows


def _open_out(path: str, compress: bool) -> tuple[io.BufferedWriter, io.RawIOBase]:
  raw = open(path, "wb")  # pylint: disable=consider-using-with
  if compress:  # mtime=0 and no file name: same bytes on every run.
    return gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0), raw
  return raw, raw


def export(cfg: ExportConfig, progress: bool = True) -> int:
  """Writes the rows to cfg.out (.jsonl or .jsonl.gz) atomically; returns the row count."""
  from tqdm import tqdm  # pylint: disable=g-import-not-at-top
  from flan_jax.data import catalog  # pylint: disable=g-import-not-at-top
  provider = catalog.get_mixture_or_task(cfg.name)
  ds, names, count = row_dataset(provider, cfg)  # Validates before a file is created.
  os.makedirs(os.path.dirname(os.path.abspath(cfg.out)), exist_ok=True)
  tmp = cfg.out + ".tmp"
  out, raw = _open_out(tmp, cfg.out.endswith(".gz"))
  written = 0
  try:
    with tqdm(total=count, unit="rows", disable=not progress, file=sys.stderr,
              mininterval=1.0, desc=cfg.name) as bar:
      for rows in _decode_batches(ds, names):
        out.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8"))
        written += len(rows)
        bar.update(len(rows))
  finally:
    out.close()
    raw.close()
  os.replace(tmp, cfg.out)
  return written
