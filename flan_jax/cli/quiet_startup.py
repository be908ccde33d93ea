"""Keeps native start-up chatter off a CPU user's console (`flan-jax --verbose` brings it back).

TensorFlow's and XLA's C++ libraries print lines such as `cudart_stub.cc: Could not find cuda
drivers` or `oneDNN custom operations are on` straight to file descriptor 2 while they load,
before any Python logging setting applies. We hide exactly that: stderr is pointed at /dev/null
only while `tensorflow` itself is being imported, and restored before anything else runs, so
every error of ours (and any exception from the import) still shows.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import sys

_QUIET_MODULES = ("tensorflow",)


@contextlib.contextmanager
def stderr_silenced():
  """Points file descriptor 2 at /dev/null for the duration (C-level writes included)."""
  sys.stderr.flush()
  saved = os.dup(2)
  devnull = os.open(os.devnull, os.O_WRONLY)
  try:
    os.dup2(devnull, 2)
    yield
  finally:
    sys.stderr.flush()
    os.dup2(saved, 2)
    os.close(saved)
    os.close(devnull)


class _QuietLoader(importlib.abc.Loader):
  """Wraps a module's loader so that executing the module happens with stderr silenced."""

  def __init__(self, loader):
    self._loader = loader

  def create_module(self, spec):
    return self._loader.create_module(spec)

  def exec_module(self, module):
    with stderr_silenced():
      self._loader.exec_module(module)


class _QuietFinder(importlib.abc.MetaPathFinder):
  """Finds the modules in _QUIET_MODULES as usual, then loads them quietly."""

  def find_spec(self, fullname, path=None, target=None):
    if fullname not in _QUIET_MODULES:
      return None
    sys.meta_path.remove(self)
    try:
      spec = importlib.util.find_spec(fullname)
    finally:
      sys.meta_path.insert(0, self)
    if spec is not None and spec.loader is not None:
      spec.loader = _QuietLoader(spec.loader)
    return spec


def install(verbose: bool = False) -> None:
  """Quiet mode (the default): native log levels down, TensorFlow's import silenced."""
  if verbose:
    return
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
  if "tensorflow" not in sys.modules and not any(
      isinstance(f, _QuietFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, _QuietFinder())
