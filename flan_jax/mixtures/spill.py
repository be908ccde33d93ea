"""Rows produced in any order, read back in output-position order, with bounded memory and
at most one open file whatever the number of producers.

The export renders a mixture task by task, but writes rows in the drawn (interleaved)
order. Each row is spilled with its position into the gzip file of its bucket (a range of
positions); writes are buffered and appended one file at a time. A bucket is read back,
put in order and yielded as soon as the caller says every position below its end has been
added (`ready_chunks`), so the output starts while later tasks are still being rendered.
Buckets start small and double up to `bucket_rows` (e.g. 32, 64, ..., 65,536): the first
rows are ready after the few tasks they were drawn from, and at most one large bucket is
in memory at a time.
"""

from __future__ import annotations

import gzip
import os
from typing import Iterator, Sequence

import numpy as np


def bucket_starts(total_rows: int, first_rows: int, largest_rows: int) -> list[int]:
  """Start positions of the buckets: sizes first_rows, 2 x first_rows, ... up to largest_rows."""
  starts, size = [0], max(1, min(first_rows, largest_rows))
  while starts[-1] + size < total_rows:
    starts.append(starts[-1] + size)
    size = min(2 * size, largest_rows)
  return starts


class PositionSpill:
  """Spill of `total_rows` lines keyed by position 0..total_rows-1 (each exactly once)."""

  def __init__(self, directory: str, total_rows: int, bucket_rows: int, buffer_bytes: int,
               first_bucket_rows: int | None = None):
    self._dir = directory
    self._total = int(total_rows)
    self._starts = bucket_starts(self._total, first_bucket_rows or bucket_rows, bucket_rows)
    self._starts_array = np.asarray(self._starts, np.int64)
    self._buffer_bytes = int(buffer_bytes)
    self._buffers: dict[int, list[bytes]] = {}
    self._buffered = 0
    self._next_bucket = 0  # The first bucket not yet yielded.

  @property
  def num_buckets(self) -> int:
    return len(self._starts) if self._total else 0

  def _end(self, bucket: int) -> int:
    return self._starts[bucket + 1] if bucket + 1 < len(self._starts) else self._total

  def _path(self, bucket: int) -> str:
    return os.path.join(self._dir, f"bucket-{bucket:06d}.gz")

  def add(self, positions: Sequence[int], lines: Sequence[bytes]) -> None:
    """Spills `lines[j]` (ending in a newline) for output position `positions[j]`."""
    if not len(positions):
      return
    buckets = np.searchsorted(self._starts_array, np.asarray(positions), side="right") - 1
    for position, bucket, line in zip(positions, buckets.tolist(), lines):
      if bucket < self._next_bucket:
        raise RuntimeError(f"Position {position} arrived after its bucket was written.")
      record = b"%d\t%s" % (position, line)
      self._buffers.setdefault(bucket, []).append(record)
      self._buffered += len(record)
    if self._buffered >= self._buffer_bytes:
      self.flush()

  def flush(self) -> None:
    """Appends every buffered record to its bucket file, one file open at a time."""
    for bucket in sorted(self._buffers):
      with gzip.GzipFile(self._path(bucket), "ab", compresslevel=1, mtime=0) as f:
        f.write(b"".join(self._buffers[bucket]))
    self._buffers.clear()
    self._buffered = 0

  def ready_chunks(self, complete_below: int) -> Iterator[tuple[bytes, int]]:
    """(lines, row count) of each bucket not yet yielded that ends at or below
    `complete_below` (every position below it has been added), in position order."""
    while (self._next_bucket < self.num_buckets and
           self._end(self._next_bucket) <= complete_below):
      yield self._read_bucket(self._next_bucket)
      self._next_bucket += 1

  def ordered_chunks(self) -> Iterator[tuple[bytes, int]]:
    """Every bucket not yet yielded, in position order (all positions must be added)."""
    yield from self.ready_chunks(self._total)

  def _read_bucket(self, bucket: int) -> tuple[bytes, int]:
    """The bucket's lines in position order, from its file and its buffer; the file is deleted."""
    start = self._starts[bucket]
    slots: list[bytes | None] = [None] * (self._end(bucket) - start)
    records = []
    path = self._path(bucket)
    if os.path.exists(path):
      with gzip.open(path, "rb") as f:
        records.extend(f)
      os.remove(path)
    buffered = self._buffers.pop(bucket, [])
    self._buffered -= sum(len(r) for r in buffered)
    for record in records + buffered:
      position, line = record.split(b"\t", 1)
      slots[int(position) - start] = line
    missing = [start + i for i, line in enumerate(slots) if line is None]
    if missing:
      raise RuntimeError(f"Spill bucket {bucket} lacks positions {missing[:5]} (of "
                         f"{len(missing)}): a producer wrote fewer rows than drawn.")
    return b"".join(slots), len(slots)
