"""`flan-jax train / infer / eval` from the command line: errors come early and clearly."""

import json

import gin
import pytest

from tests.catalog.catalog_fakes import FAKE_COLLECTION, write_module
from tests.catalog.catalog_fakes import user_modules  # pylint: disable=unused-import  # fixture
from tests.cli import cli_runs
from tests.cli.cli_runs import SMALL_RUN


def test_train_then_infer_and_eval(tiny_run, tmp_path, capsys):
  model_dir, out = tiny_run
  assert "Trained steps 0 -> 2." in out
  assert "RENDER_SEED = 3" in (model_dir / "config.gin").read_text()
  assert json.loads((model_dir / "run.json").read_text())["train_config"]["render_seed"] == 3
  preds = tmp_path / "preds.jsonl"
  code, out, err = cli_runs.run(["infer", f"--model_dir={model_dir}", "--task=toy.category:zs_opt",
                                 "--num_examples=3", f"--out={preds}"], capsys)
  assert code == 0, err
  assert len(preds.read_text().splitlines()) == 3
  code, out, err = cli_runs.run(["eval", f"--model_dir={model_dir}", "--task=toy.category:zs_opt",
                                 "--num_examples=4"], capsys)
  assert code == 0, err
  lines = out.splitlines()
  header = next(i for i, l in enumerate(lines) if l.split()[:3] == ["task", "n", "accuracy"])
  row = lines[header + 1].split()
  assert row[:2] == ["toy.category:zs_opt", "4"]  # The table says how many it scored.


def test_unknown_task_suggests_close_matches(tmp_path, capsys):
  code, _, err = cli_runs.run(["train", f"--gin.MODEL_DIR='{tmp_path}'"] + SMALL_RUN +
                              ["--gin.MIXTURE_OR_TASK_NAME='toy_flann'"], capsys)
  assert code == 2
  assert "Unknown task or mixture 'toy_flann'" in err and "toy_flan" in err


def test_unknown_gin_binding_names_the_file(tmp_path, capsys):
  bad = tmp_path / "bad.gin"
  bad.write_text("include 'runs/smoke_cpu.gin'\nTrainConfig.bach_size = 4\n")
  code, _, err = cli_runs.run(["train", f"--gin_file={bad}", f"--gin.MODEL_DIR='{tmp_path}'"],
                              capsys)
  assert code == 2
  assert "bach_size" in err and "bad.gin" in err


def test_unquoted_string_value_gets_a_hint(tmp_path, capsys):
  code, _, err = cli_runs.run(["train", "--gin_file=runs/smoke_cpu.gin",
                               f"--gin.MODEL_DIR={tmp_path}/x"], capsys)
  assert code == 2 and "strings need quotes" in err


def test_mesh_that_does_not_divide_devices(tmp_path, capsys):
  code, _, err = cli_runs.run(["train", f"--gin.MODEL_DIR='{tmp_path}'"] + SMALL_RUN +
                              ["--gin.PartitionConfig.num_partitions=3"], capsys)
  assert code == 2 and "does not divide the 8 devices" in err
  assert "In call to configurable" not in err and len(err.strip().splitlines()) == 1


def test_model_dir_of_another_shape_is_refused(tmp_path, capsys):
  model_dir = tmp_path / "run"
  assert cli_runs.run(["train", f"--gin.MODEL_DIR='{model_dir}'"] + SMALL_RUN, capsys)[0] == 0
  gin.clear_config()
  code, _, err = cli_runs.run(["train", f"--gin.MODEL_DIR='{model_dir}'"] + SMALL_RUN +
                              ["--gin.network.T5Config.mlp_dim=128"], capsys)
  assert code == 2 and "different shape" in err and "mlp_dim" in err


def test_infer_on_a_folder_that_is_not_a_model_dir(tmp_path, capsys):
  code, _, err = cli_runs.run(["infer", f"--model_dir={tmp_path}", "--task=toy.category:zs_opt",
                               f"--out={tmp_path}/p.jsonl"], capsys)
  assert code == 2 and "not a flan_jax MODEL_DIR" in err


def test_gin_files_resolve_with_a_runs_folder_in_the_working_directory(tmp_path, capsys,
                                                                        monkeypatch):
  """A `runs/` output folder in the working directory (and on sys.path, as `python -m` puts
  it) must not shadow `--gin_file=runs/...` nor `include 'runs/...'` in the repo's configs."""
  (tmp_path / "runs" / "smoke_cpu").mkdir(parents=True)
  monkeypatch.chdir(tmp_path)
  monkeypatch.syspath_prepend(str(tmp_path))
  code, out, err = cli_runs.run(["train", f"--gin.MODEL_DIR='{tmp_path / 'runs' / 'smoke_cpu'}'"]
                                + SMALL_RUN, capsys)
  assert code == 0, err
  assert "Trained steps 0 -> 2." in out


def test_missing_gin_file_names_where_it_looked(tmp_path, capsys, monkeypatch):
  monkeypatch.chdir(tmp_path)
  code, _, err = cli_runs.run(["train", "--gin_file=runs/no_such.gin",
                               f"--gin.MODEL_DIR='{tmp_path}'"], capsys)
  assert code == 2
  assert "gin file 'runs/no_such.gin' not found" in err and str(tmp_path) in err


# fake.a is generated; fake.b and fake.c need TFDS datasets nobody prepared.
_MISSING_DATA = """{
    "a": cs.DataRequirement(cs.GENERATED, "fake/a"),
    "b": cs.DataRequirement(cs.TFDS, "fake_builder/b:1.0.0"),
    "c": cs.DataRequirement(cs.TFDS, "fake_builder/c:1.0.0"),
}"""


def test_train_refuses_missing_data_before_compiling(tmp_path, user_modules, capsys, monkeypatch):
  write_module(user_modules, "fake_train", FAKE_COLLECTION.replace("{DATA}", _MISSING_DATA))
  monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "empty"))
  base = ["train", f"--gin.MODEL_DIR='{tmp_path / 'run'}'"] + SMALL_RUN + [
      "--gin.MIXTURE_OR_TASK_MODULE='fake_train'",
      "--gin.TrainConfig.eval_mixture_or_task_name=None"]
  code, _, err = cli_runs.run(base + ["--gin.MIXTURE_OR_TASK_NAME='fake_mix'"], capsys)
  assert code == 2
  assert "2 of the 3 dataset(s) 'fake_mix' needs" in err
  assert "tfds build fake_builder/b:1.0.0" in err and "--skip_missing" in err
  code, _, err = cli_runs.run(base + ["--gin.MIXTURE_OR_TASK_NAME='fake.b:inv'", "--skip_missing"],
                              capsys)
  assert code == 2 and "Nothing of 'fake.b:inv' is left" in err


def test_train_names_a_broken_task_module(tmp_path, user_modules, capsys):
  write_module(user_modules, "user_broken_train", "import no_such_package_here\n")
  code, _, err = cli_runs.run(["train", f"--gin.MODEL_DIR='{tmp_path}'", "--task_module",
                               "user_broken_train"] + SMALL_RUN
                              + ["--gin.MIXTURE_OR_TASK_NAME='user_task'"], capsys)
  assert code == 2
  assert ("user_broken_train (ModuleNotFoundError: No module named 'no_such_package_here')"
          in err)


def test_misspelled_macro_is_refused_with_a_suggestion(tmp_path, capsys):
  code, _, err = cli_runs.run(["train", f"--gin.MODEL_DIR='{tmp_path}'"] + SMALL_RUN +
                              ["--gin.TRAIN_STEP=10"], capsys)
  assert code == 2
  assert "Unknown macro 'TRAIN_STEP'" in err and "Did you mean TRAIN_STEPS?" in err
  assert not (tmp_path / "checkpoints").exists()
