"""`flan-jax tasks list|show|preflight|check`: browse the catalog, see rendered prompts and
check offline which data a task, mixture or collection still needs."""

from __future__ import annotations

import argparse
import json
import sys


_SHOW_LENGTHS = {"inputs": 1 << 20, "targets": 1 << 20}  # No trimming when showing prompts.


_DEFAULTS = argparse.ArgumentDefaultsHelpFormatter  # --help shows every default.


def _parser() -> argparse.ArgumentParser:
  from flan_jax.cli import task_modules  # pylint: disable=g-import-not-at-top
  parser = argparse.ArgumentParser(
      formatter_class=argparse.ArgumentDefaultsHelpFormatter,
      prog="flan-jax tasks", description=__doc__)
  sub = parser.add_subparsers(dest="command", required=True)
  ls = sub.add_parser("list", formatter_class=_DEFAULTS,
                      help="one name per line: name, kind, format, data source")
  ls.add_argument("--collection", default=None, help="only names starting with this prefix")
  ls.add_argument("--count", action="store_true",
                  help="print the number of distinct source datasets per collection")
  ls.add_argument("--json", action="store_true", help="with --count: one JSON object")
  show = sub.add_parser("show", formatter_class=_DEFAULTS,
                        help="print rendered inputs and targets")
  show.add_argument("name", help="a task or mixture name.")
  show.add_argument("-n", "--num_examples", type=int, default=3, help="examples to print.")
  show.add_argument("--split", default=None,
                    help="split to read; default: the one a held-out suite reports (test for "
                         "BBH, MMLU, CoT eval), else validation, or the task's only split "
                         "(train for CoT)")
  show.add_argument("--skip_missing", action="store_true",
                    help="leave out (with a note) the datasets whose data is not in place")
  show.add_argument("--seed", type=int, default=0,
                    help="sampling seed: which tasks a mixture's rows come from")
  show.add_argument("--render_seed", type=int, default=None,
                    help="seed of every prompt draw (template, options, exemplars); "
                         "default: the catalog's default render seed")
  pre = sub.add_parser("preflight", formatter_class=_DEFAULTS,
                       help="which datasets NAME needs are prepared, and how to get "
                            "the others (exit 1 if any is missing)")
  pre.add_argument("name", help="a task, mixture or collection name")
  check = sub.add_parser("check", formatter_class=_DEFAULTS,
                         help="preflight of every catalog dataset (all collections)")
  for p in (pre, check):
    p.add_argument("--data_dir", default=None, help="TFDS data dir (default: $TFDS_DATA_DIR "
                                                    "or ~/tensorflow_datasets)")
    p.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
  task_modules.add_task_module_flag(ls, show, pre, check)
  return parser


def _report_broken() -> int:
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  broken = catalog.broken_modules()
  for module, error in broken.items():
    print(f"flan-jax: error: module {module} could not be read: {error}", file=sys.stderr)
  return 1 if broken else 0


def _list(args) -> int:
  from flan_jax.data import formats  # pylint: disable=g-import-not-at-top
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  if args.count:
    counts = catalog.collection_counts()
    print(json.dumps(counts, sort_keys=True) if args.json else
          "\n".join(f"{c}\t{n}" for c, n in sorted(counts.items())))
    return _report_broken()
  names = [n for n in catalog.list_names()
           if not args.collection or n.startswith(args.collection)]
  if not names and args.collection:
    print(f"flan-jax: error: no task or mixture name starts with {args.collection!r}. "
          "Collections: " + ", ".join(sorted(catalog.collection_counts())) + ". A collection of "
          "your own: pass the module or file that registers it, --task_module my_tasks.py.",
          file=sys.stderr)
    _report_broken()
    return 1
  for name in names:
    kind = catalog.kind_of(name)
    if kind == "task":
      data = catalog.spec_of(name).data
      parsed = formats.parse_task_name(name)  # Suite tasks (bbh_*_cot, ...) have no format.
      print(f"{name}\ttask\t{parsed[2] if parsed else '-'}\t{data.kind}:{data.name}")
    elif kind == "mixture":
      print(f"{name}\tmixture\t-\t{len(catalog.collection_mixture(name))} members")
    elif kind == "recipe":
      print(f"{name}\tmixture\t-\trecipe")
    else:
      import seqio  # pylint: disable=g-import-not-at-top  # A user module imported it.
      is_task = name in seqio.TaskRegistry.names()
      print(f"{name}\t{'task' if is_task else 'mixture'}\t-\tseqio")
  return _report_broken()


def default_split(task, split: str | None) -> str:
  """`split` if given, else validation where the task has it, else its first split."""
  if split:
    return split
  splits = list(task.splits)
  return "validation" if "validation" in splits or not splits else splits[0]


def _examples(task, split: str | None, n: int):
  ds = task.get_dataset(_SHOW_LENGTHS, split=default_split(task, split), shuffle=False,
                        use_cached=False)
  return list(ds.take(n).as_numpy_iterator())


def _print_example(i: int, task_name: str, ex: dict) -> None:
  from flan_jax.data import formats, registration  # pylint: disable=g-import-not-at-top
  if "prompt_format" not in ex:  # A held-out suite task: one fixed prompt, no template drawn.
    print(f"### {i}  task={task_name}  idx={ex['idx'].decode() if 'idx' in ex else '-'}")
  else:
    fmt = ex["prompt_format"].decode()
    desc = formats.describe(fmt, int(ex["num_exemplars"]) if "num_exemplars" in ex else None)
    info = registration.task_info(task_name)
    if "num_exemplars" not in ex and info and info.description:
      desc = info.description  # A collection's own form of the format (NIv2's fs_noopt).
    print(f"### {i}  task={task_name}  template={ex['template'].decode()}  format={fmt} ({desc})")
  print(f"--- inputs ({len(ex['inputs'])} tokens)")
  print(ex["inputs_pretokenized"].decode())
  print(f"--- targets ({len(ex['targets'])} tokens)")
  print(ex["targets_pretokenized"].decode())
  print()


def _show(args) -> int:
  import numpy as np  # pylint: disable=g-import-not-at-top
  import seqio  # pylint: disable=g-import-not-at-top
  from flan_jax.data import few_shot, rendering  # pylint: disable=g-import-not-at-top
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  from flan_jax.catalog import preflight  # pylint: disable=g-import-not-at-top
  seed = rendering.DEFAULT_RENDER_SEED if args.render_seed is None else args.render_seed
  if args.skip_missing:
    missing = [r for r in preflight.check_name(args.name) if not r.ok]
    for row in missing:
      print(f"# skipped {row.dataset}: {row.detail}. {row.how}")
    if missing and catalog.kind_of(args.name) == "task":
      return 0
    obj = preflight.resolve_available(args.name, render_seed=seed, skip_missing=True)
  else:
    obj = catalog.get_mixture_or_task(args.name, render_seed=seed)
  from flan_jax.evaluation import suite_tasks  # pylint: disable=g-import-not-at-top
  args.split = suite_tasks.split_or_default(obj, args.split, None)  # None: default_split below.
  if isinstance(obj, seqio.Mixture):
    tasks = obj.tasks
    rates = np.array([obj.get_rate(t) for t in tasks], dtype=float)
    rng = np.random.default_rng(args.seed)
    picks = rng.choice(len(tasks), size=args.num_examples, p=rates / rates.sum())
    print(f"# mixture {obj.name}: {len(tasks)} tasks; one example from each drawn task\n")
    for i, k in enumerate(picks, 1):
      for ex in _examples(tasks[k], args.split, i)[-1:]:
        _print_example(i, tasks[k].name, ex)
  else:
    for i, ex in enumerate(_examples(obj, args.split, args.num_examples), 1):
      _print_example(i, obj.name, ex)
    dropped = few_shot.dropped_examples(obj.name)
    if dropped:
      print(f"# {dropped} example(s) dropped: fewer than two exemplars fit the token budget.")
  return 0


def _print_preflight(rows, as_json: bool) -> int:
  from flan_jax.catalog import preflight  # pylint: disable=g-import-not-at-top
  if as_json:
    print(json.dumps([r.to_json() for r in rows], indent=1))
  else:
    if rows:
      print(preflight.format_rows(rows))
    print(f"# {preflight.summary(rows)}")
  return 0 if all(r.ok for r in rows) else 1


def _preflight(args) -> int:
  from flan_jax.catalog import preflight  # pylint: disable=g-import-not-at-top
  return _print_preflight(preflight.check_name(args.name, args.data_dir), args.json)


def _check(args) -> int:
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  from flan_jax.catalog import preflight  # pylint: disable=g-import-not-at-top
  catalog.require_modules()
  return _print_preflight(preflight.check(catalog.dataset_specs(), args.data_dir), args.json)


def main(argv: list[str] | None = None) -> int:
  args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
  return {"list": _list, "show": _show, "preflight": _preflight,
          "check": _check}[args.command](args)
