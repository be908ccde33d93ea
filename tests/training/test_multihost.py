"""Two local processes x 4 CPU devices (gloo collectives) train like one 8-device process."""

import json
import os
import socket
import subprocess
import sys

import numpy as np

from flan_jax.training import trainer
from flan_jax.training.config import TrainConfig
from flan_jax.training.optimizers import OptimizerConfig
from flan_jax.training.partitioning import PartitionConfig
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


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def test_two_processes_match_one_process(tmp_path):
  port = _free_port()
  env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
  env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
  workers = [
      subprocess.Popen(
          [sys.executable, "-m", "tests.training.multihost_worker", str(i), str(port),
           str(tmp_path / "two_hosts"), str(tmp_path / f"summary_{i}.json")],
          cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
      for i in range(2)]
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
