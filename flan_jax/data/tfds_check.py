"""Up-front checks that the TFDS datasets a catalog needs are prepared.

Without this, a missing dataset fails deep inside tf.data with a KeyError; here it fails
before any reading, naming the dataset and the `tfds build` command that prepares it.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable

import seqio

from flan_jax import errors


class DatasetNotPreparedError(errors.FlanJaxError):
  """A TFDS dataset a task reads has not been downloaded and prepared."""


@dataclasses.dataclass(frozen=True)
class PreparedStatus:
  """Whether one TFDS dataset (name[:version]) is prepared under data_dir."""
  dataset: str
  data_dir: str | None
  prepared: bool
  tasks: tuple[str, ...]
  detail: str = ""

  def build_command(self) -> str:
    name = self.dataset
    cmd = f"tfds build {name.split(':')[0]}"
    if ":" in name:
      cmd += f" --version={name.split(':')[1]}"
    if self.data_dir:
      cmd += f" --data_dir={self.data_dir}"
    return cmd

  def describe(self) -> str:
    state = "prepared" if self.prepared else f"NOT PREPARED  (run: {self.build_command()})"
    extra = f"  [{self.detail}]" if self.detail else ""
    return f"{self.dataset}\t{state}\t{len(self.tasks)} task(s){extra}"


def is_prepared(dataset: str, data_dir: str | None = None) -> tuple[bool, str]:
  """(prepared?, detail) for a TFDS name like 'super_glue/rte:1.0.2'; never reads records."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  try:
    builder = tfds.builder(dataset, data_dir=data_dir)
  except Exception as e:  # pylint: disable=broad-except  # unknown name or version.
    return False, f"{type(e).__name__}: {str(e).splitlines()[0]}"
  if builder.is_prepared():
    return True, builder.data_dir
  return False, f"nothing prepared at {builder.data_dir}"


def require_prepared(dataset: str, data_dir: str | None = None) -> None:
  """Raises DatasetNotPreparedError naming the dataset and the command to prepare it."""
  ok, detail = is_prepared(dataset, data_dir)
  if not ok:
    status = PreparedStatus(dataset, data_dir, False, ())
    where = data_dir or "the default TFDS data dir"
    raise DatasetNotPreparedError(
        f"TFDS dataset {dataset!r} is not prepared (looked in {where}; {detail}). Prepare it "
        f"with `{status.build_command()}` or point --data_dir / TFDS_DATA_DIR at a copy.")


def _tfds_sources(task_names: Iterable[str]) -> dict[tuple[str, str | None], list[str]]:
  found: dict[tuple[str, str | None], list[str]] = {}
  for name in task_names:
    source = seqio.TaskRegistry.get(name).source
    if isinstance(source, seqio.TfdsDataSource):
      loader = source.tfds_dataset
      found.setdefault((loader.name, loader.data_dir), []).append(name)
  return found


def prepared_report(task_names: Iterable[str] | None = None,
                    data_dir: str | None = None) -> list[PreparedStatus]:
  """One row per TFDS dataset read by the given (default: all registered) tasks."""
  names = seqio.TaskRegistry.names() if task_names is None else task_names
  rows = []
  for (dataset, source_dir), tasks in sorted(_tfds_sources(names).items(),
                                              key=lambda kv: kv[0][0]):
    directory = data_dir or source_dir
    ok, detail = is_prepared(dataset, directory)
    rows.append(PreparedStatus(dataset, directory, ok, tuple(sorted(tasks)),
                               "" if ok else detail))
  return rows


class CheckedTfdsDataSource(seqio.TfdsDataSource):
  """A seqio.TfdsDataSource that checks, before reading, that its dataset is prepared.

  check_prepared=False skips the check (e.g. under tfds.testing.mock_data).
  """

  def __init__(self, *args, check_prepared: bool = True, **kwargs):
    super().__init__(*args, **kwargs)
    self._checked = not check_prepared

  def get_dataset(self, *args, **kwargs):
    if not self._checked:
      loader = self.tfds_dataset
      require_prepared(loader.name, loader.data_dir)
      self._checked = True
    return super().get_dataset(*args, **kwargs)
