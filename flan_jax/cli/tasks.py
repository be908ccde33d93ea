"""`flan-jax tasks list|show|check`: browse the catalog and see rendered prompts."""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

_SHOW_LENGTHS = {"inputs": 1 << 20, "targets": 1 << 20}  # No trimming when showing prompts.


def _parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(prog="flan-jax tasks", description=__doc__)
  sub = parser.add_subparsers(dest="command", required=True)
  ls = sub.add_parser("list", help="one task or mixture per line: name, kind, format, templates")
  ls.add_argument("--collection", default=None, help="only names starting with this prefix")
  show = sub.add_parser("show", help="print rendered inputs and targets")
  show.add_argument("name")
  show.add_argument("-n", "--num_examples", type=int, default=3)
  show.add_argument("--split", default="validation")
  show.add_argument("--seed", type=int, default=None, help="render seed (default: the task's)")
  check = sub.add_parser("check", help="report which TFDS datasets the catalog needs are prepared")
  check.add_argument("--data_dir", default=None)
  return parser


def _list(args) -> int:
  import seqio  # pylint: disable=g-import-not-at-top
  from flan_jax.data import catalog, registration  # pylint: disable=g-import-not-at-top
  for name in catalog.list_names():
    if args.collection and not name.startswith(args.collection):
      continue
    info = registration.task_info(name)
    if name in seqio.MixtureRegistry.names():
      mixture = seqio.MixtureRegistry.get(name)
      print(f"{name}\tmixture\t-\t{len(mixture.tasks)} tasks")
    elif info is not None:
      print(f"{name}\ttask\t{info.prompt_format}\t{info.num_templates} templates")
    else:
      print(f"{name}\ttask\t-\t-")
  return 0


def _examples(task, split: str, n: int):
  ds = task.get_dataset(_SHOW_LENGTHS, split=split, shuffle=False, use_cached=False)
  return list(ds.take(n).as_numpy_iterator())


def _print_example(i: int, task_name: str, ex: dict) -> None:
  from flan_jax.data import formats  # pylint: disable=g-import-not-at-top
  fmt = ex["prompt_format"].decode()
  desc = formats.describe(fmt, int(ex["num_exemplars"]) if "num_exemplars" in ex else None)
  print(f"### {i}  task={task_name}  template={ex['template'].decode()}  format={fmt} ({desc})")
  print(f"--- inputs ({len(ex['inputs'])} tokens)")
  print(ex["inputs_pretokenized"].decode())
  print(f"--- targets ({len(ex['targets'])} tokens)")
  print(ex["targets_pretokenized"].decode())
  print()


def _show(args) -> int:
  import contextlib  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  import seqio  # pylint: disable=g-import-not-at-top
  from flan_jax.data import catalog, few_shot, rendering  # pylint: disable=g-import-not-at-top
  obj = catalog.get_mixture_or_task(args.name)
  seed_ctx = rendering.render_seed(args.seed) if args.seed is not None else contextlib.nullcontext()
  with seed_ctx:
    if isinstance(obj, seqio.Mixture):
      tasks = obj.tasks
      rates = np.array([obj.get_rate(t) for t in tasks], dtype=float)
      rng = np.random.default_rng(args.seed or 0)
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


def _check(args) -> int:
  import seqio  # pylint: disable=g-import-not-at-top
  from flan_jax.data import catalog, tfds_check  # pylint: disable=g-import-not-at-top
  tasks = [n for n in catalog.register_catalog() if n in seqio.TaskRegistry.names()]
  report = tfds_check.prepared_report(tasks, data_dir=args.data_dir)
  if not report:
    print("The catalog uses no TFDS datasets.")
    return 0
  for row in report:
    print(row.describe())
  return 0 if all(r.prepared for r in report) else 1


def main(argv: list[str] | None = None) -> int:
  args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
  return {"list": _list, "show": _show, "check": _check}[args.command](args)
