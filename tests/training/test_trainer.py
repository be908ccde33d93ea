"""End-to-end: train a tiny T5 on toy tasks over the 8-device mesh, resume, and refuse
bad configurations before compiling."""

import dataclasses

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

from flan_jax import errors
from flan_jax.runtime.partitioning import PartitionConfig
from flan_jax.training import trainer
from flan_jax.training.config import TrainConfig
from flan_jax.training.optimizers import OptimizerConfig
from tests.training.tiny import tiny_config

TASK = "toy.compare_numbers:zs_opt"
MODEL = tiny_config(vocab_size=1024, emb_dim=64, num_heads=2, head_dim=32, mlp_dim=128)
PARTITION = PartitionConfig(num_partitions=2)
OPTIMIZER = OptimizerConfig(learning_rate=1e-2)


def _config(model_dir, **overrides) -> TrainConfig:
  fields = dict(model_dir=str(model_dir), mixture_or_task_name=TASK,
                task_feature_lengths={"inputs": 96, "targets": 16}, train_steps=6,
                batch_size=8, eval_period=0, checkpoint_period=3, log_period=2,
                eval_num_examples=8, eval_batch_size=8, progress_bar=False)
  fields.update(overrides)
  return TrainConfig(**fields)


def _params(model_dir):
  manager = ocp.CheckpointManager(f"{model_dir}/checkpoints")
  return manager.restore(manager.latest_step())["state"]["params"]


def test_train_learns_evaluates_and_resumes_exactly(tmp_path):
  straight = trainer.train(_config(tmp_path / "straight", train_steps=12),
                           MODEL, OPTIMIZER, partitioning=PARTITION)
  assert straight["final_step"] == 12
  assert straight["last_loss"] < straight["first_loss"]
  assert set(straight["eval"][TASK]) == {"accuracy", "majority_baseline"}

  first = trainer.train(_config(tmp_path / "resumed", train_steps=6), MODEL, OPTIMIZER,
                        partitioning=PARTITION)
  assert first["final_step"] == 6
  second = trainer.train(_config(tmp_path / "resumed", train_steps=12), MODEL, OPTIMIZER,
                         partitioning=PARTITION)
  assert second["start_step"] == 6 and second["final_step"] == 12
  for a, b in zip(jax.tree_util.tree_leaves(_params(tmp_path / "straight")),
                  jax.tree_util.tree_leaves(_params(tmp_path / "resumed"))):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e-6)


@pytest.mark.parametrize("overrides, partition, error, message", [
    (dict(mixture_or_task_name="toy.compare_numbrs:zs_opt"), PARTITION,
     errors.UnknownNameError, "Did you mean"),
    (dict(batch_size=6), PARTITION, errors.ConfigError, "multiple of 4"),
    ({}, PartitionConfig(num_partitions=3), errors.ConfigError, "does not divide"),
    (dict(task_feature_lengths={"inputs": 96}), PARTITION, errors.ConfigError,
     "TASK_FEATURE_LENGTHS"),
])
def test_bad_config_fails_before_compiling(tmp_path, overrides, partition, error, message):
  with pytest.raises(error, match=message):
    trainer.train(_config(tmp_path, **overrides), MODEL, OPTIMIZER, partitioning=partition)
  assert not (tmp_path / "checkpoints").exists()


def test_small_model_vocab_is_refused(tmp_path):
  with pytest.raises(errors.ConfigError, match="vocab_size"):
    trainer.train(_config(tmp_path), dataclasses.replace(MODEL, vocab_size=128), OPTIMIZER,
                  partitioning=PARTITION)


def test_model_dir_of_another_model_is_never_overwritten(tmp_path):
  trainer.train(_config(tmp_path, train_steps=3), MODEL, OPTIMIZER, partitioning=PARTITION)
  before = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
  bigger = dataclasses.replace(MODEL, mlp_dim=256)
  with pytest.raises(errors.CheckpointMismatchError, match="mlp_dim"):
    trainer.train(_config(tmp_path, train_steps=6), bigger, OPTIMIZER,
                  partitioning=PARTITION)
  assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == before


def test_palm_prefix_lm_trains_and_evaluates(tmp_path):
  from flan_jax.models import palm
  config = palm.PaLMConfig(vocab_size=1024, emb_dim=64, num_heads=2, head_dim=32,
                           num_layers=2, mlp_dim=128, dropout_rate=0.0, prefix_lm=True)
  summary = trainer.train(_config(tmp_path, train_steps=8), config, OPTIMIZER,
                          partitioning=PARTITION)
  assert summary["final_step"] == 8
  assert summary["last_loss"] < summary["first_loss"]
  assert set(summary["eval"][TASK]) == {"accuracy", "majority_baseline"}


def test_keeps_the_best_checkpoint_by_an_eval_metric(tmp_path):
  metric = f"{TASK}/accuracy"
  summary = trainer.train(
      _config(tmp_path, train_steps=6, eval_period=2, best_checkpoint_metric=metric),
      MODEL, OPTIMIZER, partitioning=PARTITION)
  best = summary["best_step"]
  history = dict(summary["eval_history"])
  assert sorted(history) == [2, 4, 6]
  assert history[best][metric] == max(m[metric] for m in history.values())
  saved = sorted(int(p.name) for p in (tmp_path / "best_checkpoint").iterdir()
                 if p.name.isdigit())
  assert saved == [best]
  with pytest.raises(errors.ConfigError, match="not an eval metric"):
    trainer.train(_config(tmp_path / "other", train_steps=2, eval_period=0,
                          best_checkpoint_metric="nope/accuracy"),
                  MODEL, OPTIMIZER, partitioning=PARTITION)


def test_nonfinite_loss_stops_naming_the_step_and_last_good_checkpoint(tmp_path):
  exploding = OptimizerConfig(name="adamw", learning_rate=1e30)
  with pytest.raises(trainer.NonFiniteLossError, match=r"last good checkpoint is step"):
    trainer.train(_config(tmp_path, train_steps=12, checkpoint_period=1, log_period=1),
                  MODEL, exploding, partitioning=PARTITION)
  manager = ocp.CheckpointManager(str(tmp_path / "checkpoints"))
  for step in manager.all_steps():  # Nothing non-finite was ever saved.
    params = manager.restore(step)["state"]["params"]
    assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree_util.tree_leaves(params))


def test_nonfinite_updates_can_be_skipped(tmp_path):
  exploding = OptimizerConfig(name="adamw", learning_rate=1e30)
  summary = trainer.train(
      _config(tmp_path, train_steps=6, log_period=1, nonfinite_policy="skip"),
      MODEL, exploding, partitioning=PARTITION)
  assert summary["final_step"] == 6
  assert any(not np.isfinite(loss) for _, loss in summary["loss_history"])  # It did blow up.
  params = _params(tmp_path)
  assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree_util.tree_leaves(params))


def test_unwritable_model_dir_is_reported_before_training(tmp_path):
  blocker = tmp_path / "a_file"
  blocker.write_text("not a folder")
  with pytest.raises(errors.ConfigError, match="not writable"):
    trainer.train(_config(blocker / "run"), MODEL, OPTIMIZER, partitioning=PARTITION)


def test_deferred_log_windows_average_the_right_steps(tmp_path):
  # Plain log steps are read one step late (the device keeps working); each logged loss
  # must still be the mean of exactly its own window's per-step losses.
  per_step = trainer.train(_config(tmp_path / "every", train_steps=7, log_period=1,
                                   checkpoint_period=0), MODEL, OPTIMIZER,
                           partitioning=PARTITION)["loss_history"]
  windowed = trainer.train(_config(tmp_path / "windows", train_steps=7, log_period=2,
                                   checkpoint_period=3), MODEL, OPTIMIZER,
                           partitioning=PARTITION)["loss_history"]
  losses = dict(per_step)
  assert [step for step, _ in per_step] == [1, 2, 3, 4, 5, 6, 7]
  # Windows end at the first step 1 (always logged), log steps 2, 4, 6, checkpoint steps
  # 3, 6 and the last step 7.
  expected = {1: [1], 2: [2], 3: [3], 4: [4], 6: [5, 6], 7: [7]}
  assert [step for step, _ in windowed] == list(expected)
  for (step, loss) in windowed:
    np.testing.assert_allclose(loss, np.mean([losses[s] for s in expected[step]]), rtol=1e-5)
