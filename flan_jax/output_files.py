"""Output files the CLI writes (`infer --out`, `export --out`): never half-written, never
silently replacing what the user had.

The data goes to a hidden temporary file in the same folder, renamed over the target only
when complete (a rename within one folder is atomic); on any failure the temporary file
is removed and an existing output is left exactly as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import IO, Iterator

from flan_jax import errors


def check_output_path(path: str, overwrite: bool = False) -> None:
  """Refuses a folder, and an existing file unless `overwrite`; call it before any work."""
  if os.path.isdir(path):
    raise errors.ConfigError(
        f"--out {path!r} is a folder; give a file path inside it, e.g. "
        f"{os.path.join(path, 'output.jsonl')!r}.")
  if os.path.lexists(path) and not overwrite:
    raise errors.ConfigError(
        f"--out {path!r} already exists; pass --overwrite to replace it (it is replaced only "
        "once the new file is complete), or choose another path.")
  parent = os.path.dirname(os.path.abspath(path))
  existing = parent
  while not os.path.exists(existing):
    existing = os.path.dirname(existing)
  if not os.path.isdir(existing):
    raise errors.ConfigError(f"--out {path!r}: {existing!r} is a file, not a folder.")


@contextlib.contextmanager
def atomic_output(path: str, mode: str = "w", overwrite: bool = False,
                  **open_kwargs) -> Iterator[IO]:
  """Yields a file to write; it becomes `path` only if the block finishes without error."""
  check_output_path(path, overwrite)
  folder = os.path.dirname(os.path.abspath(path))
  os.makedirs(folder, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.",
                             suffix=".partial")
  try:
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would differ from a plain open().
    with os.fdopen(fd, mode, **open_kwargs) as f:
      yield f
    check_output_path(path, overwrite)  # Still free (another process may have written it).
    os.replace(tmp, path)
  except BaseException:
    with contextlib.suppress(FileNotFoundError):
      os.unlink(tmp)
    raise
