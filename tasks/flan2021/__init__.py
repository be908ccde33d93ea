"""The flan2021 collection: 71 classic NLP datasets read through TFDS, with our templates
(or FLAN's own, loaded from a checkout FLAN_JAX_FLAN_DIR names: `flan_patterns`).

Catalog contract (flan_jax/catalog/spec.py): `datasets()` lists the 71 datasets
without importing TensorFlow or SeqIO; `register_dataset(spec, render_seed=...)` registers
`flan2021.{dataset}:{format}` for every format its template set supports.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib

from flan_jax.catalog import spec as catalog_spec
from flan_jax.data import formats as formats_lib

from flan_jax_tasks.flan2021 import adapters as adapters_lib
from flan_jax_tasks.flan2021 import datasets_table

COLLECTION = "flan2021"

# Modules holding each cluster's template sets and field mappings (ADAPTERS: name -> Adapter).
CLUSTER_MODULES = (
    "nli", "reading_comprehension", "closed_book_qa", "conversational_qa", "commonsense",
    "coreference", "sentiment", "paraphrase", "summarization", "struct_to_text", "translation",
    "text_formatting", "single_tasks",
)


@functools.lru_cache(maxsize=None)
def all_adapters() -> dict[str, adapters_lib.Adapter]:
  """Every dataset's Adapter, keyed by dataset name (imports no TensorFlow)."""
  out: dict[str, adapters_lib.Adapter] = {}
  for module in CLUSTER_MODULES:
    table = importlib.import_module(f"{__name__}.{module}").ADAPTERS
    repeated = sorted(set(out) & set(table))
    if repeated:
      raise ValueError(f"flan2021 datasets {repeated} are mapped twice (again in {module}).")
    out.update(table)
  return out


def adapter_for(name: str) -> adapters_lib.Adapter:
  """The Adapter of one dataset; names the known datasets when `name` is not one."""
  table = all_adapters()
  if name not in table:
    raise KeyError(f"No flan2021 dataset {name!r}; known: {', '.join(sorted(table))}.")
  return table[name]


def template_set_for(name: str):
  """The dataset's template set: ours, or FLAN's patterns (mapped to our fields) when
  FLAN_JAX_FLAN_DIR names a checkout of google-research/FLAN (see `flan_patterns`)."""
  from flan_jax_tasks.flan2021 import flan_patterns  # pylint: disable=g-import-not-at-top
  ours = adapter_for(name).template_set_for(name)
  root = flan_patterns.flan_dir()
  if root is None:
    return ours
  return flan_patterns.flan_template_set(name, ours, flan_patterns.load_patterns(root))


def _spec(row: datasets_table.DatasetRow) -> catalog_spec.DatasetSpec:
  from flan_jax_tasks.flan2021 import flan_patterns  # pylint: disable=g-import-not-at-top
  template_set = adapter_for(row.name).template_set_for(row.name)
  if flan_patterns.flan_dir() is not None:
    # FLAN's patterns hold their inverted ones among the rest: no `inv` tasks. Listing does
    # not read FLAN's file; registering the dataset does.
    template_set = dataclasses.replace(template_set, inverted=())
  tasks = tuple(formats_lib.task_name(COLLECTION, row.name, fmt.name)
                for fmt in formats_lib.formats_for(template_set))
  data = catalog_spec.DataRequirement(
      kind=catalog_spec.TFDS, name=row.tfds_name, manual=row.manual,
      how_to_get=datasets_table.how_to_get(row))
  return catalog_spec.DatasetSpec(
      collection=COLLECTION, name=row.name, tasks=tasks, data=data,
      num_train_examples=row.num_train_examples, has_options=bool(template_set.options_field))


@functools.lru_cache(maxsize=None)
def _specs(flan_dir: str | None) -> tuple[catalog_spec.DatasetSpec, ...]:
  del flan_dir  # The cache key: template_set_for reads it from the environment.
  return tuple(_spec(row) for row in datasets_table.ROWS)


def datasets() -> list[catalog_spec.DatasetSpec]:
  """The 71 flan2021 datasets as DatasetSpecs (cheap: no TensorFlow, no SeqIO)."""
  from flan_jax_tasks.flan2021 import flan_patterns  # pylint: disable=g-import-not-at-top
  return list(_specs(flan_patterns.flan_dir()))


def output_features():
  """inputs/targets features: T5's vocabulary, or the file $FLAN_JAX_VOCABULARY names."""
  from flan_jax.data import t5_features  # pylint: disable=g-import-not-at-top
  return t5_features.output_features()


def tfds_source(row: datasets_table.DatasetRow):
  """The dataset's TFDS source: our train/validation splits mapped onto its TFDS splits, with
  the up-front prepared check (it names the `tfds build` command when data is missing)."""
  from flan_jax.readers import tfds_check  # pylint: disable=g-import-not-at-top
  return tfds_check.CheckedTfdsDataSource(
      row.tfds_name, splits={"train": row.train, "validation": row.validation})


def register_dataset(spec: catalog_spec.DatasetSpec, *, render_seed: int,
                     few_shot: str = "flan") -> list[str]:
  """Registers the dataset's tasks (one per format in spec.tasks); idempotent; reads no data."""
  from flan_jax.data import registration  # pylint: disable=g-import-not-at-top
  row = datasets_table.BY_NAME.get(spec.name)
  if row is None or spec.collection != COLLECTION:
    raise KeyError(f"{spec.collection}.{spec.name} is not a flan2021 dataset.")
  adapter = adapter_for(row.name)
  prompt_formats = [formats_lib.parse_task_name(t)[2] for t in spec.tasks]
  return registration.register_template_tasks(
      COLLECTION, template_set_for(row.name), tfds_source(row), output_features(),
      prompt_formats=prompt_formats, seed=render_seed, few_shot=few_shot,
      pre_render=[functools.partial(adapters_lib.map_records, adapter=adapter)])
