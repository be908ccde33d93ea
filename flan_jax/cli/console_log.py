"""Log lines on the console that never glue onto a progress bar.

Records are written with `tqdm.write`, which lifts a live bar off the line, prints the
record on a line of its own and redraws the bar below; with no bar it is a plain write.
`sys.stderr` is looked up per record, so a redirected or captured stderr gets the lines.
"""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(message)s"


class ProgressAwareHandler(logging.Handler):
  """Writes each record to the current sys.stderr through tqdm.write."""

  def emit(self, record: logging.LogRecord) -> None:
    try:
      import tqdm  # pylint: disable=g-import-not-at-top
      tqdm.tqdm.write(self.format(record), file=sys.stderr)
    except Exception:  # pylint: disable=broad-except  # As logging.StreamHandler does.
      self.handleError(record)


def install(level: int = logging.INFO) -> ProgressAwareHandler:
  """Makes the root logger print to the console through one ProgressAwareHandler.

  Replaces console stream handlers (basicConfig's) and an earlier ProgressAwareHandler,
  so calling it again (several commands in one process, tests) never doubles a line.
  """
  root = logging.getLogger()
  for old in list(root.handlers):
    if isinstance(old, ProgressAwareHandler) or (
        type(old) is logging.StreamHandler and old.stream in (sys.stderr, sys.__stderr__)):
      root.removeHandler(old)
  handler = ProgressAwareHandler()
  handler.setFormatter(logging.Formatter(FORMAT))
  root.addHandler(handler)
  root.setLevel(level)
  return handler


def quiet_library_warnings() -> None:
  """Hides the libraries' advice to developers (SeqIO's `WARNING:absl:` lines about sequence
  lengths and loggers) on `eval` and `infer`; our own warnings still show. `flan-jax
  --verbose` keeps them."""
  if "--verbose" not in sys.argv:
    logging.getLogger("absl").setLevel(logging.ERROR)
