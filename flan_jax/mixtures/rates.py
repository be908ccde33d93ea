"""Example counts, capped examples-proportional rates and the shares a mixture samples.

The rate rule of a planned mixture (`builder.plan_mixture`) is here in pure Python:
`submix_rates` (a task's weight inside its submix) and `mixture_shares` (its expected share
of the whole mixture). Counts come from what SeqIO/TFDS report (`task.num_input_examples`,
which a TFDS source reads from its dataset info) or from a stats file; nothing here reads
the data.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Callable, Mapping, Sequence

from flan_jax import errors

# Stats file: {"task name": {"train": 12345, "validation": 678}, ...}
StatsTable = Mapping[str, Mapping[str, int]]


def capped_rate(num_examples: int, cap: int | None) -> float:
  """Examples-proportional rate with a cap: min(num_examples, cap)."""
  if num_examples < 0:
    raise errors.ConfigError(f"Example count must be >= 0, got {num_examples}.")
  return float(num_examples if cap is None else min(num_examples, cap))


@dataclasses.dataclass(frozen=True)
class Member:
  """One task of a submix as the rate rule sees it."""
  task: str
  dataset: str  # Tasks of one dataset share its capped count.
  group: str  # Format group of its submix's format split (zs/fs or zs_opt, ...).
  num_examples: int
  inverted: bool
  fmt: str = ""  # Prompt format (the FLAN-code rule places tasks by it).


def submix_rates(members: Sequence[Member], format_split: Mapping[str, float],
                 cap: int | None, inverted_rate: float) -> dict[str, float]:
  """Each member's weight inside its submix: min(n, cap) x its format fraction.

  The fraction is the group's share of `format_split`, renormalized over the groups the
  dataset has regular (non-inverted, non-empty) tasks in, split evenly among that group's
  tasks. An inverted task takes `inverted_rate` x its group's regular fraction (or the mean
  regular task's when its group has none); a dataset of only inverted tasks splits evenly.
  """
  regular: dict[str, dict[str, list[str]]] = {}  # dataset -> group -> regular tasks.
  all_tasks: dict[str, int] = {}
  for m in members:
    all_tasks[m.dataset] = all_tasks.get(m.dataset, 0) + 1
    if m.num_examples > 0 and not m.inverted:
      regular.setdefault(m.dataset, {}).setdefault(m.group, []).append(m.task)
  rates = {}
  for m in members:
    groups = regular.get(m.dataset, {})
    if groups and m.group in groups:
      fraction = (format_split[m.group] / sum(format_split[g] for g in groups)
                  / len(groups[m.group]))
    elif groups:  # An inverted format whose group holds no regular task: the mean regular one.
      fraction = 1.0 / sum(len(v) for v in groups.values())
    else:  # Only inverted tasks: they share the dataset equally.
      fraction = 1.0 / all_tasks[m.dataset]
    rates[m.task] = (capped_rate(m.num_examples, cap) * fraction
                     * (inverted_rate if m.inverted else 1.0))
  return rates


# The FLAN-code rule (google-research/FLAN flan/v2 mixtures_utils.py): each submix is a
# mixture of one sub-mixture per prompt setting (zs/fs x opt/noopt), and each setting's
# sub-mixture holds, per dataset, the task variants below, each rated min(count, cap) and
# normalized inside the setting alone. A slot names the FLAN variant and our formats that
# can stand for it, first present wins: a choice-less dataset's "opt" variants render
# without options in FLAN too, so its no-options formats fill them; CoT has only `fs_cot`
# for both few-shot variants.
FLAN_SLOTS: dict[str, tuple[tuple[str, int, tuple[str, ...]], ...]] = {
    # (FLAN variant, exemplars it subtracts from a stated count, our formats in order)
    "zs_opt": (("0to10_zero_shot", 0, ("zs_opt", "zs_noopt", "cot")),),
    "zs_noopt": (("0to10_no_opt_zero_shot", 0, ("zs_noopt", "cot")),),
    "fs_opt": (("template_mix_five_shot", 5, ("fsmix_opt", "fsmix_noopt", "fs_opt", "fs_noopt",
                                              "fs_cot")),
               ("0to10_x_shot", 25, ("fs_opt", "fs_noopt", "fs_cot"))),
    "fs_noopt": (("0to10_no_opt_x_shot", 25, ("fs_noopt", "fs_cot")),),
}
FLAN_SLOTS["zs"], FLAN_SLOTS["fs"] = FLAN_SLOTS["zs_opt"], FLAN_SLOTS["fs_opt"]
# The inverted (-II) sub-mixture of every setting: FLAN has zero- and few-shot variants of
# it; we render the few-shot ones with the zero-shot inverted format (no few-shot inversion).
FLAN_INVERTED_FORMATS = ("inv", "cot_inv")


# Which of FLAN's stated counts (`flan_counts.VARIANT_KINDS`) a variant is rated with.
VARIANT_KIND = {"0to10_zero_shot": "zero_shot", "0to10_no_opt_zero_shot": "zero_shot",
                "template_mix_five_shot": "five_shot", "0to10_x_shot": "x_shot",
                "0to10_no_opt_x_shot": "x_shot"}
# stated(task, kind) -> FLAN's stated count of that task's `kind` variants, or None.
StatedCount = Callable[[str, str], "int | None"]


def _slot_tasks(tasks: Mapping[str, Member], group: str, inverted: bool):
  """(task, exemplars, variant kind) filling each FLAN variant of `group` for one dataset."""
  by_fmt = {m.fmt: m for m in tasks.values() if m.inverted == inverted}
  out = []
  for variant, shots, candidates in FLAN_SLOTS[group]:
    if inverted:
      candidates = FLAN_INVERTED_FORMATS
    hit = next((by_fmt[f] for f in candidates if f in by_fmt), None)
    if hit is not None:
      out.append((hit, shots, VARIANT_KIND[variant]))
  return out


def flan_code_rates(members: Sequence[Member], format_split: Mapping[str, float],
                    cap: int | None, inverted_rate: float,
                    stated_counts: bool = False,
                    stated: StatedCount | None = None) -> dict[str, float]:
  """Each member's weight inside its submix as FLAN's released code mixes it.

  Per setting (group of `format_split`): every dataset's variants (`FLAN_SLOTS`) get
  min(count, cap) and are normalized inside the setting; the inverted variants form their
  own sub-mixture, weighted `inverted_rate` against 1.0 for the regular ones (seqio's
  mixture of mixtures). Settings are weighted by `format_split`, renormalized over the
  settings with members. `stated_counts`: a few-shot variant counts count - its exemplars
  (FLAN's few-shot source over a source that states its size, e.g. the CoT files). A task
  standing in for several variants sums their weights. `stated(task, kind)`: FLAN's own
  count of that variant kind (`flan_counts`), used as is where it gives one.
  """
  datasets: dict[str, dict[str, Member]] = {}
  for m in members:
    if m.num_examples > 0:
      datasets.setdefault(m.dataset, {})[m.task] = m
  parts: dict[str, dict[bool, list[tuple[str, float]]]] = {}
  for group in format_split:
    for tasks in datasets.values():
      for inverted in (False, True):
        for m, shots, kind in _slot_tasks(tasks, group, inverted):
          n = stated(m.task, kind) if stated is not None else None
          if n is None:
            n = max(m.num_examples - shots, 0) if stated_counts else m.num_examples
          parts.setdefault(group, {}).setdefault(inverted, []).append(
              (m.task, capped_rate(n, cap)))
  present = {g: p for g, p in parts.items() if sum(r for _, r in p.get(False, [])) > 0}
  split_total = sum(format_split[g] for g in present)
  out = {m.task: 0.0 for m in members}
  for group, by_kind in present.items():
    kinds = {False: 1.0, True: inverted_rate if by_kind.get(True) else 0.0}
    kind_total = sum(kinds.values())
    for inverted, rated in by_kind.items():
      total = sum(r for _, r in rated)
      if total <= 0 or kinds[inverted] <= 0:
        continue
      for task, r in rated:
        out[task] += format_split[group] / split_total * kinds[inverted] / kind_total * r / total
  return out


def mixture_shares(weights: Mapping[str, float],
                   rates: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
  """{submix: {task: expected share}}: the submix's weight, renormalized over the submixes
  with a positive weight and total rate, x the task's rate / its submix's total rate."""
  totals = {sub: sum(task_rates.values()) for sub, task_rates in rates.items()}
  present = [s for s in weights if totals.get(s, 0.0) > 0 and weights[s] > 0]
  weight_total = sum(weights[s] for s in present)
  return {sub: {task: (weights[sub] / weight_total * rate / totals[sub]
                       if sub in present else 0.0) for task, rate in task_rates.items()}
          for sub, task_rates in rates.items()}


def load_stats_file(path: str) -> dict[str, dict[str, int]]:
  """Reads `{task: {split: count}}` JSON (e.g. written by a TFDS/SeqIO stats job)."""
  try:
    with open(path, encoding="utf-8") as f:
      table = json.load(f)
  except (OSError, json.JSONDecodeError) as e:
    raise errors.ConfigError(f"Cannot read stats file {path!r}: {e}") from e
  if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
    raise errors.ConfigError(
        f"Stats file {path!r} must map task names to {{split: count}}, e.g. "
        '{"toy.category:zs_opt": {"train": 5000}}.')
  return {task: {split: int(n) for split, n in splits.items()} for task, splits in table.items()}


def num_examples(task_name: str, split: str, stats: StatsTable | None = None) -> int:
  """The task's example count: the stats file if it lists it, else what SeqIO reports."""
  if stats and task_name in stats and split in stats[task_name]:
    return int(stats[task_name][split])
  import seqio  # pylint: disable=g-import-not-at-top
  task = seqio.TaskRegistry.get(task_name)
  n = task.num_input_examples(split) if split in task.splits else None
  if n is None:
    raise errors.ConfigError(
        f"Task {task_name!r} does not report how many {split!r} examples it has (its data "
        "source has no num_input_examples). Pass a stats file ({task: {split: count}}) "
        "with --stats / stats_file, or give the source its counts.")
  return int(n)


def _flat_rates(mixture, memo: dict) -> dict[str, float]:
  """seqio's `get_rate` for every task at once: a sub-mixture's rate is spread over its
  tasks in proportion to their rates inside it (memoized: linear in the mixture's size)."""
  import seqio  # pylint: disable=g-import-not-at-top
  if mixture.name in memo:
    return memo[mixture.name]
  out: dict[str, float] = {}
  mixtures = set(seqio.MixtureRegistry.names())
  for name, rate in mixture.rate_per_task_name.items():
    if name in mixtures:
      inner = _flat_rates(seqio.MixtureRegistry.get(name), memo)
      total = sum(inner.values())
      for task, r in inner.items():
        out[task] = out.get(task, 0.0) + (float(rate) * r / total if total else 0.0)
    else:
      value = float(rate(seqio.TaskRegistry.get(name)) if callable(rate) else rate)
      out[name] = out.get(name, 0.0) + value
  memo[mixture.name] = out
  return out


def task_rates(provider) -> dict[str, float]:
  """Each task's multiplied-out rate (seqio's `get_rate`, nested weights included)."""
  import seqio  # pylint: disable=g-import-not-at-top
  if isinstance(provider, seqio.Task):
    return {provider.name: 1.0}
  return _flat_rates(provider, {})


def normalized(rates: Mapping[str, float]) -> dict[str, float]:
  """Rates scaled to sum to one (the expected share of sampled examples)."""
  total = sum(rates.values())
  if total <= 0:
    raise errors.ConfigError("All mixture rates are zero; nothing would be sampled.")
  return {k: v / total for k, v in rates.items()}


def member_rates(mixture) -> dict[str, float]:
  """Each task's rate inside the innermost mixture that lists it."""
  import seqio  # pylint: disable=g-import-not-at-top
  out = {}
  for name, rate in mixture.rate_per_task_name.items():
    if name in seqio.MixtureRegistry.names():
      out.update(member_rates(seqio.MixtureRegistry.get(name)))
    else:
      out[name] = float(rate(seqio.TaskRegistry.get(name)) if callable(rate) else rate)
  return out


def submixture_shares(mixture) -> dict[str, float]:
  """Expected share of each direct member (task or sub-mixture) of a mixture."""
  import seqio  # pylint: disable=g-import-not-at-top
  rates = {}
  for name, rate in mixture.rate_per_task_name.items():
    if name in seqio.MixtureRegistry.names():
      rates[name] = float(rate)
    else:
      rates[name] = float(rate(seqio.TaskRegistry.get(name)) if callable(rate) else rate)
  return normalized(rates)


@dataclasses.dataclass(frozen=True)
class MixtureStats:
  """What `flan-jax mixtures stats` reports about a task or mixture."""
  name: str
  split: str
  rates: dict[str, float]  # Recipe: weight inside its submix; seqio: rate in innermost mixture.
  shares: dict[str, float]
  num_examples: dict[str, int | None]
  submixtures: dict[str, float]

  def to_json(self) -> dict:
    return {"name": self.name, "split": self.split, "shares": self.shares,
            "rates": self.rates, "num_examples": self.num_examples,
            "submixtures": self.submixtures}


def plan_stats(plan) -> MixtureStats:
  """Stats of a recipe plan (`builder.MixturePlan`): no SeqIO, nothing read."""
  rows = [r for r in plan.rows if r.share > 0]
  subs = plan.submix_shares()
  return MixtureStats(plan.spec.name, plan.spec.split, {r.task: r.rate for r in rows},
                      {r.task: r.share for r in rows}, {r.task: r.num_examples for r in rows},
                      {f"{plan.spec.name}.{k}": v for k, v in subs.items() if v > 0}
                      if len(subs) > 1 else {})


def mixture_stats(provider, split: str = "train", stats: StatsTable | None = None) -> MixtureStats:
  """Rates, expected shares and example counts of every task of a seqio task or mixture."""
  import seqio  # pylint: disable=g-import-not-at-top
  shares = normalized(task_rates(provider))
  counts = {}
  for task_name in shares:
    try:
      counts[task_name] = num_examples(task_name, split, stats)
    except errors.ConfigError:
      counts[task_name] = None
  subs = submixture_shares(provider) if isinstance(provider, seqio.Mixture) else {}
  if subs and not any(name in seqio.MixtureRegistry.names() for name in subs):
    subs = {}  # A flat mixture: its members are the tasks already listed.
  inner = member_rates(provider) if isinstance(provider, seqio.Mixture) else {provider.name: 1.0}
  return MixtureStats(provider.name, split, {t: inner.get(t, 0.0) for t in shares}, shares,
                      counts, subs)
