"""`flan-jax contamination MIXTURE --against SUITE`: eval examples whose text a training mixture
contains (a shared 13-word n-gram, as GPT-3 and PaLM checked), per task.

Streams the mixture's train split (bounded memory: only the eval side is indexed) and prints,
per eval task, how many examples it checked and how many overlap; --show K prints K flagged
examples per task with the shared n-gram. The final line is JSON.
"""

from __future__ import annotations

import argparse
import json


def main(argv: list[str]) -> int:
  from flan_jax.cli import evaluate as evaluate_cli
  from flan_jax.evaluation import contamination as lib
  parser = argparse.ArgumentParser(
      formatter_class=argparse.ArgumentDefaultsHelpFormatter,
      prog="flan-jax contamination", description=__doc__)
  parser.add_argument("mixture", help="training task or mixture, e.g. flan2022.")
  parser.add_argument("--against", required=True, help="eval task or mixture, e.g. mmlu_direct.")
  parser.add_argument("--split", default="train", help="training split to read.")
  parser.add_argument("--against_split", default=None,
                      help="eval split; default: validation, or test for the held-out suites.")
  parser.add_argument("--ngram", type=int, default=lib.DEFAULT_NGRAM, help="words per n-gram.")
  parser.add_argument("--max_train_examples", type=int, default=None, help="per training task.")
  parser.add_argument("--max_eval_examples", type=int, default=None, help="per eval task.")
  parser.add_argument("--show", type=int, default=0, help="flagged examples to print per task.")
  evaluate_cli.add_suite_dir_arguments(parser)
  args = parser.parse_args(argv)
  if args.ngram < 1:
    parser.error("--ngram must be at least 1.")
  evaluate_cli.apply_suite_dirs(args)
  from flan_jax.catalog import lookup as catalog
  from flan_jax.evaluation import evaluator as evaluator_lib
  train = catalog.get_mixture_or_task(args.mixture)
  against = catalog.get_mixture_or_task(args.against)
  eval_tasks = evaluator_lib.subtasks(against)
  split = evaluator_lib.eval_split([t.name for t in eval_tasks], args.against_split)
  index = lib.EvalIndex({t.name: list(_texts(t, split, args.max_eval_examples))
                         for t in eval_tasks if split in t.splits},
                        lib.ContaminationConfig(n=args.ngram))
  train_tasks = [t for t in evaluator_lib.subtasks(train) if args.split in t.splits]
  read = lib.scan(index, (text for t in train_tasks
                          for text in _texts(t, args.split, args.max_train_examples)))
  report = lib.overlap_report(index)
  print(f"{args.against} ({split}) against {args.mixture} ({args.split}: {read} examples of "
        f"{len(train_tasks)} task(s)), {args.ngram}-gram overlap:")
  width = max([4] + [len(n) for n in report])
  print(f"{'task':<{width}}  {'n':>6}  {'overlap':>7}  {'percent':>7}")
  for name, row in report.items():
    print(f"{name:<{width}}  {row['num_examples']:>6}  {row['contaminated']:>7}  "
          f"{row['percent']:>7.2f}")
    for i in row["examples"][:args.show]:
      print(f"    example {i}: \"{index.overlapping_ngrams(name, i)[0]}\"")
  total = sum(r["num_examples"] for r in report.values())
  flagged = sum(r["contaminated"] for r in report.values())
  print(json.dumps({"mixture": args.mixture, "against": args.against, "ngram": args.ngram,
                    "train_examples": read, "num_examples": total, "contaminated": flagged,
                    "tasks": {n: {k: v for k, v in r.items() if k != "examples"}
                              for n, r in report.items()}}))
  return 0


def _texts(task, split: str, limit: int | None):
  """Each example's prompt and target text, in order."""
  ds = task.get_dataset(None, split=split, shuffle=False, num_epochs=1)
  if limit:
    ds = ds.take(limit)
  for ex in ds.as_numpy_iterator():
    parts = [ex.get(f"{k}_pretokenized", b"") for k in ("inputs", "targets")]
    yield "\n".join(p.decode("utf-8", "replace") if isinstance(p, bytes) else str(p)
                    for p in parts)
