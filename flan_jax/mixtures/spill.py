"""Rows produced in any order, read back in output-position order, with bounded memory and
at most one open file whatever the number of producers.

The export renders a mixture task by task, but writes rows in the drawn (interleaved)
order. Each row is spilled with its position into the gzip file of its bucket (a fixed
range of positions); writes are buffered and appended one file at a time. Reading back
loads one bucket, puts its rows in place and yields them.
"""

from __future__ import annotations

import gzip
import os
from typing import Iterator, Sequence


class PositionSpill:
  """Spill of `total_rows` lines keyed by position 0..total_rows-1 (each exactly once)."""

  def __init__(self, directory: str, total_rows: int, bucket_rows: int, buffer_bytes: int):
    self._dir = directory
    self._total = int(total_rows)
    self._bucket_rows = int(bucket_rows)
    self._buffer_bytes = int(buffer_bytes)
    self._buffers: dict[int, list[bytes]] = {}
    self._buffered = 0

  @property
  def num_buckets(self) -> int:
    return -(-self._total // self._bucket_rows)

  def _path(self, bucket: int) -> str:
    return os.path.join(self._dir, f"bucket-{bucket:06d}.gz")

  def add(self, positions: Sequence[int], lines: Sequence[bytes]) -> None:
    """Spills `lines[j]` (ending in a newline) for output position `positions[j]`."""
    for position, line in zip(positions, lines):
      record = b"%d\t%s" % (position, line)
      self._buffers.setdefault(position // self._bucket_rows, []).append(record)
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

  def ordered_chunks(self) -> Iterator[tuple[bytes, int]]:
    """(lines, row count) per bucket, in position order; each bucket file is then deleted."""
    self.flush()
    for bucket in range(self.num_buckets):
      start = bucket * self._bucket_rows
      slots: list[bytes | None] = [None] * min(self._bucket_rows, self._total - start)
      path = self._path(bucket)
      if os.path.exists(path):
        with gzip.open(path, "rb") as f:
          for record in f:
            position, line = record.split(b"\t", 1)
            slots[int(position) - start] = line
        os.remove(path)
      missing = [start + i for i, line in enumerate(slots) if line is None]
      if missing:
        raise RuntimeError(f"Spill bucket {bucket} lacks positions {missing[:5]} (of "
                           f"{len(missing)}): a producer wrote fewer rows than drawn.")
      yield b"".join(slots), len(slots)
