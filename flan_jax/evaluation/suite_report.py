"""Per-task, per-category and suite-average figures of an eval, as a table and as JSON.

Two averages, both named: "average" is the macro average over tasks (BBH: over the 27 files,
as the BBH and Flan papers report it; MMLU: over the 57 subjects, and per category over that
category's subjects); "average_over_questions" weighs each task by its number of examples, as
MMLU's reference scripts (hendrycks/test `evaluate.py`, `evaluate_flan.py`, the one published
for Flan-T5) print it: compare that one with published Flan-T5 MMLU figures. Every row says how
many examples it scored.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

NUM_EXAMPLES = "num_examples"
_FIRST = ("accuracy", "rank_accuracy")


def _mean(values: Sequence[float]) -> float:
  return sum(values) / len(values)


def _summary(per_task: Mapping[str, Mapping[str, float]], names: Sequence[str]) -> dict:
  """Macro average of every metric all `names` share; num_examples summed; num_tasks."""
  shared = set.intersection(*(set(per_task[n]) for n in names)) - {NUM_EXAMPLES}
  out = {m: _mean([per_task[n][m] for n in names]) for m in sorted(shared)}
  out[NUM_EXAMPLES] = float(sum(per_task[n].get(NUM_EXAMPLES, 0.0) for n in names))
  out["num_tasks"] = float(len(names))
  return out


def _over_questions(per_task: Mapping[str, Mapping[str, float]], names: Sequence[str]) -> dict:
  """Every shared metric averaged over examples (each task weighed by its num_examples)."""
  shared = set.intersection(*(set(per_task[n]) for n in names)) - {NUM_EXAMPLES}
  total = sum(per_task[n].get(NUM_EXAMPLES, 0.0) for n in names)
  out = {m: sum(per_task[n][m] * per_task[n].get(NUM_EXAMPLES, 0.0) for n in names) / total
         for m in sorted(shared)} if total else {}
  out[NUM_EXAMPLES] = float(total)
  out["num_tasks"] = float(len(names))
  return out


def build_report(results: Mapping[str, Mapping[str, float]],
                 category_of: Callable[[str], str | None] = lambda name: None) -> dict:
  """{"tasks": {task: metrics}, "categories": {category: summary}, "average": summary,
  "average_over_questions": summary}.

  The averages are present when there are two tasks or more; "categories" when `category_of`
  names a category for some task.
  """
  tasks = {name: dict(results[name]) for name in sorted(results)}
  report: dict = {"tasks": tasks}
  groups: dict[str, list[str]] = {}
  for name in tasks:
    category = category_of(name)
    if category:
      groups.setdefault(category, []).append(name)
  if groups:
    report["categories"] = {c: _summary(tasks, names) for c, names in sorted(groups.items())}
  if len(tasks) > 1:
    report["average"] = _summary(tasks, list(tasks))
    report["average_over_questions"] = _over_questions(tasks, list(tasks))
  return report


def _columns(report: Mapping) -> list[str]:
  seen = {m for metrics in report["tasks"].values() for m in metrics} - {NUM_EXAMPLES}
  return [m for m in _FIRST if m in seen] + sorted(seen - set(_FIRST))


def format_table(report: Mapping, label: Callable[[str], str] = lambda name: name,
                 title: str = "task") -> str:
  """Aligned text: one row per task (label, n, metrics), then categories, the average last."""
  columns = _columns(report)
  rows = [(label(name), metrics) for name, metrics in report["tasks"].items()]
  rows += [(f"[{c}]", m) for c, m in report.get("categories", {}).items()]
  if "average" in report:
    rows.append((f"average ({int(report['average']['num_tasks'])} tasks)", report["average"]))
  if "average_over_questions" in report:
    rows.append(("average over questions", report["average_over_questions"]))
  width = max([len(title)] + [len(r[0]) for r in rows])
  lines = [f"{title:<{width}}  {'n':>6}  " + "  ".join(f"{c:>13}" for c in columns)]
  for name, metrics in rows:
    cells = [f"{metrics[c]:>13.2f}" if c in metrics else f"{'-':>13}" for c in columns]
    lines.append(f"{name:<{width}}  {int(metrics.get(NUM_EXAMPLES, 0)):>6}  " + "  ".join(cells))
  return "\n".join(lines)
