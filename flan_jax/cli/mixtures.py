"""`flan-jax mixtures stats NAME [--json] [--plot FILE.png]`: rates and expected shares."""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _parser() -> argparse.ArgumentParser:
  from flan_jax.cli import task_modules  # pylint: disable=g-import-not-at-top
  parser = argparse.ArgumentParser(prog="flan-jax mixtures", description=__doc__)
  sub = parser.add_subparsers(dest="command", required=True)
  stats = sub.add_parser("stats", help="each task's rate and expected share of examples")
  stats.add_argument("name", help="a task or mixture name")
  stats.add_argument("--split", default="train")
  stats.add_argument("--stats", default=None,
                     help="JSON {task: {split: count}} to use instead of reported counts")
  stats.add_argument("--json", action="store_true", help="print JSON instead of a table")
  stats.add_argument("--plot", default=None, metavar="FILE.png",
                     help="also draw the composition (needs matplotlib)")
  task_modules.add_task_module_flag(stats)
  return parser


def _print_table(st) -> None:
  width = max(len(t) for t in st.shares)
  print(f"# {st.name} ({st.split}): {len(st.shares)} tasks")
  if st.submixtures:
    for sub, share in st.submixtures.items():
      print(f"#   {sub}: {100 * share:.2f}%")
  print(f"{'task':<{width}}  {'examples':>9}  {'rate':>10}  {'share':>7}")
  for task, share in sorted(st.shares.items(), key=lambda kv: (-kv[1], kv[0])):
    n = st.num_examples.get(task)
    print(f"{task:<{width}}  {n if n is not None else '?':>9}  {st.rates[task]:>10.4g}  "
          f"{100 * share:>6.2f}%")


def main(argv: list[str]) -> int:
  args = _parser().parse_args(argv)
  from flan_jax.data import catalog  # pylint: disable=g-import-not-at-top
  from flan_jax.mixtures import rates  # pylint: disable=g-import-not-at-top
  provider = catalog.get_mixture_or_task(args.name)
  table = rates.load_stats_file(args.stats) if args.stats else None
  st = rates.mixture_stats(provider, args.split, table)
  if args.plot:
    from flan_jax.mixtures import plotting  # pylint: disable=g-import-not-at-top
    plotting.plot_composition(st, args.plot)
  if args.json:
    print(json.dumps(st.to_json(), indent=1, sort_keys=True))
  else:
    _print_table(st)
    if args.plot:
      print(f"# wrote {args.plot}")
  return 0
