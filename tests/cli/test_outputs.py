"""`infer --out` and `export --out`: an output appears whole or not at all, an existing
file is replaced only with --overwrite, and a folder is a clear error."""

import os

import jax
import numpy as np
import pytest
from jax.sharding import Mesh

from flan_jax import errors
from flan_jax.cli import main as cli
from flan_jax import output_files
from flan_jax.evaluation import infer
from flan_jax.mixtures import export

TASK = "toy.category:zs_opt"
OLD = '{"prediction": "earlier"}\n' * 3


def _export_argv(out, *extra):
  return ["export", TASK, "--split=validation", "--num-examples=3", "--no-progress",
          f"--out={out}", *extra]


def test_export_refuses_an_existing_file_without_overwrite(tmp_path, capsys):
  out = tmp_path / "rows.jsonl"
  out.write_text(OLD)
  assert cli.main(_export_argv(out)) == 2
  assert "already exists; pass --overwrite" in capsys.readouterr().err
  assert out.read_text() == OLD
  assert cli.main(_export_argv(out, "--overwrite")) == 0
  assert len(out.read_text().splitlines()) == 3
  assert os.listdir(tmp_path) == ["rows.jsonl"]


def test_export_to_a_folder_is_a_clear_error(tmp_path, capsys):
  assert cli.main(_export_argv(tmp_path)) == 2
  assert "is a folder; give a file path inside it" in capsys.readouterr().err
  assert os.listdir(tmp_path) == []


def test_failed_export_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
  out = tmp_path / "rows.jsonl.gz"
  out.write_text(OLD)
  chunks = export._chunks  # pylint: disable=protected-access

  def failing(*args, **kwargs):
    yield next(chunks(*args, **kwargs))
    raise RuntimeError("disk full")

  monkeypatch.setattr(export, "_chunks", failing)
  with pytest.raises(RuntimeError, match="disk full"):
    cli.main(_export_argv(out, "--overwrite"))
  assert out.read_text() == OLD
  assert os.listdir(tmp_path) == ["rows.jsonl.gz"]


class _StubPredictor:
  """Decodes every input to token ids [5, 6]; stands in for a trained model."""

  def __init__(self, *args, **kwargs):
    self.batch_size = 2

  def predict_tokens(self, params, inputs):
    return np.tile(np.array([5, 6], np.int32), (len(inputs), 1))


def _loaded():
  mesh = Mesh(np.array(jax.devices()), ("data",))
  return infer.LoadedModel(model=None, params=None, param_shardings=None, mesh=mesh,
                           rules=(), task_feature_lengths={"inputs": 8, "targets": 4},
                           step=1)


def _examples(count, fail_after=None):
  def iterate(name, split, lengths, num_examples):
    for i in range(count):
      if fail_after is not None and i == fail_after:
        raise RuntimeError("decoding failed")
      yield TASK, {"inputs": np.array([3, 4], np.int32), "inputs_pretokenized": b"in",
                   "targets": np.array([5], np.int32), "targets_pretokenized": b"t"}
  return iterate


def test_failed_infer_keeps_the_earlier_predictions(tmp_path, monkeypatch):
  out = tmp_path / "preds.jsonl"
  out.write_text(OLD)
  monkeypatch.setattr(infer, "Predictor", _StubPredictor)
  monkeypatch.setattr(infer, "iterate_examples", _examples(5, fail_after=3))
  with pytest.raises(RuntimeError, match="decoding failed"):
    infer.write_predictions(_loaded(), TASK, "validation", str(out), overwrite=True)
  assert out.read_text() == OLD
  assert os.listdir(tmp_path) == ["preds.jsonl"]


def test_infer_replaces_only_with_overwrite(tmp_path, monkeypatch):
  out = tmp_path / "preds.jsonl"
  out.write_text(OLD)
  monkeypatch.setattr(infer, "Predictor", _StubPredictor)
  monkeypatch.setattr(infer, "iterate_examples", _examples(3))
  with pytest.raises(errors.ConfigError, match="already exists"):
    infer.write_predictions(_loaded(), TASK, "validation", str(out))
  assert out.read_text() == OLD
  assert infer.write_predictions(_loaded(), TASK, "validation", str(out), overwrite=True) == 3
  assert len(out.read_text().splitlines()) == 3 and "earlier" not in out.read_text()


def test_infer_cli_refuses_before_loading_the_model(tmp_path, capsys):
  out = tmp_path / "preds.jsonl"
  out.write_text(OLD)
  argv = ["infer", f"--model_dir={tmp_path / 'no_such_run'}", f"--task={TASK}",
          f"--out={out}"]
  assert cli.main(argv) == 2
  assert "already exists; pass --overwrite" in capsys.readouterr().err
  assert cli.main(argv[:-1] + [f"--out={tmp_path}"]) == 2
  assert "is a folder" in capsys.readouterr().err
  assert out.read_text() == OLD


def test_new_output_gets_ordinary_permissions(tmp_path):
  umask = os.umask(0o022)
  try:
    with output_files.atomic_output(str(tmp_path / "sub" / "x.txt")) as f:
      f.write("ok")
  finally:
    os.umask(umask)
  assert (tmp_path / "sub" / "x.txt").read_text() == "ok"
  assert (tmp_path / "sub" / "x.txt").stat().st_mode & 0o777 == 0o644
