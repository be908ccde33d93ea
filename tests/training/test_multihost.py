"""Two local processes x 4 CPU devices (gloo collectives) train like one 8-device process,
and stop together at one agreed step when both are preempted (SIGTERM)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np

from flan_jax.runtime.partitioning import PartitionConfig
from flan_jax.training import trainer
from flan_jax.training.config import TrainConfig
from flan_jax.training.optimizers import OptimizerConfig
from tests.training.tiny import tiny_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_training(model_dir: str) -> dict:
  """The same run in both settings; data_shards=2 fixes the global batches."""
  config = TrainConfig(
      model_dir=model_dir, mixture_or_task_name="toy.compare_numbers:zs_opt",
      task_feature_lengths={"inputs": 96, "targets": 16}, train_steps=6, batch_size=8,
      eval_period=0, checkpoint_period=3, log_period=1, eval_num_examples=4,
      eval_batch_size=8, progress_bar=False, data_shards=2)
  model = tiny_config(vocab_size=1024, emb_dim=64, num_heads=2, head_dim=32, mlp_dim=128)
  return trainer.train(config, model, OptimizerConfig(learning_rate=1e-2),
                       partitioning=PartitionConfig(num_partitions=2))


def run_long_training(model_dir: str, train_steps: int) -> dict:
  """A smaller run that would go on long after the test's SIGTERM."""
  config = TrainConfig(
      model_dir=model_dir, mixture_or_task_name="toy.compare_numbers:zs_opt",
      task_feature_lengths={"inputs": 32, "targets": 8}, train_steps=train_steps,
      batch_size=8, eval_period=0, checkpoint_period=2, log_period=1000,
      eval_num_examples=4, eval_batch_size=8, progress_bar=False, data_shards=2)
  model = tiny_config(vocab_size=1024, num_encoder_layers=1, num_decoder_layers=1)
  return trainer.train(config, model, OptimizerConfig(learning_rate=1e-2),
                       partitioning=PartitionConfig(num_partitions=2))


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _start_workers(model_dir, tmp_path, *extra: str) -> list[subprocess.Popen]:
  port = _free_port()
  env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
  env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
  return [
      subprocess.Popen(
          [sys.executable, "-m", "tests.training.multihost_worker", str(i), str(port),
           str(model_dir), str(tmp_path / f"summary_{i}.json"), *extra],
          cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
      for i in range(2)]


def test_two_processes_match_one_process(tmp_path):
  workers = _start_workers(tmp_path / "two_hosts", tmp_path)
  outputs = [w.communicate(timeout=600)[0] for w in workers]
  for worker, output in zip(workers, outputs):
    assert worker.returncode == 0, output[-4000:]

  single = run_training(str(tmp_path / "one_host"))
  for i in range(2):
    with open(tmp_path / f"summary_{i}.json") as f:
      multi = json.load(f)
    assert multi["processes"] == 2 and multi["devices"] == 8
    assert multi["final_step"] == single["final_step"] == 6
    steps_multi, losses_multi = zip(*multi["loss_history"])
    steps_single, losses_single = zip(*single["loss_history"])
    assert steps_multi == steps_single
    np.testing.assert_allclose(losses_multi, losses_single, rtol=1e-4)
    assert losses_single[-1] < losses_single[0]


def _checkpoint_steps(model_dir) -> list[int]:
  folder = os.path.join(model_dir, "checkpoints")
  return sorted(int(n) for n in os.listdir(folder) if n.isdigit()) if os.path.isdir(folder) \
      else []


def test_sigterm_to_both_processes_saves_one_agreed_step_and_exits_zero(tmp_path):
  model_dir = str(tmp_path / "preempted")
  train_steps = 60  # Far beyond the stop; a run that ignores SIGTERM ends here and fails.
  workers = _start_workers(model_dir, tmp_path, str(train_steps))
  try:
    deadline = time.time() + 1500  # A hang guard only (a loaded machine compiles slowly).
    while not _checkpoint_steps(model_dir):  # Training is under way on both hosts.
      for worker in workers:
        assert worker.poll() is None, worker.communicate()[0][-4000:]
      assert time.time() < deadline, "no checkpoint appeared"
      time.sleep(0.05)
    for worker in workers:
      worker.send_signal(signal.SIGTERM)
    outputs = [w.communicate(timeout=900)[0] for w in workers]
  finally:
    for worker in workers:
      if worker.poll() is None:
        worker.kill()
  for worker, output in zip(workers, outputs):
    assert worker.returncode == 0, output[-4000:]
  summaries = []
  for i in range(2):
    with open(tmp_path / f"summary_{i}.json") as f:
      summaries.append(json.load(f))
  assert [s["preempted"] for s in summaries] == [True, True]
  stop = summaries[0]["final_step"]
  assert summaries[1]["final_step"] == stop and stop < train_steps
  assert _checkpoint_steps(model_dir)[-1] == stop  # Saved at the agreed step.
  assert any(f"saved step {stop}" in output for output in outputs)
