"""The reader's cut to the feature lengths (EOS kept as the per-task path keeps it) and its
refusal of a folder without a manifest."""

import pytest
import tensorflow as tf

from flan_jax import errors
from flan_jax.premix import manifest as manifest_lib, reader


def _cut(tokens, length, add_eos):
  features = {name: {"vocabulary": {"eos_id": 1}, "add_eos": add_eos}
              for name in ("inputs", "targets")}
  trim = reader._trimmer({"inputs": length, "targets": length}, features)  # pylint: disable=protected-access
  row = {"inputs": tf.constant(tokens, tf.int32), "targets": tf.constant(tokens, tf.int32)}
  return trim(row)["inputs"].numpy().tolist()


def test_long_rows_are_cut_and_end_with_eos_where_the_feature_adds_one():
  assert _cut([5, 6, 7, 8, 1], 3, add_eos=True) == [5, 6, 1]
  assert _cut([5, 6, 7, 8, 1], 3, add_eos=False) == [5, 6, 7]
  assert _cut([5, 6, 1], 3, add_eos=True) == [5, 6, 1]  # Fits: unchanged.
  assert _cut([5, 1], 3, add_eos=True) == [5, 1]


def test_a_folder_without_manifest_is_refused_with_the_build_command(tmp_path):
  (tmp_path / "rows-00000-of-00001.tfrecord").write_bytes(b"")
  with pytest.raises(errors.ConfigError, match="has no manifest.json.*flan-jax premix"):
    manifest_lib.read(str(tmp_path))
