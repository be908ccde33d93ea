"""`flan-jax evaluate-predictions --task NAME --predictions FILE.jsonl`: score any system's output.

Rows {prediction, target} (a mixture's rows also name their `task`) are scored with the task's
own answer extraction and metrics; needs no suite data on disk. Prints the table, then one
final JSON line of metrics ("accuracy" in percent; the suite average for a mixture).
"""

from __future__ import annotations

import argparse
import json


def main(argv: list[str]) -> int:
  parser = argparse.ArgumentParser(
      formatter_class=argparse.ArgumentDefaultsHelpFormatter,
      prog="flan-jax evaluate-predictions", description=__doc__)
  parser.add_argument("--task", required=True, help="task or mixture name, e.g. bbh_cot.")
  parser.add_argument("--predictions", required=True, help="JSON-lines file of rows.")
  args = parser.parse_args(argv)
  from flan_jax.catalog import lookup as catalog
  from flan_jax.evaluation import prediction_scoring, suite_report, suite_tasks
  provider = catalog.get_mixture_or_task(args.task)
  results = prediction_scoring.score_file(provider, args.predictions)

  def category(name):
    info = suite_tasks.suite_task_info(name)
    return info.category if info else None

  report = suite_report.build_report(results, category)
  print(suite_report.format_table(report))
  final = report.get("average") or next(iter(report["tasks"].values()))
  print(json.dumps({"task": args.task, **final}))
  return 0
