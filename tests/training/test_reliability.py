"""What a damaged MODEL_DIR, a mistaken config or bad data do to `train`: each is refused
or worked around before anything compiles, and nothing the user had is lost."""

import json
import logging
import os
import shutil
import subprocess
import sys

import numpy as np
import orbax.checkpoint as ocp
import pytest
import seqio
import tensorflow as tf

from flan_jax import errors
from flan_jax.catalog import lookup as catalog
from flan_jax.evaluation import infer
from flan_jax.interop import native
from flan_jax.runtime import checkpoints
from flan_jax.runtime.partitioning import PartitionConfig
from flan_jax.training import run_checks, run_setup, trainer
from flan_jax.training.config import TrainConfig
from flan_jax.training.optimizers import OptimizerConfig
from tests.training.tiny import tiny_config

TASK = "toy.compare_numbers:zs_opt"
MODEL = tiny_config(vocab_size=1024, num_encoder_layers=1, num_decoder_layers=1)
PARTITION = PartitionConfig(num_partitions=2)
ADAFACTOR = OptimizerConfig(learning_rate=1e-2)


def _config(model_dir, **overrides) -> TrainConfig:
  fields = dict(model_dir=str(model_dir), mixture_or_task_name=TASK,
                task_feature_lengths={"inputs": 32, "targets": 8}, train_steps=6,
                batch_size=8, eval_period=0, checkpoint_period=3, log_period=3,
                eval_num_examples=4, eval_batch_size=8, progress_bar=False)
  fields.update(overrides)
  return TrainConfig(**fields)


def _train(model_dir, optimizer=ADAFACTOR, **overrides):
  return trainer.train(_config(model_dir, **overrides), MODEL, optimizer,
                       partitioning=PARTITION)


@pytest.fixture(scope="module")
def trained_once(tmp_path_factory):
  """One 6-step run (checkpoints 3 and 6), trained once for the tests that only read it."""
  model_dir = tmp_path_factory.mktemp("trained") / "run"
  _train(model_dir)
  return model_dir


@pytest.fixture
def trained_run(trained_once, tmp_path):
  """A private copy of the 6-step run: each test damages or retrains its own."""
  return shutil.copytree(trained_once, tmp_path / "run")


def _files(folder):
  return sorted((str(p.relative_to(folder)), p.stat().st_size)
                for p in folder.rglob("*") if p.is_file())


def _remove_metadata(step_dir):
  (step_dir / "state" / "_METADATA").unlink()


def _truncate_array_files(step_dir):
  """Halves every array data file (OCDBT packs several arrays into each)."""
  data_files = [p for p in (step_dir / "state").rglob("*")
                if p.is_file() and p.parent.name == "d"]
  assert data_files
  for path in data_files:
    with open(path, "r+b") as f:
      f.truncate(path.stat().st_size // 2)


def _empty_folder(step_dir):
  for child in step_dir.iterdir():
    shutil.rmtree(child) if child.is_dir() else child.unlink()


@pytest.mark.parametrize("damage", [_remove_metadata, _truncate_array_files,
                                    _empty_folder])
def test_damaged_latest_checkpoint_falls_back_and_is_kept(trained_run, damage, caplog):
  model_dir = trained_run
  damaged = model_dir / "checkpoints" / "6"
  damage(damaged)
  kept = _files(damaged)
  caplog.set_level(logging.WARNING)
  caplog.clear()  # Only what reading the damaged MODEL_DIR logs, not training's step lines.

  loaded = infer.load_model_dir(str(model_dir), PARTITION)  # What `infer`/`eval` use.
  assert loaded.step == 3
  _, converted = native.load_model_dir(str(model_dir))      # What `convert` uses.
  np.testing.assert_array_equal(
      converted["encoder"]["layers_0"]["mlp"]["wi_0"]["kernel"],
      np.asarray(loaded.params["encoder"]["layers_0"]["mlp"]["wi_0"]["kernel"]))
  assert _files(damaged) == kept  # Reading never touches the damaged step.
  warnings = [r.getMessage() for r in caplog.records
              if r.levelno >= logging.WARNING and "step 6" in r.getMessage()]
  assert warnings and all("Skipping damaged checkpoint" in w for w in warnings)
  # The warning names the step's folder and says the folder is left as it is.
  assert all(w.startswith(f"Skipping damaged checkpoint step 6 ({damaged}): ") and
             w.endswith("; it was left in place. Falling back to an older checkpoint.")
             for w in warnings), warnings

  caplog.clear()
  resumed = _train(model_dir)
  assert resumed["start_step"] == 3 and resumed["final_step"] == 6
  # Training moves it aside and says so, once: never "left in place" and then "Moved".
  moved = [r.getMessage() for r in caplog.records if "step 6" in r.getMessage()]
  assert not any("left in place" in m for m in moved), moved
  assert any(m.endswith(f"; it is moved to {model_dir / 'damaged_checkpoints'}. Falling back "
                        "to an older checkpoint.") for m in moved), moved
  aside = model_dir / "damaged_checkpoints" / "6"
  assert _files(aside) == kept  # Moved aside whole, never deleted.
  assert ocp.CheckpointManager(str(model_dir / "checkpoints")).latest_step() == 6


def test_convert_of_a_damaged_checkpoint_warns_once_without_tracebacks(trained_run, tmp_path):
  """The abandoned reads of a truncated step used to print dozens of `RuntimeError: Event loop
  is closed` tracebacks (Python's unraisable-exception hook; pytest would swallow them
  in-process, so this runs the command)."""
  damaged = trained_run / "checkpoints" / "6"
  _truncate_array_files(damaged)
  done = subprocess.run(
      [sys.executable, "-m", "flan_jax.cli.main", "convert", "--from=flan_jax", "--to=hf",
       str(trained_run), str(tmp_path / "hf")],
      capture_output=True, text=True, timeout=600, check=False)
  assert done.returncode == 0, done.stderr
  assert "Traceback" not in done.stderr and "Event loop is closed" not in done.stderr
  warnings = [line for line in done.stderr.splitlines() if "damaged checkpoint" in line]
  assert len(warnings) == 1, done.stderr
  assert f"Skipping damaged checkpoint step 6 ({damaged}): ValueError: " in warnings[0]
  assert warnings[0].endswith("; it was left in place. Falling back to an older checkpoint.")


def test_no_restorable_checkpoint_names_every_step(trained_run):
  model_dir = trained_run
  _remove_metadata(model_dir / "checkpoints" / "3")
  _empty_folder(model_dir / "checkpoints" / "6")
  with pytest.raises(checkpoints.CheckpointCorruptError) as raised:
    infer.load_model_dir(str(model_dir), PARTITION)
  message = str(raised.value)
  folder = model_dir / "checkpoints"
  assert f"\n  step 6 ({folder / '6'}): " in message and f"\n  step 3 ({folder / '3'}): " in message
  assert "Nothing was deleted" in message
  assert (model_dir / "checkpoints" / "3" / "state").is_dir()


def test_saved_checkpoint_is_logged_once_the_save_has_committed(tmp_path, caplog,
                                                                 monkeypatch):
  finalize = ocp.PyTreeCheckpointHandler.finalize

  def slow_finalize(self, directory):
    import time
    time.sleep(0.5)  # Keep the async commit visibly behind the start of the save.
    return finalize(self, directory)

  monkeypatch.setattr(ocp.PyTreeCheckpointHandler, "finalize", slow_finalize)
  model_dir = tmp_path / "run"
  seen = []

  class Probe(logging.Handler):
    def emit(self, record):
      message = record.getMessage()
      if message.startswith("Saved checkpoint for step"):
        step = message.split()[-1].rstrip(".")
        seen.append((int(step), (model_dir / "checkpoints" / step).is_dir()))

  probe = Probe(level=logging.INFO)
  logging.getLogger().addHandler(probe)
  caplog.set_level(logging.INFO)
  try:
    _train(model_dir)
  finally:
    logging.getLogger().removeHandler(probe)
  assert seen == [(3, True), (6, True)]


def test_sigterm_logs_saved_only_once_the_save_has_committed(tmp_path, caplog, monkeypatch):
  finalize = ocp.PyTreeCheckpointHandler.finalize

  def slow_finalize(self, directory):
    import time
    time.sleep(0.5)  # Keep the async commit visibly behind the start of the save.
    return finalize(self, directory)

  monkeypatch.setattr(ocp.PyTreeCheckpointHandler, "finalize", slow_finalize)
  monkeypatch.setattr(trainer.PreemptionWatcher, "should_stop", lambda self, step: step == 2)
  model_dir = tmp_path / "run"
  seen = []

  class Probe(logging.Handler):
    def emit(self, record):
      if record.getMessage().startswith("SIGTERM: saved step 2 "):
        seen.append((model_dir / "checkpoints" / "2").is_dir())

  probe = Probe(level=logging.WARNING)
  logging.getLogger().addHandler(probe)
  caplog.set_level(logging.INFO)
  try:
    summary = _train(model_dir, checkpoint_period=100)
  finally:
    logging.getLogger().removeHandler(probe)
  assert summary["preempted"] and summary["final_step"] == 2
  assert seen == [True]


def test_train_steps_below_the_checkpoint_is_refused_and_nothing_rewritten(trained_run,
                                                                          monkeypatch):
  model_dir = trained_run
  record = (model_dir / "run.json").read_text()
  monkeypatch.setattr(run_setup.state, "init_state", _never_compile)
  with pytest.raises(errors.ConfigError, match=r"TRAIN_STEPS=4 is below .* \(6, .*above 6"):
    _train(model_dir, train_steps=4)
  assert (model_dir / "run.json").read_text() == record


def test_switching_the_optimizer_on_a_model_dir_is_refused(trained_run, monkeypatch):
  model_dir = trained_run
  record = (model_dir / "run.json").read_text()
  assert json.loads(record)["optimizer_config"]["name"] == "adafactor"
  monkeypatch.setattr(run_setup.state, "init_state", _never_compile)
  with pytest.raises(errors.CheckpointMismatchError,
                     match=r"optimizer state .*OptimizerConfig.name='adafactor'"):
    _train(model_dir, OptimizerConfig(name="adamw", learning_rate=1e-3))
  assert (model_dir / "run.json").read_text() == record
  assert sorted(p.name for p in (model_dir / "checkpoints").iterdir()) == ["3", "6"]


def _never_compile(*args, **kwargs):
  raise AssertionError("the run compiled before refusing the configuration")


def test_data_error_surfaces_from_the_first_batch_before_compiling(tmp_path, monkeypatch):
  name = "test_reliability.missing_field"
  if name not in seqio.TaskRegistry.names():
    features = catalog.get_mixture_or_task(TASK).output_features
    source = seqio.FunctionDataSource(
        lambda split, shuffle_files, seed=None: tf.data.Dataset.from_tensors(
            {"question": "1 or 2?"}).repeat(), splits=("train", "validation"))
    seqio.TaskRegistry.add(
        name, source=source, output_features=features,
        preprocessors=[lambda ds: ds.map(lambda ex: {"inputs": ex["question"],
                                                     "targets": ex["answer"]}),
                       seqio.preprocessors.tokenize, seqio.preprocessors.append_eos])
  monkeypatch.setattr(run_setup.state, "init_state", _never_compile)
  with pytest.raises(run_checks.TrainingDataError, match=f"{name}.*answer"):
    _train(tmp_path / "run", mixture_or_task_name=name)
  assert not (tmp_path / "run").exists()  # MODEL_DIR left as it was found: absent.


def test_absurd_feature_lengths_are_refused_with_the_limit(tmp_path):
  with pytest.raises(errors.ConfigError,
                     match=r"2,000,000 x 2,000,000 = 4e\+12 .*hard limit of 2,147,483,647"):
    _train(tmp_path, task_feature_lengths={"inputs": 2_000_000, "targets": 8})
  assert not (tmp_path / "checkpoints").exists()


def test_lengths_beyond_device_memory_are_refused_with_the_estimate(tmp_path, monkeypatch):
  monkeypatch.setattr(run_checks, "device_memory_bytes", lambda: 2**30)
  # 8 sequences / 4 data-parallel = 2 per device, 2 heads / 2 model-parallel = 1,
  # 20,000^2 pairs x 8 bytes: 2 * 1 * 4e8 * 8 = 6.4e9 bytes = 5.96 GiB.
  with pytest.raises(errors.ConfigError,
                     match=r"need 6\.0 GiB per device .*2 sequences x 1 heads x 20,000 x "
                           r"20,000 positions x 8 bytes\), more than the 1\.0 GiB"):
    _train(tmp_path, task_feature_lengths={"inputs": 20_000, "targets": 8})
  assert not (tmp_path / "checkpoints").exists()


def test_nearly_full_disk_is_refused_before_training(tmp_path, monkeypatch):
  usage = run_setup.shutil.disk_usage(tmp_path)
  monkeypatch.setattr(run_setup.shutil, "disk_usage",
                      lambda path: usage._replace(free=10 * 2**20))
  with pytest.raises(errors.ConfigError, match="has only 10 MiB free"):
    _train(tmp_path / "run")
  assert not (tmp_path / "run" / "checkpoints").exists()


def test_multi_process_runs_leave_sigterm_to_jax(monkeypatch):
  """JAX's preemption notifier must see SIGTERM; a Python handler would hide it."""
  import signal
  before = signal.getsignal(signal.SIGTERM)
  monkeypatch.setattr(trainer.jax, "process_count", lambda: 2)
  with trainer.PreemptionWatcher():
    assert signal.getsignal(signal.SIGTERM) is before
  monkeypatch.setattr(trainer.jax, "process_count", lambda: 1)
  with trainer.PreemptionWatcher():
    assert signal.getsignal(signal.SIGTERM) is not before  # One process: our own flag.
  assert signal.getsignal(signal.SIGTERM) is before
