"""MODEL_DIR's layout and run record (flan_jax/runtime/model_dir.py), on hand-made folders."""

import json

import pytest

from flan_jax import errors
from flan_jax.runtime import model_dir


def test_run_record_round_trips_as_plain_json(tmp_path):
  record = {"model_family": "T5Config", "model_config": {"emb_dim": 8},
            "train_config": {"vocabulary": "/v/spm.model"},
            "optimizer_config": {"name": "adamw"}}
  model_dir.write_run_record(str(tmp_path), record)
  assert json.loads((tmp_path / "run.json").read_text()) == record
  assert not list(tmp_path.glob("*.tmp"))
  assert model_dir.read_run_record(str(tmp_path)) == record
  assert model_dir.saved_vocabulary(str(tmp_path)) == "/v/spm.model"
  assert model_dir.saved_optimizer_name(str(tmp_path)) == "adamw"
  assert model_dir.model_config_of(record) == ("T5Config", {"emb_dim": 8})


def test_a_folder_without_a_run_record_is_named_in_the_error(tmp_path):
  assert model_dir.read_run_record(str(tmp_path)) is None
  assert model_dir.saved_optimizer_name(str(tmp_path)) is None
  assert model_dir.saved_vocabulary(str(tmp_path)) is None
  with pytest.raises(errors.FlanJaxError, match="has no run.json.*flan-jax train"):
    model_dir.require_run_record(str(tmp_path))


def test_an_unreadable_run_record_gives_no_optimizer_name(tmp_path):
  (tmp_path / "run.json").write_text("{not json")
  assert model_dir.saved_optimizer_name(str(tmp_path)) is None


def test_model_dir_needs_a_run_record_and_checkpoints(tmp_path):
  assert not model_dir.is_model_dir(str(tmp_path))
  (tmp_path / "run.json").write_text("{}")
  assert not model_dir.is_model_dir(str(tmp_path))
  (tmp_path / "checkpoints").mkdir()
  assert model_dir.is_model_dir(str(tmp_path))


def test_checkpoint_steps_are_the_numeric_folders_in_order(tmp_path):
  for name in ("200", "10", "3.orbax-checkpoint-tmp-1", "notes"):
    (tmp_path / "checkpoints" / name).mkdir(parents=True)
  assert model_dir.checkpoint_steps(str(tmp_path)) == [10, 200]


def test_no_checkpoint_is_reported_with_the_folder(tmp_path):
  (tmp_path / "checkpoints").mkdir()
  with pytest.raises(errors.FlanJaxError, match="checkpoints.*holds no complete checkpoint"):
    model_dir.restore_numpy_params(str(tmp_path))
