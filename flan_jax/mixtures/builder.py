"""Balanced Flan-style mixtures from a declarative spec, planned in pure Python.

A `MixtureSpec` lists submixes; each takes the tasks its patterns match and splits its weight
over the datasets examples-proportionally with a cap; inside a dataset the submix's format
split (e.g. 25% per zs/fs x opt/noopt) is renormalized over the format groups that dataset
has, and inverted formats get `inverted_rate` x the dataset's regular task (the math is
`rates.submix_rates` and `rates.mixture_shares`). `plan_mixture` matches tasks to submixes
and computes every task's share without SeqIO; `register_plan` registers one flat seqio.Mixture
whose rates are those shares (seqio's `get_rate` is then a dict lookup). docs/mixtures.md
states the rule with a worked example.

Cap semantics (`cap_mode`):
  'rate'     the cap only limits the sampling rate (the reference); every example of a
             large task is still seen over a long run.
  'truncate' the task is replaced by `{task}#cap{N}`, which really holds only its first
             N examples (see `truncation`); the rate is the same min(n, cap).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from typing import Callable, Iterable, Mapping, Sequence

from flan_jax import errors
from flan_jax.data import formats as formats_lib
from flan_jax.mixtures import flan_counts
from flan_jax.mixtures import rates

CAP_MODES = ("rate", "truncate")
# "flan": as FLAN's released code mixes (`rates.flan_code_rates`); "balanced": our earlier
# rule (`rates.submix_rates`: split renormalized per dataset, inversion on top).
RULES = ("flan", "balanced")
# Example counts under rule "flan": "flan" rates a variant with FLAN's stated count of it
# (`flan_counts`) where FLAN states one, else the task's count; "catalog": the task's count.
COUNTS = ("flan", "catalog")
FOUR_WAY = {"zs_opt": 0.25, "fs_opt": 0.25, "zs_noopt": 0.25, "fs_noopt": 0.25}
TWO_WAY = {"zs": 0.5, "fs": 0.5}
INVERTED_RATE = 0.3
BY_KEYS = ("submix", "format", "dataset")


@dataclasses.dataclass(frozen=True)
class Submix:
  """One source of a mixture: member patterns, top-level weight, per-task cap, format split."""
  name: str
  weight: float
  cap: int | None
  members: tuple[str, ...] = ()  # fnmatch patterns over task names, e.g. "flan2021.*".
  format_split: Mapping[str, float] = dataclasses.field(default_factory=lambda: dict(TWO_WAY))
  formats: tuple[str, ...] | None = None  # Prompt formats admitted (None: all).
  stated_counts: bool = False  # FLAN rule: few-shot variants count n - their exemplars.


@dataclasses.dataclass(frozen=True)
class MixtureSpec:
  """A whole mixture: its submixes, how caps act, and the inverted-task rate."""
  name: str
  submixes: tuple[Submix, ...]
  cap_mode: str = "rate"
  inverted_rate: float = INVERTED_RATE
  split: str = "train"
  rule: str = "balanced"
  counts: str = "catalog"

  def validate(self) -> None:
    """Raises ConfigError naming the bad field."""
    if self.cap_mode not in CAP_MODES:
      raise errors.ConfigError(f"cap_mode must be one of {CAP_MODES}, got {self.cap_mode!r}.")
    if self.rule not in RULES:
      raise errors.ConfigError(f"rule must be one of {RULES}, got {self.rule!r}.")
    if self.counts not in COUNTS:
      raise errors.ConfigError(f"counts must be one of {COUNTS}, got {self.counts!r}.")
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
  rate: float  # Weight inside its submix ("balanced": min(n, cap) x format fraction (x
  # inverted_rate); "flan": its fraction of the submix).
  share: float  # Expected fraction of sampled examples of the whole mixture.


@dataclasses.dataclass(frozen=True)
class MixturePlan:
  """The computed mixture: per-task rates and shares; submixes with no member."""
  spec: MixtureSpec
  rows: tuple[TaskRate, ...]
  empty_submixes: tuple[str, ...]

  def shares(self) -> dict[str, float]:
    return {r.task: r.share for r in self.rows}

  def submix_shares(self) -> dict[str, float]:
    """Each submix's share of the mixture (its weight renormalized over present submixes)."""
    out: dict[str, float] = {}
    for r in self.rows:
      out[r.submix] = out.get(r.submix, 0.0) + r.share
    return out

  def shares_by(self, keys: Sequence[str]) -> dict[tuple[str, ...], float]:
    """Shares summed by any of "submix", "format", "dataset" (in the order given)."""
    bad = [k for k in keys if k not in BY_KEYS]
    if bad or not keys:
      raise errors.ConfigError(
          f"--by takes a comma-separated list of {', '.join(BY_KEYS)}; got {','.join(keys)!r}.")
    out: dict[tuple[str, ...], float] = {}
    for r in self.rows:
      if r.share <= 0:
        continue
      fields = {"submix": r.submix, "format": r.task.rsplit(":", 1)[1],
                "dataset": _dataset(r.task)}
      key = tuple(fields[k] for k in keys)
      out[key] = out.get(key, 0.0) + r.share
    return out

  def flat_rates(self) -> list[tuple[str, float]]:
    """(task, share) of every sampled task, `#capN` names under cap_mode='truncate'."""
    caps = {s.name: s.cap for s in self.spec.submixes}
    out = []
    for r in self.rows:
      if r.share <= 0:
        continue
      cap = caps[r.submix]
      task = (formats_lib.truncated_name(r.task, cap)
              if self.spec.cap_mode == "truncate" and cap is not None else r.task)
      out.append((task, r.share))
    return out


def _members(sub: Submix, parsed: Mapping[str, str], taken: set[str]) -> list[tuple[str, str]]:
  """(task, format) pairs a submix takes from `parsed` ({task: format}); a task matched by
  an earlier submix is skipped. One compiled regex per submix: fast over 12,600 names."""
  if not sub.members:
    return []
  pattern = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in sub.members))
  return [(name, fmt) for name, fmt in parsed.items()
          if name not in taken and (sub.formats is None or fmt in sub.formats)
          and pattern.match(name)]


def flan_stated_counts(own_count: Callable[[str], bool] = lambda task: False
                       ) -> rates.StatedCount:
  """FLAN's stated count of a task's variant kind, except for tasks `own_count` says have
  their own (e.g. listed in a stats file)."""
  def stated(task: str, kind: str) -> int | None:
    return None if own_count(task) else flan_counts.stated_count(_dataset(task), kind)
  return stated


def plan_mixture(spec: MixtureSpec, task_names: Iterable[str],
                 count: Callable[[str], int],
                 stated: rates.StatedCount | None = None) -> MixturePlan:
  """Computes every task's rate and share; `count(task)` gives its example count; under
  `counts="flan"`, `stated` (default: `flan_stated_counts()`) FLAN's per-variant counts."""
  spec.validate()
  if spec.counts == "flan" and stated is None:
    stated = flan_stated_counts()
  if spec.counts != "flan":
    stated = None
  parsed = {}
  for name in sorted(set(task_names)):
    fields = formats_lib.parse_task_name(name)
    if fields is not None:
      parsed[name] = fields[2]
  taken: set[str] = set()
  raw = []  # (task, submix, group, n, format)
  for sub in spec.submixes:
    for task, fmt in _members(sub, parsed, taken):
      group = format_group(fmt, sub.format_split)
      if group is None:
        continue
      taken.add(task)
      n = count(task)
      if n < 0:
        raise errors.ConfigError(f"Task {task!r}: example count must be >= 0, got {n}.")
      raw.append((task, sub.name, group, int(n), fmt))
  members: dict[str, list[rates.Member]] = {s.name: [] for s in spec.submixes}
  for task, sub, group, n, fmt in raw:
    members[sub].append(rates.Member(task, _dataset(task), group, n, is_inverted(fmt), fmt))
  if spec.rule == "flan":
    task_rates = {s.name: rates.flan_code_rates(members[s.name], s.format_split, s.cap,
                                                spec.inverted_rate, s.stated_counts, stated)
                  for s in spec.submixes}
  else:
    task_rates = {s.name: rates.submix_rates(members[s.name], s.format_split, s.cap,
                                             spec.inverted_rate) for s in spec.submixes}
  shares = rates.mixture_shares({s.name: s.weight for s in spec.submixes}, task_rates)
  rows = [TaskRate(task, sub, group, n, task_rates[sub][task], shares[sub][task])
          for task, sub, group, n, _ in raw]
  present = {r.submix for r in rows if r.share > 0}
  empty = tuple(s.name for s in spec.submixes if s.name not in present)
  return MixturePlan(spec, tuple(rows), empty)


def _dataset(task: str) -> str:
  return task.rsplit(":", 1)[0]


def register_flat_mixture(name: str, rates: Sequence[tuple[str, float]],
                          overwrite: bool = False) -> str:
  """Registers one flat seqio.Mixture over `rates` ((task, rate) pairs); a `{task}#capN` name
  registers that truncated task first (its base task must be registered). Returns `name`."""
  import seqio  # pylint: disable=g-import-not-at-top
  from flan_jax.data import truncation  # pylint: disable=g-import-not-at-top
  if name in seqio.MixtureRegistry.names():
    if not overwrite:
      return name
    seqio.MixtureRegistry.remove(name)
  members = [(task, float(rate)) for task, rate in rates if rate > 0]
  if not members:
    raise errors.ConfigError(
        f"Mixture {name!r} has no member task with examples; check its member patterns "
        "against `flan-jax tasks list`.")
  for task, _ in members:
    if formats_lib.CAP_MARK in task:
      cap = int(task.split(formats_lib.CAP_MARK, 1)[1])
      truncation.truncated_task(formats_lib.base_task_name(task), cap)
  seqio.MixtureRegistry.add(name, members)
  return name


def register_plan(plan: MixturePlan, overwrite: bool = False) -> str:
  """Registers the plan as one flat seqio mixture; returns its name."""
  if not any(r.share > 0 for r in plan.rows):
    raise errors.ConfigError(
        f"Mixture {plan.spec.name!r} has no member task with examples; check the submix "
        f"patterns ({[(s.name, s.members) for s in plan.spec.submixes]}) against "
        "`flan-jax tasks list`.")
  return register_flat_mixture(plan.spec.name, plan.flat_rates(), overwrite=overwrite)


def register_mixture(spec: MixtureSpec, task_names: Iterable[str] | None = None,
                     stats_file: str | None = None, overwrite: bool = False) -> str:
  """Plans `spec` over the registered tasks (or `task_names`) and registers it.

  Counts come from `stats_file` ({task: {split: n}}) or what each task's source reports.
  """
  import seqio  # pylint: disable=g-import-not-at-top
  stats = rates.load_stats_file(stats_file) if stats_file else None
  names = list(seqio.TaskRegistry.names()) if task_names is None else list(task_names)
  names = [n for n in names if formats_lib.CAP_MARK not in n]
  in_stats = lambda t: bool(stats) and spec.split in stats.get(t, {})
  plan = plan_mixture(spec, names, lambda t: rates.num_examples(t, spec.split, stats),
                      flan_stated_counts(in_stats))
  return register_plan(plan, overwrite=overwrite)
