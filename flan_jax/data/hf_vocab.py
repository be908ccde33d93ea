"""A Hugging Face `tokenizer.json` as a seqio vocabulary (Llama, Falcon, ... checkpoints).

Text is encoded without the tokenizer's special tokens (its post-processor's BOS/EOS): seqio's
`add_eos` appends EOS, and a BOS is the model's business. EOS comes from the checkpoint's
`tokenizer_config.json` (`eos_token`), else `generation_config.json` / `config.json`
(`eos_token_id`). The tokenizer is read on first use, so tasks pickle (Beam) and register
without reading it.

seqio treats id 0 as padding. Where the tokenizer's id 0 is a text token (byte-level BPE:
GPT-2, Llama 3's "!") and the checkpoint names a BOS token, the vocabulary exchanges ids 0
and BOS: "!" travels as the BOS id, and SeqIO's 0 (padding, and the start of every
sequence) stands for the BOS, which encoded text never holds. The decoder model applies
the same exchange (`PaLMConfig.id_zero_is_text`), so it sees the checkpoint's own ids.
Without a known BOS the token counts as padding (no loss) and decoding drops it; a warning
says so.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
from typing import Any, NamedTuple, Sequence

import numpy as np
import seqio
import tensorflow as tf
from etils import epath

from flan_jax import errors

TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG = "tokenizer_config.json"
# Where an EOS / BOS id may be written, after tokenizer_config.json, in the order asked.
_ID_FILES = ("generation_config.json", "config.json")


class TokenizerFileError(errors.ConfigError):
  """A tokenizer.json that is missing, unreadable, or lacks what seqio needs (EOS)."""


def tokenizer_file_of(path: str) -> str:
  """The tokenizer.json of `path` (the file itself, or the one in a directory)."""
  p = epath.Path(path)
  return str(p / TOKENIZER_FILE) if p.is_dir() else str(p)


def _read_json(path: epath.Path) -> dict | None:
  if not path.exists():
    return None
  try:
    return json.loads(path.read_text())
  except ValueError as e:
    raise TokenizerFileError(f"{path} is not valid JSON ({e}); fix or remove it.") from None


def _token_content(token: Any) -> str | None:
  """`eos_token` as tokenizer_config.json writes it: a string or {"content": ...}."""
  if isinstance(token, dict):
    return token.get("content")
  return token if isinstance(token, str) else None


def _named_id(tokenizer: Any, folder: epath.Path, tokenizer_file: str, kind: str
              ) -> int | None:
  """The `kind` ("eos" / "bos") id the checkpoint in `folder` names: tokenizer_config.json's
  `{kind}_token`, else `{kind}_token_id` of generation_config.json / config.json (the first
  of a list, as Llama 3's generation_config.json writes it); None if none names one."""
  token = _token_content((_read_json(folder / TOKENIZER_CONFIG) or {}).get(f"{kind}_token"))
  if token is not None:
    found = tokenizer.token_to_id(token)
    if found is None:
      raise TokenizerFileError(
          f"{folder / TOKENIZER_CONFIG}: {kind}_token {token!r} is not a token of "
          f"{tokenizer_file}; set {kind}_token to one of its tokens.")
    return int(found)
  for name in _ID_FILES:
    found = (_read_json(folder / name) or {}).get(f"{kind}_token_id")
    if isinstance(found, (list, tuple)):
      found = found[0] if found else None
    if found is not None:
      return int(found)
  return None


def find_eos_id(tokenizer: Any, folder: epath.Path, tokenizer_file: str) -> int:
  """The EOS id of the tokenizer in `folder`, from its config files; a clear error if none."""
  eos = _named_id(tokenizer, folder, tokenizer_file, "eos")
  if eos is None:
    raise TokenizerFileError(
        f"No EOS token is known for {tokenizer_file}: none of {TOKENIZER_CONFIG} (eos_token), "
        f"{', '.join(_ID_FILES)} (eos_token_id) in {folder} names one. To fix: add "
        f'"eos_token": "<the end-of-text token>" to {folder / TOKENIZER_CONFIG}.')
  return eos


def id_zero_is_text(tokenizer_json: dict) -> bool:
  """Whether id 0 of a parsed tokenizer.json is a text token (byte-level BPE: GPT-2's and
  Llama 3's "!"), not a special one (Llama 1/2 `<unk>`, T5 `<pad>`, Falcon `>>TITLE<<`)."""
  for token in tokenizer_json.get("added_tokens") or []:
    if token.get("id") == 0:
      return not token.get("special", False)
  vocab = (tokenizer_json.get("model") or {}).get("vocab")
  if isinstance(vocab, dict):
    return 0 in vocab.values()
  return bool(vocab)  # Unigram: a list whose first entry is id 0.


def exchange_ids(ids: np.ndarray, other: int) -> np.ndarray:
  """`ids` with 0 and `other` exchanged (its own inverse)."""
  ids = np.asarray(ids)
  return np.where(ids == 0, other, np.where(ids == other, 0, ids)).astype(ids.dtype)


def _unk_id(tokenizer: Any, tokenizer_json: dict) -> int | None:
  """The tokenizer model's unknown token (BPE/WordPiece/WordLevel unk_token, Unigram unk_id)."""
  model = tokenizer_json.get("model") or {}
  if model.get("unk_id") is not None:
    return int(model["unk_id"])
  if model.get("unk_token"):
    found = tokenizer.token_to_id(model["unk_token"])
    return None if found is None else int(found)
  return None


class _Loaded(NamedTuple):
  """What a tokenizer.json and the config files beside it say, read once per process."""
  tokenizer: Any
  eos_id: int
  unk_id: int | None
  sha256: str
  id_zero_stand_in: int | None  # The id exchanged with 0 (the BOS) where id 0 is text.


@functools.lru_cache(maxsize=None)
def _load(tokenizer_file: str) -> _Loaded:
  """The tokenizer and its ids, read once per process and file."""
  try:
    from tokenizers import Tokenizer  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise TokenizerFileError(f"Reading {tokenizer_file!r} needs the `tokenizers` package: "
                             "pip install 'flan_jax[hf]'.") from None
  path = epath.Path(tokenizer_file)
  try:
    text = path.read_text(encoding="utf-8")
  except Exception as e:  # pylint: disable=broad-except  # missing file, no gs:// access...
    raise TokenizerFileError(
        f"Cannot read the tokenizer {tokenizer_file!r} ({type(e).__name__}). Give the path "
        f"of a {TOKENIZER_FILE} or of a checkpoint directory holding one.") from None
  try:
    tokenizer = Tokenizer.from_str(text)
  except Exception as e:  # pylint: disable=broad-except  # tokenizers raises its own kinds.
    raise TokenizerFileError(f"{tokenizer_file!r} is not a Hugging Face tokenizer file "
                             f"({str(e).splitlines()[0] if str(e) else type(e).__name__}).") \
        from None
  tokenizer.no_truncation()  # A file may configure them; seqio trims and pads itself.
  tokenizer.no_padding()
  eos = find_eos_id(tokenizer, path.parent, tokenizer_file)
  parsed = json.loads(text)
  unk = _unk_id(tokenizer, parsed)
  zero_stand_in = None
  if id_zero_is_text(parsed):
    zero_stand_in = _named_id(tokenizer, path.parent, tokenizer_file, "bos")
    if zero_stand_in in (None, 0, eos):
      zero_stand_in = None
      logging.warning(
          "Id 0 of %s is the token %r, but seqio treats id 0 as padding and the checkpoint "
          "names no BOS token to exchange it with: it gets no loss in training and is "
          "dropped when decoding. Add bos_token to %s to keep it.", tokenizer_file,
          tokenizer.id_to_token(0), path.parent / TOKENIZER_CONFIG)
  return _Loaded(tokenizer, eos, unk, hashlib.sha256(text.encode("utf-8")).hexdigest(),
                 zero_stand_in)


class HfTokenizerVocabulary(seqio.Vocabulary):
  """seqio vocabulary over a Hugging Face `tokenizer.json` (the file, or a directory with it).

  Equal to another when the files' contents and EOS ids are equal; `vocab_size` counts the
  added tokens. Pickles as its path: the tokenizer is loaded on first use.
  """

  def __init__(self, path: str):
    super().__init__(extra_ids=0)
    self._file = tokenizer_file_of(path)

  @property
  def tokenizer_file(self) -> str:
    return self._file

  @property
  def _loaded(self) -> _Loaded:
    return _load(self._file)

  @property
  def tokenizer(self) -> Any:
    """The `tokenizers.Tokenizer` (loaded on first use)."""
    return self._loaded.tokenizer

  @property
  def content_sha256(self) -> str:
    return self._loaded.sha256

  @property
  def eos_id(self) -> int:
    return self._loaded.eos_id

  @property
  def unk_id(self) -> int | None:
    return self._loaded.unk_id

  @property
  def bos_id(self) -> None:
    return None  # Not added by the vocabulary (see the module docstring).

  @property
  def id_zero_stand_in(self) -> int | None:
    """The id that stands for the tokenizer's id 0 (its BOS id), when id 0 is text."""
    return self._loaded.id_zero_stand_in

  def _to_seqio(self, ids: np.ndarray) -> np.ndarray:
    other = self.id_zero_stand_in
    return ids if other is None else exchange_ids(ids, other)

  @property
  def _base_vocab_size(self) -> int:
    return self.tokenizer.get_vocab_size(with_added_tokens=True)

  def _encode(self, s: str) -> Sequence[int]:
    ids = self.tokenizer.encode(s, add_special_tokens=False).ids
    return self._to_seqio(np.asarray(ids, np.int64)).tolist()

  def _decode(self, ids: Sequence[int]) -> str:
    kept = np.asarray([int(i) for i in ids if int(i) != self.pad_id], np.int64)
    return self.tokenizer.decode(self._to_seqio(kept).tolist(), skip_special_tokens=True)

  def _encode_batch(self, texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(concatenated ids, row lengths) of a 1-D array of byte strings."""
    encoded = self.tokenizer.encode_batch([t.decode("utf-8") for t in texts.tolist()],
                                          add_special_tokens=False)
    rows = [e.ids for e in encoded]
    flat = np.fromiter((i for row in rows for i in row), np.int32,
                       count=sum(len(r) for r in rows))
    return self._to_seqio(flat), np.asarray([len(r) for r in rows], np.int64)

  def _encode_tf(self, s: tf.Tensor) -> tf.Tensor:
    """A scalar string -> int32 ids; a rank-1 batch -> an int32 RaggedTensor, row by row."""
    s = tf.convert_to_tensor(s, tf.string)
    flat, lengths = tf.numpy_function(
        lambda x: self._encode_batch(np.reshape(x, [-1])), [s], (tf.int32, tf.int64),
        stateful=False)
    flat.set_shape([None])
    if s.shape.rank == 0:
      return flat
    return tf.RaggedTensor.from_row_lengths(flat, tf.reshape(lengths, [-1]), validate=False)

  def _decode_batch(self, ids: np.ndarray) -> np.ndarray:
    rows = ids.reshape(int(np.prod(ids.shape[:-1])), ids.shape[-1])  # Also for length 0.
    texts = [self._decode(row.tolist()).encode("utf-8") for row in rows]
    return np.asarray(texts + [b""], dtype=object)[:-1].reshape(ids.shape[:-1])

  def _decode_tf(self, ids: tf.Tensor) -> tf.Tensor:
    """int ids [..., length] (dense or ragged) -> strings [...]; id 0 (padding) is dropped."""
    if isinstance(ids, tf.RaggedTensor):
      ids = ids.to_tensor(self.pad_id)
    ids = tf.convert_to_tensor(ids)
    out = tf.numpy_function(self._decode_batch, [ids], tf.string, stateful=False)
    out.set_shape(ids.shape[:-1])
    return out

  def _identity(self) -> tuple[str, int, int | None]:
    return self.content_sha256, self.eos_id, self.id_zero_stand_in

  def __eq__(self, other: Any) -> bool:
    return (isinstance(other, HfTokenizerVocabulary)
            and (self._file == other._file or self._identity() == other._identity()))

  def __hash__(self) -> int:
    return hash(self._identity())

  def __str__(self) -> str:
    return f"HfTokenizerVocabulary({self._file!r})"
