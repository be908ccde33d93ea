"""Prints (or writes into docs/mixtures.md) the share table: per submix and prompt format,
the shares FLAN's released code gives (google-research/FLAN flan/v2: mixtures.py,
mixtures_utils.py, run_example.py, tasks.py, few_shot.py) next to ours.

FLAN's side is modelled here on its own, in FLAN's terms, not with our planner: each FLAN
submix is a seqio mixture of prompt settings (flan, t0: zsopt/fsopt/zsnoopt/fsnoopt, 1 each;
niv2, cot, dialog: zsopt/fsopt, 1 each); a CoT or dialog setting mixes its regular mixture
at 1 and its -II (inverted) mixture at 0.3; a setting mixture lists, per dataset, the task
variants `SETTING_VARIANTS` names, each at seqio.mixing_rate_num_examples(maximum=cap),
i.e. min(n, cap); the five submixes weigh 0.4/0.32/0.2/0.05/0.03 (run_example.py, niv2
included). seqio normalizes each level. The datasets, their sizes and whether they have
answer options come from our catalog; a dataset of unknown size counts at its cap (both
sides); where FLAN states a variant's count (`flan_counts.STATED_COUNTS`, FLAN's
T_NAME_TO_NUM_CASES: zero-shot, x-shot, five-shot) that count is used; otherwise the CoT
files state their sizes, so FLAN's few-shot CoT variants count n - shots.
A variant is shown under the prompt format it renders as (a choice-less dataset's "opt"
variants render without options).

  python scripts/flan_share_table.py                  # print the markdown table
  python scripts/flan_share_table.py --write docs/mixtures.md   # replace the marked table
"""

from __future__ import annotations

import argparse
import collections
import sys

from flan_jax.mixtures import flan_counts
from flan_jax.mixtures import recipe

SUBMIXES = {  # ours -> (FLAN key, weight, cap, settings, has an -II group)
    "flan2021": ("FLAN", 0.40, 30_000, ("zsopt", "fsopt", "zsnoopt", "fsnoopt"), False),
    "t0": ("T0", 0.32, 20_000, ("zsopt", "fsopt", "zsnoopt", "fsnoopt"), False),
    "niv2": ("NIv2", 0.20, 5_000, ("zsopt", "fsopt"), False),
    "cot": ("CoT", 0.05, 100_000, ("zsopt", "fsopt"), True),
    "dialog": ("Dialog", 0.03, 200_000, ("zsopt", "fsopt"), True),
}
# FLAN's task variants per setting (mixtures_utils.ZS_OPT_TEMPLATES, ...): (variant,
# exemplars its few-shot source subtracts from a stated count, its T_NAME_TO_NUM_CASES key).
SETTING_VARIANTS = {
    "zsopt": (("zero_shot", 0, "zero_shot"),),
    "zsnoopt": (("no_opt_zero_shot", 0, "zero_shot"),),
    "fsopt": (("mix_five_shot", 5, "five_shot"), ("x_shot", 25, "x_shot")),
    "fsnoopt": (("no_opt_x_shot", 25, "x_shot"),),
}
MARK_BEGIN = "<!-- share table: scripts/flan_share_table.py -->"
MARK_END = "<!-- end share table -->"


def renders_as(submix: str, variant: str, has_options: bool, inverted: bool) -> str:
  """The prompt format (our name) a FLAN variant's prompts have."""
  few = "shot" in variant and variant != "zero_shot" and "zero_shot" not in variant
  if submix == "cot":
    return ("fs_cot_inv" if few else "cot_inv") if inverted else ("fs_cot" if few else "cot")
  if inverted:
    return "fs_inv" if few else "inv"
  opt = has_options and "no_opt" not in variant
  if not few:
    return "zs_opt" if opt else "zs_noopt"
  kind = "fsmix" if variant == "mix_five_shot" else "fs"
  return f"{kind}_{'opt' if opt else 'noopt'}"


def flan_shares(specs) -> dict[tuple[str, str], float]:
  """{(submix, format): share} of FLAN's mixture, by its rules (module docstring)."""
  out: dict[tuple[str, str], float] = collections.defaultdict(float)
  weight_total = 0.0
  by_submix = collections.defaultdict(list)
  for ds in specs:
    if ds.collection in SUBMIXES and not ds.held_out and any(
        not t.endswith(":cot") or ds.collection == "cot" for t in ds.tasks):
      by_submix[ds.collection].append(ds)
  present = [s for s in SUBMIXES if by_submix[s]]
  weight_total = sum(SUBMIXES[s][1] for s in present)
  for sub in present:
    _, weight, cap, settings, with_ii = SUBMIXES[sub]
    datasets = by_submix[sub]
    groups = ((False, 1.0), (True, 0.3)) if with_ii else ((False, 1.0),)
    inverted_of = {ds.name: any(t.endswith(("_inv", ":inv")) for t in ds.tasks) for ds in datasets}
    for setting in settings:
      group_total = sum(g for inv, g in groups if not inv or any(inverted_of.values()))
      for inverted, g_weight in groups:
        members = [ds for ds in datasets if not inverted or inverted_of[ds.name]]
        if not members:
          continue
        rates = []
        for ds in members:
          n = cap if ds.num_train_examples is None else ds.num_train_examples
          stated = flan_counts.STATED_COUNTS.get(f"{ds.collection}.{ds.name}", {})
          for variant, shots, kind in SETTING_VARIANTS[setting]:
            count = stated.get(kind, n - shots if sub == "cot" else n)
            rates.append((renders_as(sub, variant, ds.has_options, inverted), min(count, cap)))
        total = sum(r for _, r in rates)
        for fmt, r in rates:
          out[(sub, fmt)] += (weight / weight_total / len(settings) * g_weight / group_total
                              * r / total)
  return dict(out)


def ours(rule: str, specs) -> dict[tuple[str, str], float]:
  plan = recipe.recipe_plan("flan2022", specs, rule=rule)
  return plan.shares_by(["submix", "format"])


def table(specs) -> str:
  flan, mine, balanced = flan_shares(specs), ours("flan", specs), ours("balanced", specs)
  keys = sorted(set(flan) | set(mine) | set(balanced),
                key=lambda k: (list(SUBMIXES).index(k[0]), k[1]))
  lines = ["| submix | prompt format | FLAN's code | ours (`flan2022`) | ours, `rule=balanced` |",
           "|---|---|---:|---:|---:|"]
  for k in keys:
    cells = [f"{100 * t.get(k, 0.0):.2f}%" for t in (flan, mine, balanced)]
    lines.append(f"| {k[0]} | {k[1]} | " + " | ".join(cells) + " |")
  for sub in SUBMIXES:
    cells = [f"{100 * sum(v for kk, v in t.items() if kk[0] == sub):.2f}%"
             for t in (flan, mine, balanced)]
    lines.append(f"| **{sub}** | all | " + " | ".join(cells) + " |")
  return "\n".join(lines)


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--write", default=None, metavar="DOC.md",
                      help=f"replace the text between {MARK_BEGIN!r} and {MARK_END!r}")
  args = parser.parse_args(argv)
  text = table(recipe.catalog_specs())
  if not args.write:
    print(text)
    return 0
  with open(args.write, encoding="utf-8") as f:
    doc = f.read()
  if MARK_BEGIN not in doc or MARK_END not in doc:
    print(f"flan_share_table: error: {args.write} lacks the markers {MARK_BEGIN!r} ... "
          f"{MARK_END!r}; add them where the table goes.", file=sys.stderr)
    return 2
  head, rest = doc.split(MARK_BEGIN, 1)
  _, tail = rest.split(MARK_END, 1)
  with open(args.write, "w", encoding="utf-8") as f:
    f.write(f"{head}{MARK_BEGIN}\n{text}\n{MARK_END}{tail}")
  print(f"wrote the share table into {args.write}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
