"""`flan-jax premix NAME --out DIR --num-examples N [--runner=... beam options]`: render and
tokenize a mixture once into a pre-mixed stream (TFRecord files + manifest.json) that
training reads as one source with --gin.PREMIXED_DIR="'DIR'" (see docs/premix.md).

Runs in this process by default (memory and open files do not grow with the number of
tasks). With --runner=... (e.g. --runner=DirectRunner, or DataflowRunner / FlinkRunner /
SparkRunner and their flags) the same rows are built on Apache Beam, one task per worker.
"""

from __future__ import annotations

import argparse
import sys


class _HelpFormatter(argparse.RawDescriptionHelpFormatter,
                     argparse.ArgumentDefaultsHelpFormatter):
  """The description as written; every option with its default."""


def _parser() -> argparse.ArgumentParser:
  from flan_jax.cli import task_modules  # pylint: disable=g-import-not-at-top
  parser = argparse.ArgumentParser(prog="flan-jax premix", description=__doc__,
                                   formatter_class=_HelpFormatter)
  parser.add_argument("name", help="a mixture (or task) name")
  parser.add_argument("--out", required=True, help="output folder (created)")
  parser.add_argument("--num-examples", "--num_examples", type=int, required=True,
                      help="rows to draw (training reads them in passes; see docs/premix.md)")
  parser.add_argument("--num-files", "--num_files", type=int, default=16,
                      help="output files; a multiple of the hosts (data shards) that read it")
  parser.add_argument("--seed", type=int, default=0, help="shuffle and sampling seed")
  parser.add_argument("--render_seed", "--render-seed", type=int, default=None,
                      help="seed of every prompt draw (RENDER_SEED of the training run); "
                           "default: the catalog's default render seed")
  parser.add_argument("--overwrite", action="store_true",
                      help="replace an existing --out folder (once the new one is complete)")
  parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
  task_modules.add_task_module_flag(parser)
  return parser


def main(argv: list[str]) -> int:
  from flan_jax.cli import beam_options as beam_flags  # pylint: disable=g-import-not-at-top
  args, beam_options = beam_flags.parse_with_beam_options(_parser(), argv)
  from flan_jax.data import rendering  # pylint: disable=g-import-not-at-top
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  from flan_jax.premix import build  # pylint: disable=g-import-not-at-top
  render_seed = rendering.DEFAULT_RENDER_SEED if args.render_seed is None else args.render_seed
  cfg = build.PremixConfig(name=args.name, out=args.out, num_examples=args.num_examples,
                           seed=args.seed, render_seed=render_seed,
                           num_files=args.num_files, overwrite=args.overwrite)
  build.check_config(cfg)  # Before registering anything.
  catalog.get_mixture_or_task(args.name, render_seed=render_seed)
  if beam_options:
    from flan_jax.premix import beam_build  # pylint: disable=g-import-not-at-top
    manifest = beam_build.build(cfg, beam_options, args.task_module)
  else:
    manifest = build.build(cfg, progress=not args.no_progress)
  print(f"wrote {manifest.num_examples} rows of {len(manifest.tasks)} tasks in "
        f"{len(manifest.files)} files to {args.out}; train with "
        f"--gin.MIXTURE_OR_TASK_NAME=\"'{args.name}'\" --gin.PREMIXED_DIR=\"'{args.out}'\""
        + (f" --gin.RENDER_SEED={render_seed}" if render_seed else ""), file=sys.stderr)
  return 0
