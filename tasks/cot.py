"""The CoT collection: nine chain-of-thought datasets (`cot.{dataset}:{cot|fs_cot|cot_inv}`).

Targets are the rationale, the fixed answer phrase, then the answer (see formats.py);
cot_inv asks for any part of (question, rationale, answer) from the others. The mixture
weighs cot_inv at 0.3. Data: one TSV per dataset in FLAN_JAX_COT_DIR (cot_source.py).
"""

from __future__ import annotations

import dataclasses
import functools

from flan_jax.catalog import spec as catalog_spec
from flan_jax.data import formats
from flan_jax.readers import layouts as source_layouts
from flan_jax.data.templates import Template, TemplateSet
from flan_jax_tasks.tables import cot_datasets

COLLECTION = "cot"
FORMATS = ("cot", "fs_cot", "cot_inv")

COT_TEMPLATES = TemplateSet(
    name="cot", fields=("question", "answer", "rationale"), rationale_field="rationale",
    templates=(
        Template("plain", "{question}"),
        Template("labeled", "Question: {question}"),
        Template("answer_this", "Answer the following.\n{question}"),
        Template("what_is_it", "{question}\nWhat is the answer?"),
        Template("think_about", "Think about this one: {question}"),
    ))


@functools.lru_cache(maxsize=1)
def _specs() -> tuple[catalog_spec.DatasetSpec, ...]:
  return tuple(
      catalog_spec.DatasetSpec(
          collection=COLLECTION, name=name,
          tasks=tuple(formats.task_name(COLLECTION, name, f) for f in FORMATS),
          data=catalog_spec.DataRequirement(kind=catalog_spec.LOCAL_DIR,
                                            name=source_layouts.COT_KEY,
                                            files=(source_layouts.cot_file(name),),
                                            how_to_get=source_layouts.cot_how_to_get(name)),
          num_train_examples=rows)
      for name, rows, _ in cot_datasets.DATASETS)


def datasets() -> list[catalog_spec.DatasetSpec]:
  """One spec per CoT dataset (reads nothing, imports no TensorFlow)."""
  return list(_specs())


def register_dataset(spec: catalog_spec.DatasetSpec, *, render_seed: int,
                     few_shot: str = "flan") -> list[str]:
  """Registers the dataset's cot / fs_cot / cot_inv tasks (idempotent)."""
  from flan_jax.readers import cot as cot_source  # pylint: disable=g-import-not-at-top
  from flan_jax.data import registration  # pylint: disable=g-import-not-at-top
  from flan_jax.data import t5_features  # pylint: disable=g-import-not-at-top
  rows = {name: n for name, n, _ in cot_datasets.DATASETS}
  if spec.name not in rows:
    raise KeyError(f"{spec.name!r} is not a CoT dataset of the catalog; known: {sorted(rows)}.")
  return registration.register_template_tasks(
      COLLECTION, dataclasses.replace(COT_TEMPLATES, name=spec.name),
      cot_source.cot_source(spec.name, rows[spec.name]), t5_features.output_features(),
      prompt_formats=FORMATS, seed=render_seed, few_shot=few_shot)
