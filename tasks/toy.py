"""The toy collection's tasks (`toy.{family}:{format}`) and the `toy_flan` mixture."""

from __future__ import annotations

import seqio

from flan_jax.data import formats
from flan_jax.data import registration
from flan_jax.data import vocab
from flan_jax.data.toy import source as toy_source
from flan_jax.data.toy import templates as toy_templates

COLLECTION = "toy"
MIXTURE = "toy_flan"
# Few-shot prompts must fit the smoke run's 256 input tokens (EOS included).
TOKEN_BUDGET = 240
POOL_SIZE = 1000
# Toy sources shuffle all records themselves; seqio's 1000-example buffer per task would make
# the first mixture batch wait for 47k rendered examples.
SHUFFLE_BUFFER_SIZE = 64

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


def output_features() -> dict[str, seqio.Feature]:
  toy_vocab = vocab.toy_vocabulary()
  return {"inputs": seqio.Feature(toy_vocab, add_eos=True),
          "targets": seqio.Feature(toy_vocab, add_eos=True)}


def register(config: toy_source.ToyConfig = toy_source.ToyConfig()) -> list[str]:
  """Registers every toy family in every format it supports, then the mixture (idempotent)."""
  features = output_features()
  names = []
  for ts in toy_templates.TOY_TEMPLATE_SETS:
    names += registration.register_template_tasks(
        COLLECTION, ts, toy_source.toy_source(ts.name, config), features,
        token_budget=TOKEN_BUDGET, pool_size=POOL_SIZE, shuffle_buffer_size=SHUFFLE_BUFFER_SIZE)
  if MIXTURE not in seqio.MixtureRegistry.names():
    rates = []
    for name in names:
      _, family, fmt = formats.parse_task_name(name)
      rates.append((name, FAMILY_RATES.get(family, 1.0) * FORMAT_RATES[fmt]))
    seqio.MixtureRegistry.add(MIXTURE, rates)
  if EVAL_MIXTURE not in seqio.MixtureRegistry.names():
    zero_shot = [n for n in names if formats.parse_task_name(n)[2] in EVAL_FORMATS]
    seqio.MixtureRegistry.add(EVAL_MIXTURE, [(n, 1.0) for n in zero_shot])
  return names + [MIXTURE, EVAL_MIXTURE]
