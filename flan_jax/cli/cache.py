"""`flan-jax cache NAME... --output_dir DIR [beam options]`: cache tasks or whole
(sub)mixtures with SeqIO's Apache Beam pipeline; DirectRunner unless --runner is given.

Unknown `--flags` go to Beam as pipeline options, e.g. `--runner=DataflowRunner
--project=P --region=R --temp_location=gs://...` or `--runner=FlinkRunner ...`.
"""

from __future__ import annotations

import argparse
import os
import sys




class _HelpFormatter(argparse.RawDescriptionHelpFormatter,
                     argparse.ArgumentDefaultsHelpFormatter):
  """The description as written; every option with its default."""


def _parser() -> argparse.ArgumentParser:
  from flan_jax.cli import task_modules  # pylint: disable=g-import-not-at-top
  parser = argparse.ArgumentParser(prog="flan-jax cache", description=__doc__,
                                   formatter_class=_HelpFormatter)
  parser.add_argument("names", nargs="+", help="task or mixture names (mixtures: all tasks)")
  parser.add_argument("--output_dir", "--output-dir", required=True, help="cache directory")
  parser.add_argument("--min_shards", type=int, default=64, help="min output shards per split")
  parser.add_argument("--max_shards", type=int, default=0, help="max output shards (0: none)")
  parser.add_argument("--overwrite", action="store_true", help="re-cache cached tasks")
  parser.add_argument("--skip_uncacheable", action="store_true",
                      help="skip tasks without a CacheDatasetPlaceholder instead of failing")
  parser.add_argument("--module_import", action="append", default=[],
                      help="extra module each worker imports to register tasks; repeatable")
  parser.add_argument("--base_seed", type=int, default=None,
                      help="seed of the caching pipeline's shuffles (SeqIO base_seed).")
  parser.add_argument("--render_seed", type=int, default=None,
                      help="seed of every prompt draw; default: the catalog's default")
  task_modules.add_task_module_flag(parser)
  return parser


def main(argv: list[str]) -> int:
  from flan_jax.cli import beam_options as beam_flags  # pylint: disable=g-import-not-at-top
  args, beam_options = beam_flags.parse_with_beam_options(_parser(), argv)
  from flan_jax.data import rendering  # pylint: disable=g-import-not-at-top
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  from flan_jax.mixtures import caching  # pylint: disable=g-import-not-at-top
  render_seed = rendering.DEFAULT_RENDER_SEED if args.render_seed is None else args.render_seed
  for name in args.names:  # The pipeline keeps the seed these tasks are registered with.
    catalog.get_mixture_or_task(name, render_seed=render_seed)
  cfg = caching.CacheConfig(
      names=tuple(args.names), output_dir=args.output_dir,
      pipeline_options=tuple(beam_options) or caching.DEFAULT_PIPELINE_OPTIONS,
      min_shards=args.min_shards, max_shards=args.max_shards, overwrite=args.overwrite,
      skip_uncacheable=args.skip_uncacheable,
      modules_to_import=(caching.WORKER_MODULE, *args.module_import), base_seed=args.base_seed)
  # Beam workers register the catalog themselves (worker_registration): tell them the same.
  worker_env = {catalog.RENDER_SEED_ENV: str(render_seed),
                catalog.TASK_MODULES_ENV: ",".join(args.task_module)}
  saved = {k: os.environ.get(k) for k in worker_env}
  os.environ.update(worker_env)
  try:
    dirs = caching.run_cache(cfg)
  finally:
    for key, value in saved.items():
      if value is None:
        os.environ.pop(key, None)
      else:
        os.environ[key] = value
  print(f"cached {len(dirs)} task(s) under {args.output_dir}", file=sys.stderr)
  for d in dirs:
    print(d)
  return 0
