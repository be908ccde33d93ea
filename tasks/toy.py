"""The toy collection (`toy.{family}:{format}`), `toy_flan` and `toy_zero_shot`, as a catalog
collection module (see flan_jax.catalog.spec): specs are plain data, registration lazy."""

from __future__ import annotations

from flan_jax.catalog import spec as catalog_spec
from flan_jax.data import formats
from flan_jax.data.toy import templates as toy_templates

COLLECTION = "toy"
MIXTURE = "toy_flan"
# Few-shot prompts must fit the smoke run's 256 input tokens (EOS included).
TOKEN_BUDGET = 240
POOL_SIZE = 1000
# Toy sources shuffle all records themselves; seqio's 1000-example buffer per task would make
# the first mixture batch wait for 47k rendered examples.
SHUFFLE_BUFFER_SIZE = 64
TRAIN_SIZE = 5000  # toy_source.ToyConfig().train_size (that module imports TensorFlow).

# Relative rate of each prompt format inside a family (Flan: zero-/few-shot both present,
# ~3 inverted examples per 10 regular ones).
FORMAT_RATES = {
    "zs_opt": 1.0, "zs_noopt": 1.0, "fs_opt": 0.4, "fs_noopt": 0.4,
    "fsmix_opt": 0.1, "fsmix_noopt": 0.1, "cot": 0.8, "fs_cot": 0.2,
    "inv": 0.3, "cot_inv": 0.2,
}

# Held-out style evaluation during the smoke run: each family's zero-shot prompts.
EVAL_MIXTURE = "toy_zero_shot"
EVAL_FORMATS = ("zs_opt", "zs_noopt")

# Dialog is a small share in Flan (3%); the other families weigh the same.
FAMILY_RATES = {"dialog": 0.5}

_SETS = {ts.name: ts for ts in toy_templates.TOY_TEMPLATE_SETS}


def datasets() -> list[catalog_spec.DatasetSpec]:
  """One spec per toy family, its tasks in every format its templates support."""
  return [catalog_spec.DatasetSpec(
      collection=COLLECTION, name=ts.name,
      tasks=tuple(formats.task_name(COLLECTION, ts.name, f.name) for f in formats.formats_for(ts)),
      data=catalog_spec.DataRequirement(catalog_spec.GENERATED, f"toy/{ts.name}"),
      num_train_examples=TRAIN_SIZE, has_options=bool(ts.options_field))
      for ts in toy_templates.TOY_TEMPLATE_SETS]


def output_features():
  import seqio  # pylint: disable=g-import-not-at-top
  from flan_jax.data import vocab  # pylint: disable=g-import-not-at-top
  toy_vocab = vocab.toy_vocabulary()
  return {"inputs": seqio.Feature(toy_vocab, add_eos=True),
          "targets": seqio.Feature(toy_vocab, add_eos=True)}


def register_dataset(spec: catalog_spec.DatasetSpec, *, render_seed: int,
                     few_shot: str = "paper") -> list[str]:
  """Registers one family in every format it supports, rendered with `render_seed`."""
  from flan_jax.data import registration  # pylint: disable=g-import-not-at-top
  from flan_jax.data.toy import source as toy_source  # pylint: disable=g-import-not-at-top
  ts = _SETS[spec.name]
  return registration.register_template_tasks(
      COLLECTION, ts, toy_source.toy_source(ts.name), output_features(),
      seed=render_seed, few_shot=few_shot, token_budget=TOKEN_BUDGET, pool_size=POOL_SIZE,
      shuffle_buffer_size=SHUFFLE_BUFFER_SIZE)


def mixtures() -> dict[str, list[tuple[str, float]]]:
  """`toy_flan` (every task, family x format rates) and `toy_zero_shot` (eval prompts)."""
  train, zero_shot = [], []
  for spec in datasets():
    for name in spec.tasks:
      _, family, fmt = formats.parse_task_name(name)
      train.append((name, FAMILY_RATES.get(family, 1.0) * FORMAT_RATES[fmt]))
      if fmt in EVAL_FORMATS:
        zero_shot.append((name, 1.0))
  return {MIXTURE: train, EVAL_MIXTURE: zero_shot}


def register() -> list[str]:
  """Registers every toy task and mixture through the catalog (for callers of the old hook)."""
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  names = []
  for spec in datasets():
    names += catalog.register_dataset(spec)
  for mixture in mixtures():
    catalog.get_mixture_or_task(mixture)
  return names + list(mixtures())
