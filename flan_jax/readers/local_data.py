"""Where a collection's local data lives: `FLAN_JAX_<KEY>_DIR` folders, checked before reading.

A missing variable, folder or file raises LocalDataMissingError naming the variable, the path
looked at and the exact steps to get the data, instead of failing inside tf.data.
"""

from __future__ import annotations

import os

from flan_jax import errors


class LocalDataMissingError(errors.FlanJaxError, FileNotFoundError):
  """A dataset read from a local folder is not there; the message says how to get it."""

  def __str__(self) -> str:  # OSError would format (errno, strerror).
    return str(self.args[0]) if self.args else ""


def env_var(key: str) -> str:
  """The environment variable naming the folder of local data `key` (e.g. NIV2)."""
  return f"FLAN_JAX_{key.upper()}_DIR"


def data_dir(key: str, *, dataset: str, how_to_get: str) -> str:
  """The folder `FLAN_JAX_<KEY>_DIR` points to; LocalDataMissingError if unset or absent."""
  var = env_var(key)
  path = os.environ.get(var, "")
  if not path:
    raise LocalDataMissingError(
        f"{dataset}: environment variable {var} is not set; it must name the folder holding "
        f"the data. To get it: {how_to_get}")
  if not os.path.isdir(path):
    raise LocalDataMissingError(
        f"{dataset}: {var}={path!r} is not a folder. To get the data: {how_to_get}")
  return path


def require_file(path: str, *, dataset: str, key: str, how_to_get: str) -> str:
  """`path` if it exists, else LocalDataMissingError naming it and `FLAN_JAX_<KEY>_DIR`."""
  if not os.path.exists(path):
    raise LocalDataMissingError(
        f"{dataset}: {path!r} does not exist (under {env_var(key)}). To get it: {how_to_get}")
  return path
