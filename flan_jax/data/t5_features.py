"""Output features of the real-data collections: T5's SentencePiece vocabulary (lazy).

Flan-T5 uses T5's 32k vocabulary with 100 sentinel ids. `FLAN_JAX_SPM_PATH` points to
another SentencePiece model (a local copy, or a small one for tests). The model file is
read only when text is first tokenized, never at registration.
"""

from __future__ import annotations

import os

import seqio

T5_SPM_PATH = "gs://t5-data/vocabs/cc_all.32000/sentencepiece.model"
T5_EXTRA_IDS = 100
SPM_PATH_ENV = "FLAN_JAX_SPM_PATH"


def vocabulary() -> seqio.Vocabulary:
  """T5's vocabulary, or the model `FLAN_JAX_SPM_PATH` names (then without sentinel ids)."""
  path = os.environ.get(SPM_PATH_ENV)
  if path:
    return seqio.SentencePieceVocabulary(path)
  return seqio.SentencePieceVocabulary(T5_SPM_PATH, extra_ids=T5_EXTRA_IDS)


def output_features() -> dict[str, seqio.Feature]:
  vocab = vocabulary()
  return {"inputs": seqio.Feature(vocab, add_eos=True),
          "targets": seqio.Feature(vocab, add_eos=True)}
