"""The toy SentencePiece (BPE) vocabulary: trained on first use from the toy train text, then cached.

No download: the model is trained deterministically (one thread, fixed input order) and
written atomically (temp file, then rename) under $FLAN_JAX_CACHE_DIR, keyed by a hash of
its training text and trainer settings, so concurrent processes never see a partial file.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import io
import os
import uuid
from typing import Callable

import seqio

TOY_VOCAB_SIZE = 1024  # Total ids: pad 0, eos 1, unk 2, '\n', 256 byte pieces, learned pieces.

_TRAINER_ARGS = dict(
    model_type="bpe",
    vocab_size=TOY_VOCAB_SIZE,
    byte_fallback=True,
    pad_id=0,
    eos_id=1,
    unk_id=2,
    bos_id=-1,
    user_defined_symbols=["\n"],
    normalization_rule_name="nfkc",
    remove_extra_whitespaces=False,
    split_digits=True,
    num_threads=1,
    input_sentence_size=0,
    shuffle_input_sentence=False,
    max_sentence_length=8192,
    hard_vocab_limit=False,
    minloglevel=2,
)


def cache_dir() -> str:
  """$FLAN_JAX_CACHE_DIR, else ~/.cache/flan_jax."""
  return os.environ.get("FLAN_JAX_CACHE_DIR") or os.path.join(
      os.path.expanduser("~"), ".cache", "flan_jax")


def train_sentencepiece(lines: list[str]) -> bytes:
  """Trains the toy SentencePiece model on `lines` and returns the serialized model."""
  import sentencepiece as spm  # pylint: disable=g-import-not-at-top
  model = io.BytesIO()
  spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=model,
                                 **_TRAINER_ARGS)
  return model.getvalue()


def _fingerprint(lines: list[str]) -> str:
  import sentencepiece as spm  # pylint: disable=g-import-not-at-top
  h = hashlib.sha256()
  h.update(repr(sorted(_TRAINER_ARGS.items())).encode())
  h.update(spm.__version__.encode())
  for line in lines:
    h.update(line.encode("utf-8"))
    h.update(b"\x00")
  return h.hexdigest()[:20]


def cached_model_file(name: str, lines_fn: Callable[[], list[str]]) -> str:
  """Returns the path of a cached SentencePiece model, training it first if missing."""
  lines = lines_fn()
  directory = cache_dir()
  os.makedirs(directory, exist_ok=True)
  path = os.path.join(directory, f"{name}_{_fingerprint(lines)}.model")
  if os.path.exists(path):
    return path
  with open(path + ".lock", "a") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)  # Others wait here, then find the finished file.
    try:
      if not os.path.exists(path):
        tmp = f"{path}.tmp.{os.getpid()}.{uuid.uuid4().hex}"
        with open(tmp, "wb") as f:
          f.write(train_sentencepiece(lines))
        os.replace(tmp, path)
    finally:
      fcntl.flock(lock, fcntl.LOCK_UN)
  return path


class LazySentencePieceVocabulary(seqio.SentencePieceVocabulary):
  """A SentencePieceVocabulary whose model file is built on first access, not at creation."""

  def __init__(self, key: str, build: Callable[[], str], extra_ids: int = 0):
    super().__init__(sentencepiece_model_file="", extra_ids=extra_ids)
    self._key = key
    self._build = build

  def _model_context(self):
    if not self._sentencepiece_model_file:
      self._sentencepiece_model_file = self._build()
    return super()._model_context()

  @property
  def sentencepiece_model_file(self) -> str:
    self._model_context()
    return self._sentencepiece_model_file

  def __eq__(self, other):
    return (isinstance(other, LazySentencePieceVocabulary) and self._key == other._key
            and self._extra_ids == other._extra_ids)

  def __hash__(self):
    return hash((self._key, self._extra_ids))

  def __str__(self) -> str:
    return f"LazySentencePieceVocabulary(key={self._key}, file={self._sentencepiece_model_file!r})"


def _toy_lines() -> list[str]:
  from flan_jax.data.toy import corpus  # pylint: disable=g-import-not-at-top
  return corpus.vocab_training_lines()


def _build_toy_model() -> str:
  return cached_model_file("toy_spm", _toy_lines)


@functools.lru_cache(maxsize=None)
def toy_vocabulary() -> seqio.Vocabulary:
  """The toy collection's vocabulary (BPE, 1024 ids, pad 0, eos 1, unk 2, no bos, byte fallback)."""
  return LazySentencePieceVocabulary("flan_jax.toy_spm.v1", _build_toy_model)

