"""Output features of the real-data collections: T5's SentencePiece vocabulary (lazy).

Flan-T5 uses T5's 32k vocabulary with 100 sentinel ids (32,100 ids). `FLAN_JAX_VOCABULARY`
points to another vocabulary, used as it is, without sentinel ids (Flan tasks never use them;
a local copy of T5's file gives the same ids for text): a SentencePiece model file, a Hugging
Face `tokenizer.json`, or a checkpoint directory holding one of them (`tokenizer.json` first,
then `tokenizer.model` / `spiece.model`). `flan-jax train` sets it from gin's `VOCABULARY` (or
the decoder checkpoint it starts from), and `eval` / `infer` from the run's record. The file is
read once per process, when text is first tokenized, never at registration.
"""

from __future__ import annotations

import functools
import os

import seqio

from flan_jax import errors
from flan_jax.data import hf_vocab

T5_SPM_PATH = "gs://t5-data/vocabs/cc_all.32000/sentencepiece.model"
T5_EXTRA_IDS = 100
SPM_FILES_IN_DIRECTORY = ("tokenizer.model", "spiece.model")  # Llama's and T5's names.
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


def resolve(path: str) -> tuple[str, str]:
  """("tokenizer.json" or "sentencepiece", file) that a VOCABULARY setting names.

  Remote paths are not probed (registration reads nothing): a `*.json` is a tokenizer.json,
  anything else a SentencePiece model. A directory without any of the files resolves to its
  (missing) tokenizer.json, which registration reports.
  """
  path = str(path)
  if path.endswith(".json"):
    return "tokenizer.json", path
  if "://" in path or not os.path.isdir(path):
    return "sentencepiece", path
  if os.path.isfile(os.path.join(path, hf_vocab.TOKENIZER_FILE)):
    return "tokenizer.json", os.path.join(path, hf_vocab.TOKENIZER_FILE)
  for name in SPM_FILES_IN_DIRECTORY:
    if os.path.isfile(os.path.join(path, name)):
      return "sentencepiece", os.path.join(path, name)
  return "tokenizer.json", os.path.join(path, hf_vocab.TOKENIZER_FILE)


@functools.lru_cache(maxsize=None)
def _vocabulary(path: str, extra_ids: int) -> seqio.Vocabulary:
  kind, file = resolve(path)
  if kind == "tokenizer.json":
    return hf_vocab.HfTokenizerVocabulary(file)
  return T5Vocabulary(file, extra_ids=extra_ids)


def vocabulary() -> seqio.Vocabulary:
  """T5's vocabulary, or the one `FLAN_JAX_VOCABULARY` names (one instance per path)."""
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
