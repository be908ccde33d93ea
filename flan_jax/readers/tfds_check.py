"""A TFDS data source that checks, before reading, that its dataset is prepared.

Without this, a missing dataset fails deep inside tf.data with a KeyError; here it fails
before any reading, naming the dataset and the `tfds build` command that prepares it. The
check is `preflight.tfds_prepared` (the dataset_info.json of that builder/config/version),
the same one `flan-jax tasks preflight` and training use.
"""

from __future__ import annotations

import seqio

from flan_jax import errors
from flan_jax.catalog import preflight


class DatasetNotPreparedError(errors.FlanJaxError):
  """A TFDS dataset a task reads has not been downloaded and prepared."""


def build_command(dataset: str, data_dir: str) -> str:
  """The command that prepares a TFDS dataset named 'builder[/config][:version]'."""
  return f"tfds build {dataset} --data_dir={data_dir}"


def require_prepared(dataset: str, data_dir: str | None = None) -> None:
  """Raises DatasetNotPreparedError naming the dataset and the command to prepare it."""
  directory = preflight.tfds_data_dir(data_dir)
  ok, folder = preflight.tfds_prepared(dataset, directory)
  if not ok:
    raise DatasetNotPreparedError(
        f"TFDS dataset {dataset!r} is not prepared (no dataset_info.json in {folder}). Prepare "
        f"it with `{build_command(dataset, directory)}` (after `{preflight.TFDS_INSTALL}`; "
        "`flan-jax tasks preflight` names any manual download) or point --data_dir / "
        "TFDS_DATA_DIR at a copy.")


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
