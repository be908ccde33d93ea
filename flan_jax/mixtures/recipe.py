"""The Flan 2022 mixture recipe (FLAN_RECIPE.md) as data, and its toy demonstration.

`FLAN_2022` names the submixes, weights, caps and format splits; members are task-name
patterns, so the recipe builds from whatever tasks are registered. `build_recipe_mixture`
is a plain function the gin entry point can bind (it returns the registered name, so
`MIXTURE_OR_TASK_NAME = @build_recipe_mixture()` works). `register()` adds the toy
mixtures `toy_flan2022` (caps as rates) and `toy_flan2022_truncated` (real caps, scaled).
"""

from __future__ import annotations

from typing import Mapping, Sequence

from flan_jax.mixtures import builder

COT_FORMATS = ("cot", "fs_cot", "cot_inv")
NON_COT_FORMATS = ("zs_opt", "fs_opt", "zs_noopt", "fs_noopt", "fsmix_opt", "fsmix_noopt", "inv")

FLAN_2022 = builder.MixtureSpec(
    name="flan2022",
    submixes=(
        builder.Submix("flan2021", 0.40, 30_000, ("flan2021.*",), builder.FOUR_WAY,
                       NON_COT_FORMATS),
        builder.Submix("t0", 0.32, 20_000, ("t0.*",), builder.FOUR_WAY, NON_COT_FORMATS),
        builder.Submix("niv2", 0.20, 5_000, ("niv2.*",), builder.TWO_WAY, NON_COT_FORMATS),
        builder.Submix("cot", 0.05, 100_000, ("cot.*",), builder.TWO_WAY, COT_FORMATS),
        builder.Submix("dialog", 0.03, 200_000, ("dialog.*",), builder.TWO_WAY,
                       NON_COT_FORMATS),
    ),
)

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


def recipe_spec(name: str = FLAN_2022.name, *,
                members: Mapping[str, Sequence[str]] | None = None,
                weights: Mapping[str, float] | None = None,
                caps: Mapping[str, int | None] | None = None,
                cap_mode: str = "rate",
                inverted_rate: float = builder.INVERTED_RATE,
                split: str = "train",
                recipe: builder.MixtureSpec = FLAN_2022) -> builder.MixtureSpec:
  """The recipe with a new name and any submix members, weights or caps overridden."""
  spec = recipe.replace_submixes(weights=weights, caps=caps, members=members)
  spec = builder.MixtureSpec(name, spec.submixes, cap_mode=cap_mode,
                             inverted_rate=inverted_rate, split=split)
  spec.validate()
  return spec


def build_recipe_mixture(name: str = FLAN_2022.name, *,
                         members: Mapping[str, Sequence[str]] | None = None,
                         weights: Mapping[str, float] | None = None,
                         caps: Mapping[str, int | None] | None = None,
                         cap_mode: str = "rate",
                         inverted_rate: float = builder.INVERTED_RATE,
                         stats_file: str | None = None,
                         split: str = "train",
                         overwrite: bool = True) -> str:
  """Registers the Flan 2022 recipe (with overrides) over the registered tasks; returns
  its name. Registers the catalog first, so member patterns see every catalog task."""
  from flan_jax.data import catalog  # pylint: disable=g-import-not-at-top
  catalog.register_catalog()
  spec = recipe_spec(name, members=members, weights=weights, caps=caps, cap_mode=cap_mode,
                     inverted_rate=inverted_rate, split=split)
  return builder.register_mixture(spec, stats_file=stats_file, overwrite=overwrite)


def register() -> list[str]:
  """Catalog hook: registers the toy tasks, then `toy_flan2022` and
  `toy_flan2022_truncated` (idempotent); returns every name it registered."""
  import seqio  # pylint: disable=g-import-not-at-top
  import flan_jax_tasks.toy  # pylint: disable=g-import-not-at-top
  flan_jax_tasks.toy.register()
  tops = {
      TOY_MIXTURE: recipe_spec(TOY_MIXTURE, members=TOY_MEMBERS),
      TOY_TRUNCATED_MIXTURE: recipe_spec(TOY_TRUNCATED_MIXTURE, members=TOY_MEMBERS,
                                         caps=TOY_TRUNCATION_CAPS, cap_mode="truncate"),
  }
  for spec in tops.values():
    builder.register_mixture(spec)
  names = [n for n in seqio.MixtureRegistry.names()
           if any(n == top or n.startswith(top + ".") for top in tops)]
  names += [t.name for t in seqio.MixtureRegistry.get(TOY_TRUNCATED_MIXTURE).tasks
            if t.name not in names and "#" in t.name]
  return sorted(names)
