"""`flan-jax export NAME --out FILE.jsonl[.gz]`: stream a task or mixture to JSONL rows
{inputs, targets, task, template, format} with bounded memory (see docs/mixtures.md)."""

from __future__ import annotations

import argparse
import sys



def _parser() -> argparse.ArgumentParser:
  from flan_jax.cli import task_modules  # pylint: disable=g-import-not-at-top
  parser = argparse.ArgumentParser(
      formatter_class=argparse.ArgumentDefaultsHelpFormatter,
      prog="flan-jax export", description=__doc__)
  parser.add_argument("name", help="a task or mixture name")
  parser.add_argument("--out", required=True, help="output .jsonl or .jsonl.gz")
  parser.add_argument("--overwrite", action="store_true",
                      help="replace an existing --out file (once the new one is complete)")
  parser.add_argument("--split", default=None,
                      help="split of every task to read; default: train, or the split a "
                           "held-out suite reports (test for BBH, MMLU, CoT eval)")
  parser.add_argument("--num-examples", "--num_examples", type=int, default=None,
                      help="rows to write over all shards (required for mixtures; "
                           "default for a task: one epoch)")
  parser.add_argument("--seed", type=int, default=0, help="shuffle and sampling seed")
  parser.add_argument("--render_seed", type=int, default=None,
                      help="seed of every prompt draw (template, options, exemplars); "
                           "default: the catalog's default render seed")
  parser.add_argument("--shard", default="0/1", help="i/n: write disjoint part i of n")
  parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
  parser.add_argument("--skip_missing", "--skip-missing", action="store_true",
                      help="leave out (with a note) the datasets whose data is not in place "
                           "instead of stopping at the first; the other rates renormalized")
  task_modules.add_task_module_flag(parser)
  return parser


def _register_available(name: str, render_seed: int) -> bool:
  """Registers `name` without its datasets whose data is not in place, noting each one on
  stderr; False when nothing is left to export (a task whose data is missing)."""
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  from flan_jax.catalog import preflight  # pylint: disable=g-import-not-at-top
  missing = [r for r in preflight.check_name(name) if not r.ok]
  for row in missing:
    print(f"flan-jax: note: skipped {row.dataset}: {row.detail}. {row.how}", file=sys.stderr)
  if missing and catalog.kind_of(name) == "task":
    print(f"flan-jax: note: nothing written: {name!r} has no data.", file=sys.stderr)
    return False
  preflight.resolve_available(name, render_seed=render_seed, skip_missing=True)
  return True


def main(argv: list[str]) -> int:
  args = _parser().parse_args(argv)
  from flan_jax import output_files  # pylint: disable=g-import-not-at-top
  output_files.check_output_path(args.out, args.overwrite)  # Before planning anything.
  from flan_jax.data import rendering  # pylint: disable=g-import-not-at-top
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  from flan_jax.mixtures import export  # pylint: disable=g-import-not-at-top
  render_seed = rendering.DEFAULT_RENDER_SEED if args.render_seed is None else args.render_seed
  if args.skip_missing:
    if not _register_available(args.name, render_seed):
      return 0
  provider = catalog.get_mixture_or_task(args.name, render_seed=render_seed)  # Keeps this seed.
  from flan_jax.evaluation import suite_tasks  # pylint: disable=g-import-not-at-top
  args.split = suite_tasks.split_or_default(provider, args.split, "train")
  index, num = export.parse_shard(args.shard)
  cfg = export.ExportConfig(name=args.name, out=args.out, split=args.split,
                            num_examples=args.num_examples, seed=args.seed,
                            shard_index=index, num_shards=num, overwrite=args.overwrite)
  rows = export.export(cfg, progress=not args.no_progress)
  print(f"wrote {rows} rows to {args.out}", file=sys.stderr)
  return 0
