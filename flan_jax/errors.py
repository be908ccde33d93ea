"""Errors flan_jax raises for bad input: each names the thing at fault and how to fix it."""

from __future__ import annotations

import difflib
from typing import Iterable


class FlanJaxError(Exception):
  """Base class for user-facing errors (the CLI prints these without a traceback)."""


class ConfigError(FlanJaxError, ValueError):
  """A configuration value is invalid (mesh, batch size, feature lengths, ...)."""


class UnknownNameError(FlanJaxError, KeyError):
  """A task, mixture, optimizer or other registered name does not exist."""

  def __str__(self) -> str:  # KeyError would repr() the message.
    return str(self.args[0]) if self.args else ""


class CheckpointMismatchError(FlanJaxError):
  """A checkpoint in MODEL_DIR does not fit the configured model."""


def unknown_name(kind: str, name: str, known: Iterable[str], hint: str = "") -> UnknownNameError:
  """Builds an UnknownNameError that lists the closest known names."""
  known = sorted(set(known))
  close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
  if not close:
    close = [k for k in known if name.lower() in k.lower()][:5]
  msg = f"Unknown {kind} {name!r}."
  if close:
    msg += " Did you mean: " + ", ".join(close) + "?"
  if hint:
    msg += " " + hint
  return UnknownNameError(msg)


# tf.data runs Python code (a JSON-lines reader, a record check) inside its own threads and
# may hand the caller a TensorFlow error that lost the message (`[[{{node PyFunc}}]]`). Such
# code notes its error here first, so the command can still print it.
_NOTED_IN_PIPELINE: list[FlanJaxError] = []


def noted_in_pipeline(error: FlanJaxError) -> FlanJaxError:
  """Remembers `error`, about to be raised inside a tf.data pipeline; returns it."""
  _NOTED_IN_PIPELINE[:] = [error]
  return error


def take_pipeline_error() -> FlanJaxError | None:
  """The last error noted inside a tf.data pipeline (then forgotten), or None."""
  return _NOTED_IN_PIPELINE.pop() if _NOTED_IN_PIPELINE else None
