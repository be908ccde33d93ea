"""SeqIO's Beam caching pipeline on toy tasks, read back with use_cached and trained on."""

import pytest
import seqio

from flan_jax import errors
from flan_jax.data import truncation
from flan_jax.mixtures import caching, recipe
from tests.mixtures import plain_tasks

TASK = "toy.compare_numbers:zs_opt"  # 5,000 + 200 examples: about 10 s with DirectRunner.
BEAM_OPTIONS = ("--runner=DirectRunner", "--direct_num_workers=1")


@pytest.fixture(scope="module", autouse=True)
def registered():
  recipe.register()


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
  """One Beam run caching a toy task and a truncated (#cap4) toy task."""
  pytest.importorskip("apache_beam")
  out = str(tmp_path_factory.mktemp("cache"))
  capped = truncation.truncated_task("toy.category:zs_noopt", 4)
  dirs = caching.run_cache(caching.CacheConfig((TASK, capped), out, BEAM_OPTIONS, min_shards=1))
  assert len(dirs) == 2
  caching.use_cache_dirs([out])
  return out


def _examples(task: seqio.Task, split: str, use_cached: bool) -> list[tuple]:
  """Every feature of every example, as sortable tuples (the cache reshuffles)."""
  ds = task.get_dataset(None, split=split, use_cached=use_cached, shuffle=False)
  rows = [tuple((k, v.tobytes() if hasattr(v, "tobytes") else v) for k, v in sorted(ex.items()))
          for ex in ds.as_numpy_iterator()]
  return sorted(rows)


def test_toy_tasks_are_cacheable_and_plain_tasks_are_reported():
  assert caching.uncacheable(["toy.category:zs_noopt", "toy.dialog:fs_noopt"]) == []
  assert caching.uncacheable([truncation.truncated_task("toy.category:zs_noopt", 4)]) == []
  name = plain_tasks.register_uncacheable()
  assert caching.uncacheable([name]) == [name]


def test_cached_toy_task_equals_uncached(cache_dir):
  del cache_dir
  task = seqio.get_mixture_or_task(TASK)
  cached = _examples(task, "validation", use_cached=True)
  assert len(cached) == 200 and cached == _examples(task, "validation", use_cached=False)
  assert task.get_cached_stats("train")["examples"] == 5000


def test_cached_truncated_task_equals_uncached(cache_dir):
  del cache_dir
  task = seqio.TaskRegistry.get(truncation.truncated_task("toy.category:zs_noopt", 4))
  cached = _examples(task, "validation", use_cached=True)
  assert len(cached) == 4 and cached == _examples(task, "validation", use_cached=False)
  assert task.get_cached_stats("train")["examples"] == 4


def test_train_two_steps_from_the_cache(cache_dir, tmp_path, monkeypatch):
  del cache_dir
  from flan_jax.runtime.partitioning import PartitionConfig  # pylint: disable=g-import-not-at-top
  from flan_jax.training import trainer  # pylint: disable=g-import-not-at-top
  from flan_jax.training.config import TrainConfig  # pylint: disable=g-import-not-at-top
  from flan_jax.training.optimizers import OptimizerConfig  # pylint: disable=g-import-not-at-top
  from tests.training.tiny import tiny_config  # pylint: disable=g-import-not-at-top
  source = seqio.get_mixture_or_task(TASK).source
  read_from_source = source.get_dataset

  def no_train_from_source(split="train", **kw):  # Training must read the cache only.
    assert split != "train", "training read the toy source instead of the cache"
    return read_from_source(split=split, **kw)

  monkeypatch.setattr(source, "get_dataset", no_train_from_source)
  config = TrainConfig(
      model_dir=str(tmp_path), mixture_or_task_name=TASK, use_cached_tasks=True,
      task_feature_lengths={"inputs": 64, "targets": 8}, train_steps=2, batch_size=8,
      eval_period=0, checkpoint_period=2, log_period=1, eval_num_examples=8,
      eval_batch_size=8, progress_bar=False)
  model = tiny_config(vocab_size=1024, emb_dim=32, num_heads=2, head_dim=16, mlp_dim=64)
  summary = trainer.train(config, model, OptimizerConfig(learning_rate=1e-2),
                          partitioning=PartitionConfig(num_partitions=2))
  assert summary["final_step"] == 2


def test_uncacheable_fails_up_front(tmp_path):
  pytest.importorskip("apache_beam")
  with pytest.raises(errors.ConfigError, match="CacheDatasetPlaceholder"):
    caching.run_cache(caching.CacheConfig((plain_tasks.register_uncacheable(),), str(tmp_path)))
