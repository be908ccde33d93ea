"""Nested, balanced SeqIO mixtures from a declarative spec.

A `MixtureSpec` lists submixes; each takes the registered tasks its patterns match, groups
them by prompt format, and rates each task examples-proportionally with a cap (inverted
tasks at `inverted_rate`). `register_mixture` turns the plan into plain nested seqio
mixtures `{name}` -> `{name}.{submix}` -> `{name}.{submix}.{group}` -> tasks, so seqio's
own `get_rate` multiplies the weights out.

Cap semantics (`cap_mode`):
  'rate'     the cap only limits the sampling rate (the reference); every example of a
             large task is still seen over a long run.
  'truncate' the task is replaced by `{task}#cap{N}`, which really holds only its first
             N examples (see `truncation`); the rate is the same min(n, cap).
"""

from __future__ import annotations

import dataclasses
import fnmatch
from typing import Callable, Iterable, Mapping, Sequence

from flan_jax import errors
from flan_jax.data import formats as formats_lib

CAP_MODES = ("rate", "truncate")
FOUR_WAY = {"zs_opt": 0.25, "fs_opt": 0.25, "zs_noopt": 0.25, "fs_noopt": 0.25}
TWO_WAY = {"zs": 0.5, "fs": 0.5}
INVERTED_RATE = 0.3


@dataclasses.dataclass(frozen=True)
class Submix:
  """One source of a mixture: member patterns, top-level weight, per-task cap, format split."""
  name: str
  weight: float
  cap: int | None
  members: tuple[str, ...] = ()  # fnmatch patterns over task names, e.g. "flan2021.*".
  format_split: Mapping[str, float] = dataclasses.field(default_factory=lambda: dict(TWO_WAY))
  formats: tuple[str, ...] | None = None  # Prompt formats admitted (None: all).


@dataclasses.dataclass(frozen=True)
class MixtureSpec:
  """A whole mixture: its submixes, how caps act, and the inverted-task rate."""
  name: str
  submixes: tuple[Submix, ...]
  cap_mode: str = "rate"
  inverted_rate: float = INVERTED_RATE
  split: str = "train"

  def validate(self) -> None:
    """Raises ConfigError naming the bad field."""
    if self.cap_mode not in CAP_MODES:
      raise errors.ConfigError(f"cap_mode must be one of {CAP_MODES}, got {self.cap_mode!r}.")
    if self.inverted_rate < 0:
      raise errors.ConfigError(f"inverted_rate must be >= 0, got {self.inverted_rate}.")
    seen = set()
    for sub in self.submixes:
      if sub.name in seen:
        raise errors.ConfigError(f"Submix {sub.name!r} appears twice in {self.name!r}.")
      seen.add(sub.name)
      if sub.weight < 0:
        raise errors.ConfigError(f"Submix {sub.name!r}: weight must be >= 0, got {sub.weight}.")
      if sub.cap is not None and sub.cap <= 0:
        raise errors.ConfigError(f"Submix {sub.name!r}: cap must be positive, got {sub.cap}.")
      bad = {g: s for g, s in sub.format_split.items()
             if g not in FOUR_WAY and g not in TWO_WAY or s <= 0}
      if bad or not sub.format_split:
        raise errors.ConfigError(
            f"Submix {sub.name!r}: format_split {dict(sub.format_split)} must give positive "
            f"shares to groups among {sorted(FOUR_WAY)} or {sorted(TWO_WAY)}.")

  def replace_submixes(self, weights: Mapping[str, float] | None = None,
                       caps: Mapping[str, int | None] | None = None,
                       members: Mapping[str, Sequence[str]] | None = None) -> "MixtureSpec":
    """A copy with some submixes' weights, caps or member patterns changed."""
    names = {s.name for s in self.submixes}
    for what, table in (("weights", weights), ("caps", caps), ("members", members)):
      for key in table or {}:
        if key not in names:
          raise errors.unknown_name(f"submix (in {what})", key, names)
    subs = []
    for s in self.submixes:
      subs.append(dataclasses.replace(
          s, weight=float((weights or {}).get(s.name, s.weight)),
          cap=(caps or {}).get(s.name, s.cap),
          members=tuple((members or {}).get(s.name, s.members))))
    return dataclasses.replace(self, submixes=tuple(subs))


def format_group(fmt_name: str, groups: Iterable[str]) -> str | None:
  """The group of `groups` a prompt format falls in: by shots (zs/fs), then options."""
  fmt = formats_lib.FORMATS.get(fmt_name)
  if fmt is None:
    raise errors.unknown_name("prompt format", fmt_name, formats_lib.FORMATS)
  groups = set(groups)
  shots = "fs" if fmt.few_shot else "zs"
  if shots in groups:
    return shots
  key = f"{shots}_{'opt' if fmt.options else 'noopt'}"
  return key if key in groups else None


def is_inverted(fmt_name: str) -> bool:
  fmt = formats_lib.FORMATS.get(fmt_name)
  return bool(fmt and fmt.inversion)


@dataclasses.dataclass(frozen=True)
class TaskRate:
  """One task's place in a plan: where it sits, its count, rate and expected share."""
  task: str
  submix: str
  group: str
  num_examples: int
  rate: float  # min(num_examples, cap), times inverted_rate for inverted formats.
  share: float  # Expected fraction of sampled examples.


@dataclasses.dataclass(frozen=True)
class MixturePlan:
  """The computed mixture: per-task rates and shares; submixes with no registered member."""
  spec: MixtureSpec
  rows: tuple[TaskRate, ...]
  empty_submixes: tuple[str, ...]

  def shares(self) -> dict[str, float]:
    return {r.task: r.share for r in self.rows}

  def group_rates(self, submix: str) -> dict[str, float]:
    """The format-group shares (as given) of the groups that have members."""
    sub = next(s for s in self.spec.submixes if s.name == submix)
    present = {r.group for r in self.rows if r.submix == submix and r.rate > 0}
    return {g: float(s) for g, s in sub.format_split.items() if g in present}

  def submix_weights(self) -> dict[str, float]:
    present = {r.submix for r in self.rows if r.rate > 0}
    return {s.name: float(s.weight) for s in self.spec.submixes if s.name in present}


def _members(sub: Submix, task_names: Sequence[str], taken: set[str]) -> list[tuple[str, str]]:
  """(task, format) pairs a submix takes; a task matched by an earlier submix is skipped."""
  out = []
  for name in task_names:
    parsed = formats_lib.parse_task_name(name)
    if name in taken or parsed is None or not any(fnmatch.fnmatchcase(name, p) for p in sub.members):
      continue
    if sub.formats is not None and parsed[2] not in sub.formats:
      continue
    out.append((name, parsed[2]))
  return out


def plan_mixture(spec: MixtureSpec, task_names: Iterable[str],
                 count: Callable[[str], int]) -> MixturePlan:
  """Computes every task's rate and share; `count(task)` gives its example count."""
  spec.validate()
  names = sorted(set(task_names))
  taken: set[str] = set()
  raw = []  # (task, submix, group, n, rate)
  for sub in spec.submixes:
    for task, fmt in _members(sub, names, taken):
      group = format_group(fmt, sub.format_split)
      if group is None:
        continue
      taken.add(task)
      n = count(task)
      rate = float(n if sub.cap is None else min(n, sub.cap))
      raw.append((task, sub.name, group, n, rate * (spec.inverted_rate if is_inverted(fmt) else 1.0)))
  rows = _shares(spec, raw)
  present = {r.submix for r in rows if r.rate > 0}
  empty = tuple(s.name for s in spec.submixes if s.name not in present)
  return MixturePlan(spec, tuple(rows), empty)


def _shares(spec: MixtureSpec, raw: list[tuple]) -> list[TaskRate]:
  """Multiplies submix weight x group share x rate, each normalized over what is present."""
  subs = {s.name: s for s in spec.submixes}
  rate_totals: dict[tuple[str, str], float] = {}
  for _, sub, group, _, rate in raw:
    if rate > 0:
      rate_totals[(sub, group)] = rate_totals.get((sub, group), 0.0) + rate
  group_totals: dict[str, float] = {}
  for sub, group in rate_totals:
    group_totals[sub] = group_totals.get(sub, 0.0) + subs[sub].format_split[group]
  sub_total = sum(subs[s].weight for s in group_totals)
  rows = []
  for task, sub, group, n, rate in raw:
    share = 0.0
    if rate > 0 and sub_total > 0:
      share = (subs[sub].weight / sub_total * subs[sub].format_split[group] / group_totals[sub]
               * rate / rate_totals[(sub, group)])
    rows.append(TaskRate(task, sub, group, n, rate, share))
  return rows


def child_name(parent: str, child: str) -> str:
  return f"{parent}.{child}"


def register_plan(plan: MixturePlan, overwrite: bool = False) -> str:
  """Registers the plan as nested seqio mixtures; returns the top-level name."""
  import seqio  # pylint: disable=g-import-not-at-top
  from flan_jax.mixtures import truncation  # pylint: disable=g-import-not-at-top
  spec = plan.spec
  if spec.name in seqio.MixtureRegistry.names():
    if not overwrite:
      return spec.name
    remove_mixture(spec.name)
  rows = [r for r in plan.rows if r.rate > 0]
  if not rows:
    raise errors.ConfigError(
        f"Mixture {spec.name!r} has no member task with examples; check the submix patterns "
        f"({[(s.name, s.members) for s in spec.submixes]}) against `flan-jax tasks list`.")
  caps = {s.name: s.cap for s in spec.submixes}
  top = []
  for sub, weight in plan.submix_weights().items():
    sub_name = child_name(spec.name, sub)
    groups = []
    for group, share in plan.group_rates(sub).items():
      members = []
      for r in rows:
        if r.submix == sub and r.group == group:
          task = r.task
          if spec.cap_mode == "truncate" and caps[sub] is not None:
            task = truncation.truncated_task(r.task, caps[sub])
          members.append((task, r.rate))
      group_name = child_name(sub_name, group)
      seqio.MixtureRegistry.add(group_name, members)
      groups.append((group_name, share))
    seqio.MixtureRegistry.add(sub_name, groups)
    top.append((sub_name, weight))
  seqio.MixtureRegistry.add(spec.name, top)
  return spec.name


def remove_mixture(name: str) -> None:
  """Removes a mixture and the nested `{name}.*` mixtures registered under it."""
  import seqio  # pylint: disable=g-import-not-at-top
  for other in list(seqio.MixtureRegistry.names()):
    if other == name or other.startswith(name + "."):
      seqio.MixtureRegistry.remove(other)


def register_mixture(spec: MixtureSpec, task_names: Iterable[str] | None = None,
                     stats_file: str | None = None, overwrite: bool = False) -> str:
  """Plans `spec` over the registered tasks (or `task_names`) and registers it.

  Counts come from `stats_file` ({task: {split: n}}) or what each task's source reports.
  """
  import seqio  # pylint: disable=g-import-not-at-top
  from flan_jax.mixtures import rates  # pylint: disable=g-import-not-at-top
  stats = rates.load_stats_file(stats_file) if stats_file else None
  names = list(seqio.TaskRegistry.names()) if task_names is None else list(task_names)
  plan = plan_mixture(spec, names, lambda t: rates.num_examples(t, spec.split, stats))
  return register_plan(plan, overwrite=overwrite)
