"""Output features of the real-data collections: T5's SentencePiece vocabulary (lazy).

Flan-T5 uses T5's 32k vocabulary with 100 sentinel ids (32,100 ids). `FLAN_JAX_VOCABULARY`
points to another SentencePiece model file (a local copy of T5's, or a small one for tests),
used as it is, without sentinel ids (Flan tasks never use them; a local copy of T5's file
gives the same ids for text). `flan-jax train` sets it from gin's `VOCABULARY`, and `eval` /
`infer` from the run's record. The model file is read once per process, when text is first
tokenized, never at registration.
"""

from __future__ import annotations

import functools
import os

import seqio

from flan_jax import errors

T5_SPM_PATH = "gs://t5-data/vocabs/cc_all.32000/sentencepiece.model"
T5_EXTRA_IDS = 100
VOCABULARY_ENV = "FLAN_JAX_VOCABULARY"
HOW_TO_GET = ("copy T5's model locally, e.g. `hf download google/flan-t5-base spiece.model "
              f"--local-dir DIR`, and `export {VOCABULARY_ENV}=DIR/spiece.model`")


class VocabularyUnavailableError(errors.FlanJaxError):
  """The SentencePiece model file cannot be read."""


class T5Vocabulary(seqio.SentencePieceVocabulary):
  """A SentencePieceVocabulary that says how to get its model file when it cannot read it."""

  def _model_context(self):
    try:
      return super()._model_context()
    except Exception as e:  # pylint: disable=broad-except  # gs:// without access, no file...
      raise VocabularyUnavailableError(
          f"Cannot read the SentencePiece model {self.sentencepiece_model_file!r} "
          f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}). To fix: "
          f"{HOW_TO_GET}.") from None


@functools.lru_cache(maxsize=None)
def _vocabulary(path: str, extra_ids: int) -> seqio.Vocabulary:
  return T5Vocabulary(path, extra_ids=extra_ids)


def vocabulary() -> seqio.Vocabulary:
  """T5's vocabulary, or the model `FLAN_JAX_VOCABULARY` names (one instance per file)."""
  path = os.environ.get(VOCABULARY_ENV)
  return _vocabulary(path, 0) if path else _vocabulary(T5_SPM_PATH, T5_EXTRA_IDS)


def use_vocabulary(path: str | None) -> None:
  """Makes `path` the vocabulary of tasks registered from now on (None: leave as is)."""
  if path:
    os.environ[VOCABULARY_ENV] = path


def output_features() -> dict[str, seqio.Feature]:
  vocab = vocabulary()
  return {"inputs": seqio.Feature(vocab, add_eos=True),
          "targets": seqio.Feature(vocab, add_eos=True)}
