"""Example catalog module (docs/adding_a_task.md): the gadget_reviews tasks and a mixture.

Copy to tasks/gadget_reviews.py (imported as `flan_jax_tasks.gadget_reviews`) and pass
`--task_module flan_jax_tasks.gadget_reviews`, or add that name to CATALOG_MODULES in
flan_jax/catalog/lookup.py. `register()` builds task objects
only; the JSONL files are read when a dataset is iterated.
"""

from __future__ import annotations

import os

import seqio

from flan_jax.data import registration
from flan_jax.data import sources
from flan_jax.data import templates
from flan_jax.data import vocab

COLLECTION = "mine"
MIXTURE = "gadget_reviews_flan"
# Where the records and the template YAML live: $GADGET_REVIEWS_DIR, else docs/examples.
DEFAULT_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           "docs", "examples")
# The CPU smoke run feeds 256 input tokens; few-shot prompts drop exemplars to fit this.
TOKEN_BUDGET = 240
INVERTED = (":inv", ":cot_inv")


def data_dir() -> str:
  return os.environ.get("GADGET_REVIEWS_DIR", DEFAULT_DIR)


def output_features() -> dict[str, seqio.Feature]:
  # The toy vocabulary fits the tiny smoke model; use your model's SentencePiece model for
  # real runs: seqio.SentencePieceVocabulary("/path/to/spm.model").
  toy_vocab = vocab.toy_vocabulary()
  return {"inputs": seqio.Feature(toy_vocab, add_eos=True),
          "targets": seqio.Feature(toy_vocab, add_eos=True)}


def register() -> list[str]:
  """Registers mine.gadget_reviews:{format} for every supported format, then the mixture."""
  root = data_dir()
  template_set = templates.load_template_set(os.path.join(root, "gadget_reviews.yaml"))
  source = sources.jsonl_source({
      "train": os.path.join(root, "gadget_reviews.train.jsonl"),
      "validation": os.path.join(root, "gadget_reviews.validation.jsonl"),
  })
  names = registration.register_template_tasks(
      COLLECTION, template_set, source, output_features(), token_budget=TOKEN_BUDGET)
  if MIXTURE not in seqio.MixtureRegistry.names():
    # Flan's balance: about 3 inverted examples per 10 regular ones (input inversion and,
    # once the set has a rationale_field, CoT inversion).
    seqio.MixtureRegistry.add(MIXTURE, [(n, 0.3 if n.endswith(INVERTED) else 1.0) for n in names])
  return names + [MIXTURE]
