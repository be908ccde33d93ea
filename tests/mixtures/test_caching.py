"""SeqIO's Beam caching pipeline on a handful of toy examples, read back with use_cached."""

import pytest
import seqio

from flan_jax import errors
from flan_jax.mixtures import caching, recipe, truncation


@pytest.fixture(scope="module", autouse=True)
def registered():
  recipe.register()


def test_uncached_toy_tasks_are_reported():
  assert caching.uncacheable(["toy.category:zs_noopt"]) == ["toy.category:zs_noopt"]
  assert caching.uncacheable([truncation.truncated_task("toy.category:zs_noopt", 4)]) == []


def test_cache_then_read_back(tmp_path):
  pytest.importorskip("apache_beam")
  name = truncation.truncated_task("toy.category:zs_noopt", 4)
  dirs = caching.run_cache(caching.CacheConfig(
      (name,), str(tmp_path), ("--runner=DirectRunner", "--direct_num_workers=1"), min_shards=1))
  assert len(dirs) == 1
  caching.use_cache_dirs([str(tmp_path)])
  task = seqio.TaskRegistry.get(name)
  cached = task.get_dataset(None, split="validation", use_cached=True, shuffle=False)
  fresh = task.get_dataset(None, split="validation", use_cached=False, shuffle=False)
  text = lambda ds: sorted(ex["inputs_pretokenized"] for ex in ds.as_numpy_iterator())
  assert len(text(cached)) == 4 and text(cached) == text(fresh)
  assert task.get_cached_stats("train")["examples"] == 4


def test_uncacheable_fails_up_front(tmp_path):
  pytest.importorskip("apache_beam")
  with pytest.raises(errors.ConfigError, match="CacheDatasetPlaceholder"):
    caching.run_cache(caching.CacheConfig(("toy.category:zs_noopt",), str(tmp_path)))
