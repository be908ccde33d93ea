"""Streams a task or mixture to JSONL rows {inputs, targets, task, template, format}.

Neither memory nor open files grow with the number of rows or tasks. A mixture first draws
every row's task (seeded PCG64, probability proportional to its rate; pure numpy), then
builds the pipelines of the drawn tasks one at a time, in the order of each task's first
drawn row, each rendering exactly that task's rows, and spills every row, keyed by its
output position, into the bucket of positions it belongs to (gzip files next to the output;
writes are buffered in memory up to `_SPILL_BUFFER_BYTES` and appended one file at a time,
so at most one spill file is open). A bucket is read back, put in position order and
written as soon as every task drawn in it is done; buckets grow from `_FIRST_BUCKET_ROWS`
to `_BUCKET_ROWS` positions, so the file starts after the few tasks of its first 32 rows
rather than after every task of the mixture. (A toy task pipeline holds ~18 MiB of tf.data
graphs and kernels: they are freed after each task.)
Same name, split, seed, shard and count give identical bytes (gzip too: no timestamp).

Epochs: every task repeats indefinitely (each epoch reshuffled with the seed), so asking
for more rows than a task holds repeats that task's examples. A task exported without
`num_examples` yields exactly one epoch. A mixture task rendering k rows shuffles with a
buffer of min(its own buffer, max(64, 4k)) examples, so a task drawn 8 times does not
render its whole default buffer (1,000 examples) first.

Shards: `--shard i/n` passes seqio.ShardInfo(i, n) to every task, so shard i reads the
records whose position (after the seeded source shuffle) is i mod n; within one epoch the
n shards are disjoint and together hold every record once. With `num_examples` N, shard i
writes N // n rows (+1 for i < N % n), so the shards sum to N.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import gzip
import hashlib
import io
import json
import os
import sys
import tempfile
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import seqio
import tensorflow as tf

from flan_jax import errors
from flan_jax.data import formats as formats_lib
from flan_jax.mixtures import rates as rates_lib
from flan_jax.mixtures import spill as spill_lib

ROW_KEYS = ("inputs", "targets", "task", "template", "format")
_BATCH = 256
_DRAW_CHUNK = 8192  # Rows drawn per step.
_BUCKET_ROWS = 65_536  # Most output positions per spill bucket (one is in memory at a time).
_FIRST_BUCKET_ROWS = 32  # The first bucket; each next one is twice as large.
_SPILL_BUFFER_BYTES = 32 << 20  # Spilled rows buffered in memory before appending to files.
_MIN_SHUFFLE_BUFFER = 64
_COLLECT_GROWTH_BYTES = 128 << 20
_COLLECT_EVERY = 16


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
  overwrite: bool = False  # Replace an existing `out` (only once the new file is complete).


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
  parsed = formats_lib.parse_task_name(formats_lib.base_task_name(task_name))
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
  ds = task.get_dataset(sequence_length=None, split=cfg.split, shuffle=_shuffles(task),
                        seed=cfg.seed,
                        shard_info=shard, num_epochs=None if repeat else 1,
                        trim_output_features=False)
  return ds.map(_row_fn(task, task_id, ds.element_spec), num_parallel_calls=tf.data.AUTOTUNE)


def _shuffles(task: seqio.Task) -> bool:
  """False for a task that forbids shuffling (the held-out suites: rows in file order)."""
  return getattr(task, "_shuffle_buffer_size", None) is not None


def export_shuffle_buffer(task: seqio.Task, rows: int) -> int | None:
  """The shuffle buffer for rendering `rows` rows of `task`: its own, at most max(64, 4 x rows)."""
  own = getattr(task, "_shuffle_buffer_size", None)
  return None if own is None else min(int(own), max(_MIN_SHUFFLE_BUFFER, 4 * rows))


def sample_seed(cfg: ExportConfig) -> int:
  """The seed of a mixture's task draws for this config's shard (export and premix)."""
  digest = hashlib.sha256(f"{cfg.seed}/{cfg.shard_index}/{cfg.num_shards}".encode()).digest()
  return int.from_bytes(digest[:7], "little")


def task_draws(rates: Sequence[float], count: int, seed: int) -> Iterator[np.ndarray]:
  """Each row's task index, drawn i.i.d. with probability proportional to `rates`.

  Yields chunks; a pure function of (rates, count, seed), so it can be replayed.
  """
  cdf = np.cumsum(np.asarray(rates, np.float64))
  cdf /= cdf[-1]
  rng = np.random.Generator(np.random.PCG64(seed))
  for start in range(0, count, _DRAW_CHUNK):
    uniforms = rng.random(min(_DRAW_CHUNK, count - start))
    yield np.minimum(np.searchsorted(cdf, uniforms, side="right"), len(cdf) - 1)


# (task, element_spec) -> a function from one numpy example to its spilled line.
RowEncoder = Callable[[seqio.Task, Mapping[str, Any]], Callable[[dict], bytes]]


@dataclasses.dataclass(frozen=True)
class Plan:
  """The validated export: the tasks, their rates (mixtures only) and the row count."""
  tasks: list[seqio.Task]
  rates: list[float] | None
  count: int | None


def plan_rows(provider: seqio.Task | seqio.Mixture, cfg: ExportConfig) -> Plan:
  """Checks the config against the task or mixture before anything is built or written."""
  if cfg.num_examples is not None and cfg.num_examples < 0:
    raise errors.ConfigError(f"--num-examples must be >= 0, got {cfg.num_examples}.")
  count = (shard_size(cfg.num_examples, cfg.shard_index, cfg.num_shards)
           if cfg.num_examples is not None else None)
  if isinstance(provider, seqio.Task):
    _check_split(provider, cfg.split)
    return Plan([provider], None, count)
  if count is None:
    raise errors.ConfigError(
        f"{provider.name!r} is a mixture: pass --num-examples (a mixture never ends).")
  task_rates = rates_lib.task_rates(provider)  # One pass, not seqio's get_rate per task.
  pairs = [(t, task_rates.get(t.name, 0.0)) for t in provider.tasks if cfg.split in t.splits]
  pairs = [(t, r) for t, r in pairs if r > 0]
  if not pairs:
    raise errors.ConfigError(f"No task of {provider.name!r} has a {cfg.split!r} split.")
  return Plan([t for t, _ in pairs], [r for _, r in pairs], count)


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


def _encode_line(row: dict) -> bytes:
  return (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")


def _task_lines(task: seqio.Task, cfg: ExportConfig, count: int | None) -> Iterator[list[bytes]]:
  """Batches of JSON lines of one task's stream, `count` rows (None: one epoch)."""
  ds = task_rows(task, 0, cfg, repeat=count is not None)
  if count is not None:
    ds = ds.take(count)
  for rows in _decode_batches(ds.batch(_BATCH).prefetch(2), [task.name]):
    yield [_encode_line(r) for r in rows]


def _task_chunks(plan: Plan, cfg: ExportConfig, bar: Any) -> Iterator[tuple[bytes, int]]:
  """A single task's rows streamed straight to the output."""
  for lines in _task_lines(plan.tasks[0], cfg, plan.count):
    bar.update(len(lines))
    yield b"".join(lines), len(lines)


def drawn_tasks(plan_rates: Sequence[float], count: int, seed: int) -> np.ndarray:
  """Every output row's task index (the concatenated `task_draws`)."""
  chunks = [c.astype(np.int32) for c in task_draws(plan_rates, count, seed)]
  return np.concatenate(chunks) if chunks else np.zeros(0, np.int32)


def _row_decoder(task: seqio.Task, element_spec: Mapping[str, Any]):
  """Maps one numpy example of `task` to its JSON line, in Python: for the few rows a mixture
  draws from most tasks this is cheaper than tracing a tf.data map per task."""
  fmt = _default_format(task.name)

  def text(ex, key):
    if f"{key}_pretokenized" in element_spec:
      return ex[f"{key}_pretokenized"].decode("utf-8")
    return task.output_features[key].vocabulary.decode(ex[key].tolist())

  def decode(ex) -> bytes:
    return _encode_line({
        "inputs": text(ex, "inputs"), "targets": text(ex, "targets"), "task": task.name,
        "template": ex["template"].decode("utf-8") if "template" in element_spec else "",
        "format": ex["prompt_format"].decode("utf-8") if "prompt_format" in element_spec
                  else fmt})

  return decode


def _spill_task_rows(task: seqio.Task, cfg: ExportConfig, positions: np.ndarray,
                     out: spill_lib.PositionSpill, bar: Any, encoder: RowEncoder) -> None:
  """Renders len(positions) rows of `task` and spills row j at output position positions[j]."""
  shard = seqio.ShardInfo(cfg.shard_index, cfg.num_shards) if cfg.num_shards > 1 else None
  ds = task.get_dataset(sequence_length=None, split=cfg.split, shuffle=_shuffles(task),
                        seed=cfg.seed,
                        shard_info=shard, num_epochs=None, trim_output_features=False,
                        shuffle_buffer_size=export_shuffle_buffer(task, len(positions)))
  decode = encoder(task, ds.element_spec)
  written, lines = 0, []
  for ex in ds.take(len(positions)).as_numpy_iterator():
    lines.append(decode(ex))
    if len(lines) == _BATCH:
      out.add(positions[written:written + len(lines)].tolist(), lines)
      written += len(lines)
      bar.update(len(lines))
      lines = []
  out.add(positions[written:written + len(lines)].tolist(), lines)
  written += len(lines)
  bar.update(len(lines))
  if written < len(positions):
    raise errors.ConfigError(
        f"Task {task.name!r} yielded {written} of {len(positions)} rows from its "
        f"{cfg.split!r} split (is the split empty?).")


def render_task_rows(task: seqio.Task, cfg: ExportConfig, positions: np.ndarray, out: Any,
                     encoder: RowEncoder) -> None:
  """The rows `mixture_chunks` renders for `task` at `positions`, handed to
  `out.add(positions, lines)` (a distributed build renders each task on its own worker)."""
  _spill_task_rows(task, cfg, positions, out, _NoBar(), encoder)


def task_positions(plan: Plan, cfg: ExportConfig) -> Iterator[tuple[int, np.ndarray]]:
  """(task index, its output positions, ascending) for every drawn task, in the order
  `mixture_chunks` renders them (by first drawn position)."""
  ids = drawn_tasks(plan.rates, plan.count, sample_seed(cfg))
  order = np.argsort(ids, kind="stable").astype(np.int32)
  counts = np.bincount(ids, minlength=len(plan.tasks))
  ends = np.cumsum(counts)
  starts = ends - counts
  drawn = sorted((i for i in range(len(plan.tasks)) if counts[i]), key=lambda i: order[starts[i]])
  for i in drawn:
    yield i, order[starts[i]:ends[i]]


def mixture_chunks(plan: Plan, cfg: ExportConfig, spill_dir: str, bar: Any,
                   encoder: RowEncoder | None = None) -> Iterator[tuple[bytes, int]]:
  """Draws every row's task, renders the drawn tasks one pipeline at a time into a
  position-keyed spill, and yields the rows in drawn order as soon as they are complete.

  `encoder(task, element_spec)` gives the function that turns one numpy example of `task`
  into its line (one line ending in a newline); default: the export's JSON line.

  Tasks are rendered in the order of their first drawn row, so once the tasks of the first
  k rows are done those rows are written (the first, small buckets after a handful of
  tasks), while the remaining tasks are still being built.
  """
  drawn = list(task_positions(plan, cfg))  # Views of one int32 array: 4 bytes a row.
  out = spill_lib.PositionSpill(spill_dir, plan.count, _BUCKET_ROWS, _SPILL_BUFFER_BYTES,
                                first_bucket_rows=_FIRST_BUCKET_ROWS)
  collector = _GraphCollector()
  for k, (i, positions) in enumerate(drawn):
    _spill_task_rows(plan.tasks[i], cfg, positions, out, bar, encoder or _row_decoder)
    collector.maybe_collect()
    # Every row before the next task's first draw now has its line.
    complete_below = int(drawn[k + 1][1][0]) if k + 1 < len(drawn) else plan.count
    yield from out.ready_chunks(complete_below)
  yield from out.ordered_chunks()


def _resident_bytes() -> int | None:
  """Current resident memory (Linux /proc), or None where it cannot be read."""
  try:
    with open("/proc/self/statm", encoding="ascii") as f:
      return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
  except (OSError, ValueError, IndexError):
    return None


class _GraphCollector:
  """Frees finished task pipelines (their tf.data graphs sit in reference cycles) when
  resident memory has grown by `_COLLECT_GROWTH_BYTES` since the last collection, or every
  `_COLLECT_EVERY` tasks where memory cannot be read: a full gc.collect() costs ~1 s with
  TensorFlow loaded, more than building a small task's pipeline."""

  def __init__(self):
    self._tasks = 0
    self._level = _resident_bytes()

  def maybe_collect(self) -> None:
    self._tasks += 1
    now = _resident_bytes()
    grown = (now - self._level > _COLLECT_GROWTH_BYTES if now is not None and
             self._level is not None else self._tasks % _COLLECT_EVERY == 0)
    if grown:
      gc.collect()
      self._level = _resident_bytes()


def _chunks(plan: Plan, cfg: ExportConfig, spill_dir: str,
            bar: Any) -> Iterator[tuple[bytes, int]]:
  if plan.rates is None:
    return _task_chunks(plan, cfg, bar)
  return mixture_chunks(plan, cfg, spill_dir, bar)


def _spill_dir(out: str | None) -> tempfile.TemporaryDirectory:
  where = os.path.dirname(os.path.abspath(out)) if out else None
  return tempfile.TemporaryDirectory(prefix=".export-spill-", dir=where)


def iter_rows(provider: seqio.Task | seqio.Mixture, cfg: ExportConfig) -> Iterator[dict]:
  """Rows as dicts with ROW_KEYS, in export order."""
  plan = plan_rows(provider, cfg)
  with _spill_dir(None) as spill_dir:
    for chunk, _ in _chunks(plan, cfg, spill_dir, _NoBar()):
      yield from (json.loads(line) for line in chunk.splitlines())


class _NoBar:
  def update(self, n: int) -> None:
    del n


@contextlib.contextmanager
def _open_out(path: str, overwrite: bool) -> Iterator[io.BufferedIOBase]:
  """The output, written to a temporary file renamed over `path` only when complete; an
  existing `path` is refused unless `overwrite`, and nothing is left behind on failure."""
  from flan_jax import output_files  # pylint: disable=g-import-not-at-top
  with output_files.atomic_output(path, "wb", overwrite) as raw:
    if not path.endswith(".gz"):
      yield raw
      return
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:  # Same bytes
      yield out                                                              # every run.


def export(cfg: ExportConfig, progress: bool = True) -> int:
  """Writes the rows to cfg.out (.jsonl or .jsonl.gz) atomically; returns the row count."""
  from tqdm import tqdm  # pylint: disable=g-import-not-at-top
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  plan = plan_rows(catalog.get_mixture_or_task(cfg.name), cfg)  # Validates before writing.
  written = 0
  with _spill_dir(cfg.out) as spill_dir, \
      tqdm(total=plan.count, unit="rows", disable=not progress, file=sys.stderr,
           mininterval=1.0, desc=cfg.name) as bar, \
      _open_out(cfg.out, cfg.overwrite) as out:
    for chunk, rows in _chunks(plan, cfg, spill_dir, bar):
      out.write(chunk)
      written += rows
  return written
