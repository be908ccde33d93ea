"""Offline caching with SeqIO's Apache Beam pipeline, and reading the cache back.

`run_cache` drives `seqio.scripts.cache_tasks_main.run_pipeline` (PreprocessTask ->
global reshuffle -> TFRecord shards + info/stats + COMPLETED per task and split) on any
Beam runner: DirectRunner by default, Dataflow/Flink/Spark by passing their pipeline
options. A task is cacheable when its preprocessors contain seqio.CacheDatasetPlaceholder.
Training reads caches after `use_cache_dirs([...])` with use_cached=True.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from typing import Sequence

import seqio

from flan_jax import errors

# Imported by every Beam worker so that catalog tasks exist in the worker's registry.
WORKER_MODULE = "flan_jax.mixtures.worker_registration"
DEFAULT_PIPELINE_OPTIONS = ("--runner=DirectRunner",)


def use_cache_dirs(dirs: Sequence[str]) -> None:
  """Makes seqio look for cached tasks in `dirs` (idempotent); then pass use_cached=True."""
  seqio.add_global_cache_dirs([str(d) for d in dirs])


def resolve_tasks(names: Sequence[str]) -> list[str]:
  """The task names behind task or mixture names (mixtures expand to all their tasks)."""
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  out: list[str] = []
  for name in names:
    provider = catalog.get_mixture_or_task(name)
    tasks = provider.tasks if isinstance(provider, seqio.Mixture) else [provider]
    out += [t.name for t in tasks if t.name not in out]
  return out


def uncacheable(task_names: Sequence[str]) -> list[str]:
  """The tasks seqio cannot cache (no CacheDatasetPlaceholder in their preprocessors)."""
  return [t for t in task_names if not seqio.TaskRegistry.get(t).supports_caching]


@dataclasses.dataclass(frozen=True)
class CacheConfig:
  """What to cache, where, and how the Beam pipeline runs."""
  names: tuple[str, ...]
  output_dir: str
  pipeline_options: tuple[str, ...] = DEFAULT_PIPELINE_OPTIONS
  min_shards: int = 64
  max_shards: int = 0
  overwrite: bool = False
  skip_uncacheable: bool = False
  modules_to_import: tuple[str, ...] = (WORKER_MODULE,)
  base_seed: int | None = None


def _require_beam():
  try:
    import apache_beam  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise errors.ConfigError(
        "`flan-jax cache` needs Apache Beam: pip install -e .[cache] (see docs/mixtures.md for "
        "the protobuf/sentencepiece pins it needs next to tensorflow 2.21).") from None
  return apache_beam


def _set_seqio_flags(cfg: CacheConfig) -> None:
  """run_pipeline reads a few absl flags of cache_tasks_main; set them without argv."""
  from seqio.scripts import cache_tasks_main  # pylint: disable=g-import-not-at-top
  flags = cache_tasks_main.FLAGS
  if not flags.is_parsed():
    flags([sys.argv[0]], known_only=True)
  flags.min_shards = cfg.min_shards
  flags.max_shards = cfg.max_shards
  flags.base_seed = cfg.base_seed
  flags.tfds_data_dir = None
  flags.enable_char_counts = False


def run_cache(cfg: CacheConfig) -> list[str]:
  """Caches every task behind cfg.names into cfg.output_dir; returns the task dirs written."""
  beam = _require_beam()
  from seqio.scripts import cache_tasks_main  # pylint: disable=g-import-not-at-top
  tasks = resolve_tasks(cfg.names)
  bad = uncacheable(tasks)
  if bad and not cfg.skip_uncacheable:
    raise errors.ConfigError(
        f"{len(bad)} task(s) cannot be cached (no seqio.CacheDatasetPlaceholder), e.g. "
        f"{bad[:3]}. Cache the truncated mixture (its `#cap` tasks are cacheable), or pass "
        "--skip_uncacheable.")
  tasks = [t for t in tasks if t not in bad]
  if not tasks:
    raise errors.ConfigError(f"Nothing to cache in {list(cfg.names)}.")
  _set_seqio_flags(cfg)
  use_cache_dirs([cfg.output_dir])  # So already-cached tasks are skipped (unless overwrite).
  options = list(cfg.pipeline_options)
  if not any(o.startswith("--runner") for o in options):
    options.insert(0, DEFAULT_PIPELINE_OPTIONS[0])
  with beam.Pipeline(options=beam.options.pipeline_options.PipelineOptions(options)) as p:
    dirs = cache_tasks_main.run_pipeline(
        p, [re.escape(t) for t in tasks], cfg.output_dir,
        modules_to_import=list(cfg.modules_to_import), overwrite=cfg.overwrite)
  return dirs
