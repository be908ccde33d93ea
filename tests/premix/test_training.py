"""Training on a premix of 300 tasks: SIGKILL and resume gives bit-identical parameters, two
hosts read disjoint files and make the one-host global batches, and a premix or mixture
that does not fit the run is refused before anything compiles."""

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys

import jax
import numpy as np
import pytest
import seqio

from flan_jax import errors
from flan_jax.premix import manifest as manifest_lib, reader
from flan_jax.runtime.partitioning import PartitionConfig
from flan_jax.training import data_source, input_pipeline, trainer
from flan_jax.training.config import TrainConfig
from flan_jax.training.optimizers import OptimizerConfig
from tests.premix import synthetic
from tests.training import test_resume
from tests.training.tiny import tiny_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STEPS = 12
LENGTHS = {"inputs": 32, "targets": 8}


def train_config(model_dir: str, premix_dir: str | None, **overrides) -> TrainConfig:
  config = TrainConfig(
      model_dir=model_dir, mixture_or_task_name=synthetic.MIXTURE,
      task_feature_lengths=LENGTHS, train_steps=STEPS, batch_size=8, eval_period=0,
      checkpoint_period=2, keep_checkpoints=2, log_period=2,
      eval_mixture_or_task_name="toy.category:zs_opt", eval_num_examples=4,
      eval_batch_size=8, progress_bar=False, premixed_dir=premix_dir)
  return dataclasses.replace(config, **overrides)


def run_training(model_dir: str, premix_dir: str, **overrides) -> dict:
  synthetic.register()
  model = tiny_config(vocab_size=1024, num_encoder_layers=1, num_decoder_layers=1)
  return trainer.train(train_config(model_dir, premix_dir, **overrides), model,
                       OptimizerConfig(name="adamw", learning_rate=3e-3),
                       partitioning=PartitionConfig(num_partitions=2))


def _final_params(model_dir):
  import orbax.checkpoint as ocp  # pylint: disable=g-import-not-at-top
  manager = ocp.CheckpointManager(os.path.join(model_dir, "checkpoints"))
  assert manager.latest_step() == STEPS
  return manager.restore(STEPS)["state"]["params"]


def test_sigkill_then_resume_is_bit_identical(tmp_path, premix_dir):
  straight = run_training(str(tmp_path / "straight"), premix_dir)
  assert straight["final_step"] == STEPS and straight["last_loss"] < straight["first_loss"]
  killed_dir = tmp_path / "killed"
  env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
  worker = subprocess.Popen(
      [sys.executable, "-m", "tests.premix.train_worker", str(killed_dir), premix_dir,
       str(tmp_path / "killed.json")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
      stderr=subprocess.STDOUT, text=True)
  test_resume._wait_for_checkpoint(str(killed_dir), worker)  # pylint: disable=protected-access
  worker.send_signal(signal.SIGKILL)
  worker.wait()
  assert not (tmp_path / "killed.json").exists()  # It died mid-run.
  resumed = run_training(str(killed_dir), premix_dir)
  assert 0 < resumed["start_step"] < STEPS
  for a, b in zip(jax.tree_util.tree_leaves(_final_params(str(killed_dir))),
                  jax.tree_util.tree_leaves(_final_params(str(tmp_path / "straight")))):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


# The run both settings make: two data shards fix the global batches.
TWO_HOSTS = {"data_shards": 2, "train_steps": 4, "log_period": 1, "checkpoint_period": 4}


def test_two_processes_train_like_one_on_the_premix(tmp_path, premix_dir):
  """Each process reads its own files (data shard = process) and the losses are one host's."""
  from tests.training import test_multihost  # pylint: disable=g-import-not-at-top
  port = test_multihost._free_port()  # pylint: disable=protected-access
  env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
  env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
  workers = [subprocess.Popen(
      [sys.executable, "-m", "tests.premix.multihost_worker", str(i), str(port),
       str(tmp_path / "two"), premix_dir, str(tmp_path / f"summary_{i}.json")],
      cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
      for i in range(2)]
  outputs = [w.communicate(timeout=900)[0] for w in workers]
  for worker, output in zip(workers, outputs):
    assert worker.returncode == 0, output[-4000:]
  single = run_training(str(tmp_path / "one"), premix_dir, **TWO_HOSTS)
  for i in range(2):
    with open(tmp_path / f"summary_{i}.json") as f:
      multi = json.load(f)
    assert multi["processes"] == 2
    steps_multi, losses_multi = zip(*multi["loss_history"])
    steps_single, losses_single = zip(*single["loss_history"])
    assert steps_multi == steps_single == (1, 2, 3, 4)
    np.testing.assert_allclose(losses_multi, losses_single, rtol=1e-4)


def _batches(premix_dir, count, data_shards, monkeypatch=None, process=None):
  if process is not None:
    monkeypatch.setattr(input_pipeline.jax, "process_count", lambda: 2)
    monkeypatch.setattr(input_pipeline.jax, "process_index", lambda: process)
  try:
    ds = input_pipeline.train_dataset(
        synthetic.MIXTURE, LENGTHS, 8, seed=0,
        feature_converter=seqio.EncDecFeatureConverter(pack=True),
        data_shards=data_shards, premixed_dir=premix_dir)
    return [b for _, b in zip(range(count), ds.as_numpy_iterator())]
  finally:
    if monkeypatch is not None:
      monkeypatch.undo()


def test_two_hosts_read_disjoint_files_and_make_the_one_host_batches(premix_dir, monkeypatch):
  premix = manifest_lib.read(premix_dir)
  files = [set(reader.shard_files(premix_dir, premix, i, 2)) for i in range(2)]
  assert not files[0] & files[1] and len(files[0] | files[1]) == len(premix.files)
  one_host = _batches(premix_dir, 3, data_shards=2)
  hosts = [_batches(premix_dir, 3, 2, monkeypatch, process) for process in range(2)]
  for step, batch in enumerate(one_host):
    for key, value in batch.items():
      assert hosts[0][step][key].shape[0] == 4
      np.testing.assert_array_equal(
          np.concatenate([hosts[0][step][key], hosts[1][step][key]]), value)


def test_rows_are_cut_to_the_lengths_and_packed(premix_dir):
  batch = _batches(premix_dir, 1, data_shards=1)[0]
  assert batch["encoder_input_tokens"].shape == (8, 32)
  assert batch["decoder_target_tokens"].shape == (8, 8)
  # 1-token targets: each packed row holds up to 8 examples, so several per row.
  assert batch["decoder_segment_ids"].max(axis=1).mean() > 1


def test_a_premix_for_another_mixture_or_vocabulary_is_refused(tmp_path, premix_dir):
  copy = str(tmp_path / "copy")
  shutil.copytree(premix_dir, copy)
  with open(os.path.join(copy, "manifest.json")) as f:
    payload = json.load(f)
  payload["mixture"] = "another_mixture"
  with open(os.path.join(copy, "manifest.json"), "w") as f:
    json.dump(payload, f)
  with pytest.raises(errors.ConfigError, match="built with mixture='another_mixture'"):
    run_training(str(tmp_path / "a"), copy)
  payload["mixture"] = synthetic.MIXTURE
  payload["features"]["targets"]["vocabulary"]["vocab_size"] = 32100
  with open(os.path.join(copy, "manifest.json"), "w") as f:
    json.dump(payload, f)
  with pytest.raises(errors.ConfigError, match="tokenized 'targets'"):
    run_training(str(tmp_path / "b"), copy)
  with pytest.raises(errors.ConfigError, match="4 files, not a multiple of the run's 3"):
    run_training(str(tmp_path / "c"), premix_dir, data_shards=3, batch_size=6)
  assert not os.path.exists(tmp_path / "a" / "checkpoints")


def test_a_large_mixture_without_premix_is_refused_unless_forced(tmp_path):
  synthetic.register()
  with pytest.raises(errors.ConfigError, match="mixes 300 tasks.*flan-jax premix"):
    run_training(str(tmp_path / "run"), None)
  small = train_config("unused", None, mixture_or_task_name="premix_test.mix40")
  data_source.check_per_task_scale(small, seqio.get_mixture_or_task(
      synthetic.register(40, "premix_test.mix40")))
  forced = train_config("unused", None, force_per_task_pipelines=True)
  data_source.check_per_task_scale(forced, seqio.get_mixture_or_task(synthetic.MIXTURE))
