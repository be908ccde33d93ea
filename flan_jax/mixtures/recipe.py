"""The Flan 2022 mixture recipe (FLAN_RECIPE.md) as data, its named mixtures, and a toy demo.

`MIXTURE_NAMES` are the recipe mixtures the catalog resolves lazily: `flan2022`, one mixture
per submix (`flan2022_flan2021`, ...: cache or mix submixes separately) and the toy demos.
`recipe_rates(name, specs)` computes their flat (task, rate) lists from the catalog's
DatasetSpecs alone (example counts and task names): pure Python, no TensorFlow or SeqIO, so
`mixtures stats flan2022` plans 12,600 tasks in well under a second. The rule is in
`builder` and docs/mixtures.md.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

from flan_jax import errors
from flan_jax.catalog import spec as catalog_spec
from flan_jax.data import formats as formats_lib
from flan_jax.mixtures import builder

COT_FORMATS = ("cot", "fs_cot", "cot_inv")
NON_COT_FORMATS = ("zs_opt", "fs_opt", "zs_noopt", "fs_noopt", "fsmix_opt", "fsmix_noopt", "inv")
# FLAN's flan2021, t0 and niv2 have no inverted tasks (only CoT-II and Dialog-II do).
NON_INVERTED_FORMATS = tuple(f for f in NON_COT_FORMATS if f != "inv")

FLAN_2022 = builder.MixtureSpec(
    name="flan2022",
    submixes=(
        builder.Submix("flan2021", 0.40, 30_000, ("flan2021.*",), builder.FOUR_WAY,
                       NON_INVERTED_FORMATS),
        builder.Submix("t0", 0.32, 20_000, ("t0.*",), builder.FOUR_WAY, NON_INVERTED_FORMATS),
        builder.Submix("niv2", 0.20, 5_000, ("niv2.*",), builder.TWO_WAY, NON_INVERTED_FORMATS),
        # The CoT files state their line counts, so FLAN's few-shot CoT tasks count n - shots.
        builder.Submix("cot", 0.05, 100_000, ("cot.*",), builder.TWO_WAY, COT_FORMATS,
                       stated_counts=True),
        builder.Submix("dialog", 0.03, 200_000, ("dialog.*",), builder.TWO_WAY,
                       NON_COT_FORMATS),
    ),
    rule="flan",
    counts="flan",
)
SUBMIX_NAMES = tuple(s.name for s in FLAN_2022.submixes)

# Toy families standing in for each source; every family's CoT formats go to `cot`.
TOY_MEMBERS = {
    "flan2021": ("toy.category:*", "toy.entailment:*"),
    "t0": ("toy.arithmetic:*", "toy.list_ops:*"),
    "niv2": ("toy.compare_numbers:*",),
    "cot": ("toy.*:*",),
    "dialog": ("toy.dialog:*",),
}
TOY_MIXTURE = "toy_flan2022"
TOY_TRUNCATED_MIXTURE = "toy_flan2022_truncated"
# Recipe caps / 10, so that truncation bites on 5,000-example toy tasks (t0, niv2).
TOY_TRUNCATION_CAPS = {"flan2021": 3_000, "t0": 2_000, "niv2": 500, "cot": 10_000,
                       "dialog": 20_000}
TOY_TRAIN_EXAMPLES = 5_000  # flan_jax.data.toy.source.ToyConfig.train_size

MIXTURE_NAMES: tuple[str, ...] = (
    (FLAN_2022.name,) + tuple(f"{FLAN_2022.name}_{s}" for s in SUBMIX_NAMES)
    + (TOY_MIXTURE, TOY_TRUNCATED_MIXTURE))


def recipe_spec(name: str = FLAN_2022.name, *,
                members: Mapping[str, Sequence[str]] | None = None,
                weights: Mapping[str, float] | None = None,
                caps: Mapping[str, int | None] | None = None,
                cap_mode: str = "rate",
                inverted_rate: float = builder.INVERTED_RATE,
                split: str = "train",
                recipe: builder.MixtureSpec = FLAN_2022,
                rule: str | None = None,
                flan2021_inversion: bool | None = None,
                counts: str | None = None) -> builder.MixtureSpec:
  """The recipe with a new name and any submix members, weights or caps overridden.

  `rule`: "flan" (FLAN's released code, the default) or "balanced" (our earlier rule, with
  its formats: inversion in every non-CoT submix). `flan2021_inversion` adds (True) or
  removes (False) flan2021's `inv` tasks; by default only "balanced" has them. `counts`:
  "flan" (FLAN's stated per-variant counts where it states them, `flan_counts`) or
  "catalog" (the catalog's or a stats file's count for every variant); default: the recipe's.
  """
  spec = recipe.replace_submixes(weights=weights, caps=caps, members=members)
  rule = spec.rule if rule is None else rule
  if flan2021_inversion is None:
    flan2021_inversion = rule == "balanced"
  subs = []
  for sub in spec.submixes:
    formats = sub.formats
    if rule == "balanced" and formats == NON_INVERTED_FORMATS:
      formats = NON_COT_FORMATS
    if sub.name == "flan2021" and formats is not None:
      formats = tuple(f for f in formats if f != "inv") + (("inv",) if flan2021_inversion else ())
    subs.append(dataclasses.replace(sub, formats=formats))
  spec = builder.MixtureSpec(name, tuple(subs), cap_mode=cap_mode,
                             inverted_rate=inverted_rate, split=split, rule=rule,
                             counts=spec.counts if counts is None else counts)
  spec.validate()
  return spec


def mixture_spec(name: str) -> builder.MixtureSpec:
  """The MixtureSpec behind one of MIXTURE_NAMES."""
  if name == FLAN_2022.name:
    return FLAN_2022
  for sub in FLAN_2022.submixes:
    if name == f"{FLAN_2022.name}_{sub.name}":
      return dataclasses.replace(FLAN_2022, name=name, submixes=(sub,))
  # The toy demos keep the balanced rule: the smoke run's published figures depend on them.
  if name == TOY_MIXTURE:
    return recipe_spec(TOY_MIXTURE, members=TOY_MEMBERS, rule="balanced")
  if name == TOY_TRUNCATED_MIXTURE:
    return recipe_spec(TOY_TRUNCATED_MIXTURE, members=TOY_MEMBERS, caps=TOY_TRUNCATION_CAPS,
                       cap_mode="truncate", rule="balanced")
  raise errors.unknown_name("recipe mixture", name, MIXTURE_NAMES)


def plan_from_specs(spec: builder.MixtureSpec, specs: Sequence[catalog_spec.DatasetSpec],
                    stats: Mapping[str, Mapping[str, int]] | None = None) -> builder.MixturePlan:
  """Plans `spec` over the training datasets in `specs`; counts from `stats`
  ({task: {split: n}}) where it lists a task, else the dataset's num_train_examples; a
  dataset of unknown size counts as reaching its cap (the largest cap when submixes differ,
  which min(n, cap) then brings down to its own)."""
  by_task = {t: ds for ds in specs if not ds.held_out for t in ds.tasks}
  caps = [sub.cap for sub in spec.submixes if sub.cap]
  largest_cap = max(caps) if caps else None

  def count(task: str) -> int:
    if stats and task in stats and spec.split in stats[task]:
      return int(stats[task][spec.split])
    ds = by_task[task]
    if spec.split != "train":
      raise errors.ConfigError(
          f"Dataset specs count train examples only; mixture {spec.name!r} on split "
          f"{spec.split!r} needs that split's count of {task!r} in a stats file "
          f'({{"{task}": {{"{spec.split}": N}}}}, --stats).')
    if ds.num_train_examples is None and largest_cap is not None:
      # Size unknown (not in the catalog facts): rated as if it reached its submix's cap.
      return largest_cap
    if ds.num_train_examples is None:
      raise errors.ConfigError(
          f"Dataset {ds.collection}.{ds.name} declares no num_train_examples, so mixture "
          f"{spec.name!r} cannot rate {task!r}. Give its DatasetSpec a count or pass a stats "
          'file ({"task": {"train": N}}) with --stats.')
    return int(ds.num_train_examples)

  in_stats = lambda task: bool(stats) and spec.split in stats.get(task, {})
  return builder.plan_mixture(spec, by_task, count, builder.flan_stated_counts(in_stats))


def recipe_plan(name: str, specs: Sequence[catalog_spec.DatasetSpec],
                stats: Mapping[str, Mapping[str, int]] | None = None,
                rule: str | None = None) -> builder.MixturePlan:
  """The plan (rows with submix, group, count, rate, share) of one of MIXTURE_NAMES;
  `rule` ("flan" / "balanced") replaces the mixture's rule (and its formats, see recipe_spec)."""
  spec = mixture_spec(name)
  if rule is not None:
    spec = recipe_spec(name, recipe=spec, rule=rule, cap_mode=spec.cap_mode)
  return plan_from_specs(spec, specs, stats)


def recipe_rates(name: str, specs: Sequence[catalog_spec.DatasetSpec],
                 stats: Mapping[str, Mapping[str, int]] | None = None,
                 rule: str | None = None) -> list[tuple[str, float]]:
  """Flat (task, rate) pairs of one of MIXTURE_NAMES; rates are expected shares (sum 1).

  Truncated mixtures name `{task}#capN` tasks: register the base task, then
  `builder.register_flat_mixture(name, pairs)` registers the truncated ones and the mixture.
  """
  plan = recipe_plan(name, specs, stats, rule)
  if not plan.flat_rates():
    raise errors.ConfigError(
        f"Mixture {name!r} has no member dataset among the {len(specs)} given (its submixes "
        f"take {[p for s in plan.spec.submixes for p in s.members]}); is the collection in "
        "the catalog?")
  return plan.flat_rates()


def toy_specs() -> list[catalog_spec.DatasetSpec]:
  """The toy collection as DatasetSpecs (every supported format, 5,000 train examples)."""
  from flan_jax.data.toy import templates as toy_templates  # pylint: disable=g-import-not-at-top
  out = []
  for ts in toy_templates.TOY_TEMPLATE_SETS:
    tasks = tuple(formats_lib.task_name("toy", ts.name, f.name)
                  for f in formats_lib.formats_for(ts))
    out.append(catalog_spec.DatasetSpec(
        "toy", ts.name, tasks, catalog_spec.DataRequirement(catalog_spec.GENERATED, "toy"),
        num_train_examples=TOY_TRAIN_EXAMPLES, has_options=bool(ts.options_field)))
  return out



def build_recipe_mixture(name: str = FLAN_2022.name, *,
                         members: Mapping[str, Sequence[str]] | None = None,
                         weights: Mapping[str, float] | None = None,
                         caps: Mapping[str, int | None] | None = None,
                         cap_mode: str = "rate",
                         inverted_rate: float = builder.INVERTED_RATE,
                         stats_file: str | None = None,
                         split: str = "train",
                         overwrite: bool = True,
                         rule: str | None = None,
                         flan2021_inversion: bool | None = None,
                         counts: str | None = None,
                         few_shot: str | None = None) -> str:
  """Registers the Flan 2022 recipe (with overrides) over the registered tasks; returns
  its name. Registers the catalog first, so member patterns see every catalog task.

  `few_shot`: how the catalog's few-shot prompts are built, "flan" (as FLAN's released code:
  x-shot and template-mix five-shot, the recipe collections' default) or "paper" (2, 3 or 5
  exemplars, the Flan papers' description); None keeps what is registered.
  """
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  catalog.register_catalog(few_shot=few_shot)
  spec = recipe_spec(name, members=members, weights=weights, caps=caps, cap_mode=cap_mode,
                     inverted_rate=inverted_rate, split=split, rule=rule,
                     flan2021_inversion=flan2021_inversion, counts=counts)
  return builder.register_mixture(spec, stats_file=stats_file, overwrite=overwrite)


def register() -> list[str]:
  """Catalog hook: registers the toy tasks, then `toy_flan2022` and
  `toy_flan2022_truncated` (idempotent); returns every name it registered."""
  import flan_jax_tasks.toy  # pylint: disable=g-import-not-at-top
  flan_jax_tasks.toy.register()
  names = []
  specs = toy_specs()
  for name in (TOY_MIXTURE, TOY_TRUNCATED_MIXTURE):
    pairs = recipe_rates(name, specs)
    builder.register_flat_mixture(name, pairs)
    names += [name] + [t for t, _ in pairs if formats_lib.CAP_MARK in t]
  return sorted(names)


def catalog_specs() -> list[catalog_spec.DatasetSpec]:
  """Every catalog collection's DatasetSpecs: the catalog's index (`dataset_specs()`) where
  it has one, else the toy collection's."""
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  index = getattr(catalog, "dataset_specs", None)
  return list(index()) if index is not None else toy_specs()
