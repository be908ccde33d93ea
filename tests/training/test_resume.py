"""A run killed at an arbitrary step (SIGKILL) or preempted (SIGTERM) and restarted ends
with exactly the parameters of an uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

from flan_jax.runtime.partitioning import PartitionConfig
from flan_jax.training import trainer
from flan_jax.training.config import TrainConfig
from flan_jax.training.optimizers import OptimizerConfig
from tests.training.tiny import tiny_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STEPS = 24


def run_training(model_dir: str, train_steps: int = STEPS) -> dict:
  config = TrainConfig(
      model_dir=model_dir, mixture_or_task_name="toy.category:zs_opt",
      task_feature_lengths={"inputs": 96, "targets": 16}, train_steps=train_steps,
      batch_size=8, eval_period=0, checkpoint_period=2, keep_checkpoints=2, log_period=2,
      eval_num_examples=4, eval_batch_size=8, progress_bar=False)
  model = tiny_config(vocab_size=1024, emb_dim=64, num_heads=2, head_dim=32, mlp_dim=128)
  return trainer.train(config, model, OptimizerConfig(name="adamw", learning_rate=3e-3),
                       partitioning=PartitionConfig(num_partitions=2))


def _start_worker(model_dir, summary):
  env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
  return subprocess.Popen(
      [sys.executable, "-m", "tests.training.resume_worker", str(model_dir), str(STEPS),
       str(summary)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
      text=True)


def _wait_for_checkpoint(model_dir, worker, min_step=4, timeout=300):
  folder = os.path.join(model_dir, "checkpoints")
  deadline = time.time() + timeout
  while time.time() < deadline:
    steps = [int(n) for n in os.listdir(folder) if n.isdigit()] if os.path.isdir(folder) else []
    if steps and max(steps) >= min_step:
      return max(steps)
    assert worker.poll() is None, worker.communicate()[0][-3000:]
    time.sleep(0.02)
  raise TimeoutError("no checkpoint appeared")


def _final_params(model_dir):
  manager = ocp.CheckpointManager(os.path.join(model_dir, "checkpoints"))
  assert manager.latest_step() == STEPS
  return manager.restore(STEPS)["state"]["params"]


def _assert_same_params(a_dir, b_dir):
  for a, b in zip(jax.tree_util.tree_leaves(_final_params(a_dir)),
                  jax.tree_util.tree_leaves(_final_params(b_dir))):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.fixture(scope="module")
def straight_dir(tmp_path_factory):
  """The uninterrupted run both tests compare against, trained once."""
  folder = str(tmp_path_factory.mktemp("straight"))
  run_training(folder)
  return folder


def test_sigkill_then_restart_matches_uninterrupted_run(tmp_path, straight_dir):
  killed_dir = tmp_path / "killed"
  worker = _start_worker(killed_dir, tmp_path / "killed.json")
  _wait_for_checkpoint(str(killed_dir), worker)
  worker.send_signal(signal.SIGKILL)
  worker.wait()
  assert not (tmp_path / "killed.json").exists()  # It really died mid-run.
  restarted = run_training(str(killed_dir))
  assert 0 < restarted["start_step"] < STEPS
  _assert_same_params(str(killed_dir), straight_dir)


def test_sigterm_saves_and_exits_cleanly_then_resumes(tmp_path, straight_dir):
  run_dir = tmp_path / "preempted"
  worker = _start_worker(run_dir, tmp_path / "preempted.json")
  _wait_for_checkpoint(str(run_dir), worker)
  worker.send_signal(signal.SIGTERM)
  output = worker.communicate(timeout=300)[0]
  assert worker.returncode == 0, output[-3000:]
  with open(tmp_path / "preempted.json") as f:
    stopped = json.load(f)
  assert stopped["preempted"] and stopped["final_step"] < STEPS
  manager = ocp.CheckpointManager(os.path.join(run_dir, "checkpoints"))
  assert manager.latest_step() == stopped["final_step"]  # Saved at the stop step.
  resumed = run_training(str(run_dir))
  assert resumed["start_step"] == stopped["final_step"]
  _assert_same_params(str(run_dir), straight_dir)
