"""The T0-SF collection: 193 P3 subsets (`t0.{subset}:{format}`), prompts as P3 wrote them.

P3 records already carry their prompt, so three generic wrappers of our own suffice (which
subset gets which: tasks/tables/t0_subsets.py):
  QA            the prompt as given -> the target text          (zs_noopt, fs_noopt)
  MC_IN_PROMPT  the prompt lists its choices -> the chosen text (zs_noopt, fs_noopt)
  MC_SEPARATE   the prompt, then the choices as a list          (zs_opt, fs_opt, zs_noopt, fs_noopt)
Data: `FLAN_JAX_P3_DIR` (the hub repository's layout) or the hub (flan_jax.readers.p3).
"""

from __future__ import annotations

import dataclasses
import functools

from flan_jax.catalog import spec as catalog_spec
from flan_jax.data import formats
from flan_jax.readers import layouts as source_layouts
from flan_jax.data.templates import Template, TemplateSet
from flan_jax_tasks.tables import t0_subsets

COLLECTION = "t0"

QA_SET = TemplateSet(
    name="t0_qa", fields=("prompt", "answer"), question_field="prompt",
    templates=(Template("as_given", "{prompt}"),))
MC_IN_PROMPT_SET = TemplateSet(
    name="t0_mc_in_prompt", fields=("prompt", "answer"), question_field="prompt",
    templates=(Template("as_given", "{prompt}"),
               Template("pick_listed", "{prompt}\nReply with one of the choices given above.")))
MC_SEPARATE_SET = TemplateSet(
    name="t0_mc_separate", fields=("prompt", "answer", "options"), question_field="prompt",
    options_field="options",
    templates=(Template("choices_below", "{prompt}\n{options}"),
               Template("choices_apart", "{prompt}\n\n{options}")))

WRAPPERS = {
    t0_subsets.QA: (QA_SET, ("zs_noopt", "fs_noopt")),
    t0_subsets.MC_IN_PROMPT: (MC_IN_PROMPT_SET, ("zs_noopt", "fs_noopt")),
    t0_subsets.MC_SEPARATE: (MC_SEPARATE_SET, ("zs_opt", "fs_opt", "zs_noopt", "fs_noopt")),
}


def _requirement(subset: str) -> catalog_spec.DataRequirement:
  return catalog_spec.DataRequirement(
      kind=catalog_spec.HF, name=f"{source_layouts.P3_HUB_REPO}:{subset}",
      local_key=source_layouts.P3_KEY,
      files=(f"{subset}/*|data/{subset}/*",),  # today's hub layout, or the original one
      how_to_get=source_layouts.p3_how_to_get(subset))


@functools.lru_cache(maxsize=1)
def _specs() -> tuple[catalog_spec.DatasetSpec, ...]:
  out = []
  for subset, train, _, wrapper in t0_subsets.SUBSETS:
    _, fmts = WRAPPERS[wrapper]
    out.append(catalog_spec.DatasetSpec(
        collection=COLLECTION, name=subset,
        tasks=tuple(formats.task_name(COLLECTION, subset, f) for f in fmts),
        data=_requirement(subset), num_train_examples=train,
        has_options=wrapper == t0_subsets.MC_SEPARATE))
  return tuple(out)


def datasets() -> list[catalog_spec.DatasetSpec]:
  """One spec per P3 subset (reads nothing, imports no TensorFlow)."""
  return list(_specs())


def _row(subset: str) -> tuple:
  for row in t0_subsets.SUBSETS:
    if row[0] == subset:
      return row
  raise KeyError(f"{subset!r} is not a T0-SF subset (see tasks/tables/t0_subsets.py).")


def register_dataset(spec: catalog_spec.DatasetSpec, *, render_seed: int,
                     few_shot: str = "flan") -> list[str]:
  """Registers the subset's tasks (idempotent); its files are read only by get_dataset."""
  from flan_jax.readers import p3 as p3_source  # pylint: disable=g-import-not-at-top
  from flan_jax.data import registration  # pylint: disable=g-import-not-at-top
  from flan_jax.data import t5_features  # pylint: disable=g-import-not-at-top
  subset, train, validation, wrapper = _row(spec.name)
  base, fmts = WRAPPERS[wrapper]
  sizes = {"train": train} | ({"validation": validation} if validation else {})
  source = p3_source.p3_source(subset, multiple_choice=wrapper != t0_subsets.QA, sizes=sizes)
  return registration.register_template_tasks(
      COLLECTION, dataclasses.replace(base, name=subset), source,
      t5_features.output_features(), prompt_formats=fmts, seed=render_seed, few_shot=few_shot,
      # P3's rendered targets occasionally differ from every listed choice (spacing,
      # casing of the hub's templates): such records are counted and dropped, not fatal.
      answer_not_in_options="drop")
