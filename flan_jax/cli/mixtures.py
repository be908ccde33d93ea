"""`flan-jax mixtures stats NAME [--stats FILE] [--json] [--plot FILE.png]`: rates and
expected shares. Recipe mixtures (flan2022, ...) are planned from the catalog's dataset
specs without SeqIO; other names are read from their seqio mixture."""

from __future__ import annotations

import argparse
import json


from flan_jax import errors  # pylint: disable=g-import-not-at-top,wrong-import-position


_DEFAULTS = argparse.ArgumentDefaultsHelpFormatter  # --help shows every default.


def _parser() -> argparse.ArgumentParser:
  from flan_jax.cli import task_modules  # pylint: disable=g-import-not-at-top
  parser = argparse.ArgumentParser(
      formatter_class=argparse.ArgumentDefaultsHelpFormatter,
      prog="flan-jax mixtures", description=__doc__)
  sub = parser.add_subparsers(dest="command", required=True)
  stats = sub.add_parser("stats", formatter_class=_DEFAULTS,
                         help="each task's rate and expected share of examples")
  stats.add_argument("name", help="a task or mixture name")
  stats.add_argument("--split", default="train", help="split whose example counts set the rates.")
  stats.add_argument("--stats", default=None,
                     help="JSON {task: {split: count}}: counts that replace the catalog's "
                          "(re-plans a recipe mixture's rates)")
  stats.add_argument("--json", action="store_true", help="print JSON instead of a table")
  stats.add_argument("--by", default=None, metavar="KEYS",
                     help="recipe mixtures: shares summed by submix, format and/or dataset, "
                          "e.g. --by submix,format")
  stats.add_argument("--rule", default=None, choices=("flan", "balanced"),
                     help="recipe mixtures: plan with FLAN's released-code rule (flan2022's "
                          "default) or our earlier balanced rule")
  stats.add_argument("--plot", default=None, metavar="FILE.png",
                     help="also draw the composition (needs matplotlib)")
  task_modules.add_task_module_flag(stats)
  return parser


def _estimated_tasks(name: str, stats_file: str | None) -> set[str]:
  """Tasks of a recipe mixture rated on a stand-in count: their spec says so and no stats
  file gives their real one."""
  from flan_jax.mixtures import rates, recipe  # pylint: disable=g-import-not-at-top
  if name not in recipe.MIXTURE_NAMES:
    return set()
  given = set(rates.load_stats_file(stats_file)) if stats_file else set()
  return {t for s in recipe.catalog_specs() if s.num_train_examples_estimated
          for t in s.tasks} - given


def _print_table(st, estimated: set[str] = frozenset()) -> None:
  width = max(len(t) for t in st.shares)
  print(f"# {st.name} ({st.split}): {len(st.shares)} tasks")
  if st.submixtures:
    for sub, share in st.submixtures.items():
      print(f"#   {sub}: {100 * share:.2f}%")
  print(f"{'task':<{width}}  {'examples':>9}  {'rate':>10}  {'share':>7}")
  for task, share in sorted(st.shares.items(), key=lambda kv: (-kv[1], kv[0])):
    n = st.num_examples.get(task)
    shown = "?" if n is None else f"~{n}" if task in estimated else n
    print(f"{task:<{width}}  {shown:>9}  {st.rates[task]:>10.4g}  {100 * share:>6.2f}%")
  marked = estimated & set(st.shares)
  if marked:
    print(f"# ~: {len(marked)} task(s) rated on an estimated train count (their files are not "
          "in place, e.g. NIv2 without FLAN_JAX_NIV2_DIR: 5,000 per task file).")


def _recipe_plan(name: str, split: str, table, rule: str | None):
  from flan_jax.mixtures import recipe  # pylint: disable=g-import-not-at-top
  spec = recipe.mixture_spec(name)
  if split != spec.split or rule is not None:
    spec = recipe.recipe_spec(name, split=split, recipe=spec, cap_mode=spec.cap_mode, rule=rule)
  return recipe.plan_from_specs(spec, recipe.catalog_specs(), table)


def _print_by(plan, by: str) -> None:
  keys = [k.strip() for k in by.split(",") if k.strip()]
  shares = plan.shares_by(keys)
  widths = [max([len(k)] + [len(key[i]) for key in shares]) for i, k in enumerate(keys)]
  print(f"# {plan.spec.name} ({plan.spec.split}, rule {plan.spec.rule}): shares by {','.join(keys)}")
  print("  ".join(f"{k:<{w}}" for k, w in zip(keys, widths)) + f"  {'share':>8}")
  for key, share in sorted(shares.items()):
    print("  ".join(f"{v:<{w}}" for v, w in zip(key, widths)) + f"  {100 * share:>7.3f}%")


def _stats(name: str, split: str, stats_file: str | None, rule: str | None = None):
  """A recipe mixture is planned from the catalog's specs (no SeqIO, a stats file re-plans
  its rates); any other name is looked up in SeqIO."""
  from flan_jax.mixtures import rates, recipe  # pylint: disable=g-import-not-at-top
  table = rates.load_stats_file(stats_file) if stats_file else None
  if name in recipe.MIXTURE_NAMES:
    return rates.plan_stats(_recipe_plan(name, split, table, rule))
  if rule is not None:
    raise errors.ConfigError(
        f"--rule re-plans recipe mixtures ({', '.join(recipe.MIXTURE_NAMES)}); {name!r} has "
        "fixed seqio rates. Drop --rule.")
  if table is not None:
    raise errors.ConfigError(
        f"--stats re-plans the rates of recipe mixtures ({', '.join(recipe.MIXTURE_NAMES)}); "
        f"{name!r} has fixed seqio rates that a stats file cannot change. Drop --stats.")
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  return rates.mixture_stats(catalog.get_mixture_or_task(name), split)


def main(argv: list[str]) -> int:
  args = _parser().parse_args(argv)
  if args.by is not None:
    from flan_jax.mixtures import rates, recipe  # pylint: disable=g-import-not-at-top
    if args.name not in recipe.MIXTURE_NAMES:
      raise errors.ConfigError(
          f"--by sums a recipe mixture's plan ({', '.join(recipe.MIXTURE_NAMES)}); {args.name!r} "
          "is not one. Drop --by.")
    table = rates.load_stats_file(args.stats) if args.stats else None
    _print_by(_recipe_plan(args.name, args.split, table, args.rule), args.by)
    return 0
  st = _stats(args.name, args.split, args.stats, args.rule)
  if args.plot:
    from flan_jax.mixtures import plotting  # pylint: disable=g-import-not-at-top
    plotting.plot_composition(st, args.plot)
  if args.json:
    print(json.dumps(st.to_json(), indent=1, sort_keys=True))
  else:
    _print_table(st, _estimated_tasks(args.name, args.stats))
    if args.plot:
      print(f"# wrote {args.plot}")
  return 0
