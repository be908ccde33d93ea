"""`flan-jax evaluate-predictions --task NAME --predictions FILE.jsonl`: score any system's output.

Rows {prediction, target} (a mixture's rows also name their `task`) are scored with the task's
own answer extraction and metrics; needs no suite data on disk. Prints the table, then one
final JSON line of metrics ("accuracy" in percent; for a mixture the average over its tasks,
and `accuracy_over_questions`, the average over examples). A mixture whose file holds rows for
only some of its tasks is scored over those, with a warning naming how many are missing
(`num_tasks_missing` in the JSON line).
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str]) -> int:
  parser = argparse.ArgumentParser(
      formatter_class=argparse.ArgumentDefaultsHelpFormatter,
      prog="flan-jax evaluate-predictions", description=__doc__)
  parser.add_argument("--task", required=True, help="task or mixture name, e.g. bbh_cot.")
  parser.add_argument("--predictions", required=True, help="JSON-lines file of rows.")
  args = parser.parse_args(argv)
  from flan_jax.evaluation import prediction_scoring, suite_report, suite_tasks
  prediction_scoring.check_path(args.predictions)
  from flan_jax.catalog import lookup as catalog
  provider = catalog.get_mixture_or_task(args.task)
  results = prediction_scoring.score_file(provider, args.predictions)
  missing = prediction_scoring.missing_tasks(provider, results)

  def category(name):
    info = suite_tasks.suite_task_info(name)
    return info.category if info else None

  report = suite_report.build_report(results, category)
  print(suite_report.format_table(report))
  final = dict(report.get("average") or next(iter(report["tasks"].values())))
  for metric, value in report.get("average_over_questions", {}).items():
    if metric not in ("num_examples", "num_tasks"):
      final[f"{metric}_over_questions"] = value
  if missing:
    total = len(results) + len(missing)
    print(f"flan-jax: warning: {args.predictions} holds predictions for {len(results)} of the "
          f"{total} tasks of {args.task}; the averages are over those {len(results)} only, not "
          f"the suite's (missing: {', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''})"
          ".", file=sys.stderr)
    final["num_tasks_missing"] = float(len(missing))
  print(json.dumps({"task": args.task, **final}))
  return 0
