"""The SentencePiece vocabulary of a run, kept in MODEL_DIR and written as a transformers tokenizer.

A flan_jax MODEL_DIR holds `vocabulary/spiece.model` and `vocabulary/vocabulary.json` (extra
ids), copied at run start; a run that tokenized with a Hugging Face `tokenizer.json` holds
that file and its config files instead (`save_run_tokenizer`), exported as they are.
`save_tokenizer` writes `spiece.model` plus a `tokenizer.json` built from the model's own
settings (BPE or Unigram, byte fallback, normalizer, user symbols, seqio's `<extra_id_N>`
pieces), so `AutoTokenizer.from_pretrained` encodes text to the same ids as seqio and appends
EOS as flan_jax's features do.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from etils import epath

from flan_jax.interop import ConversionError
from flan_jax.runtime import model_dir as model_dir_layout

SPM_FILE = "spiece.model"
VOCABULARY_DIR = model_dir_layout.VOCABULARY_DIR
VOCABULARY_INFO = model_dir_layout.VOCABULARY_INFO
TOKENIZER_JSON = model_dir_layout.TOKENIZER_JSON_KIND
_USER_DEFINED = 4  # SentencePiece piece type.


def read_model(model_file: str) -> bytes:
  """The bytes of a SentencePiece model file (local or gs://), or a clear error."""
  path = epath.Path(model_file)
  try:
    data = path.read_bytes()
  except Exception as e:  # pylint: disable=broad-except  # missing file, no gs:// access...
    raise ConversionError(f"Cannot read the SentencePiece model {model_file!r} "
                          f"({type(e).__name__}: {e}). Pass an existing file.") from None
  _parse(data, model_file)
  return data


def _parse(data: bytes, name: str) -> Any:
  from sentencepiece import sentencepiece_model_pb2  # pylint: disable=g-import-not-at-top
  proto = sentencepiece_model_pb2.ModelProto()
  try:
    proto.ParseFromString(data)
  except Exception:  # pylint: disable=broad-except
    proto = None
  if proto is None or not proto.pieces:
    raise ConversionError(f"{name!r} is not a SentencePiece model file.")
  return proto


def save_run_vocabulary(model_file: str, extra_ids: int, model_dir: str) -> None:
  """Copies the model file into MODEL_DIR/vocabulary/ with its extra ids (atomic writes)."""
  data = read_model(model_file)
  info = json.dumps({"file": SPM_FILE, "extra_ids": int(extra_ids),
                     "source": str(model_file)}, indent=2, sort_keys=True)
  _write_atomically(epath.Path(model_dir) / VOCABULARY_DIR,
                    {SPM_FILE: data, VOCABULARY_INFO: info.encode()})


def _write_atomically(folder: epath.Path, files: dict[str, bytes]) -> None:
  folder.mkdir(parents=True, exist_ok=True)
  for name, payload in files.items():
    tmp = folder / f"{name}.tmp.{os.getpid()}.{uuid.uuid4().hex}"
    tmp.write_bytes(payload)
    tmp.replace(folder / name)


def save_seqio_vocabulary(vocabulary: Any, model_dir: str) -> bool:
  """Copies a seqio SentencePieceVocabulary's model, or an HfTokenizerVocabulary's files,
  into MODEL_DIR; False for other kinds."""
  tokenizer_file = getattr(vocabulary, "tokenizer_file", None)
  if tokenizer_file:
    save_run_tokenizer(tokenizer_file, vocabulary.eos_id, model_dir,
                       vocabulary.id_zero_stand_in)
    return True
  model_file = getattr(vocabulary, "sentencepiece_model_file", None)
  if not model_file:
    return False
  save_run_vocabulary(model_file, vocabulary.extra_ids, model_dir)
  return True


def save_run_tokenizer(tokenizer_file: str, eos_id: int, model_dir: str,
                       bos_id: int | None = None) -> list[str]:
  """Copies a tokenizer.json and the tokenizer files beside it into MODEL_DIR/vocabulary/
  (atomic writes); returns the names written. Where none of the copies names the EOS (or the
  BOS `bos_id`, given when the vocabulary exchanges it with a text id 0), a
  generation_config.json naming it is added, so the copy tokenizes the same."""
  from flan_jax.interop import hf_decoder  # pylint: disable=g-import-not-at-top
  source = epath.Path(tokenizer_file)
  try:
    files = {TOKENIZER_JSON: source.read_bytes()}
  except Exception as e:  # pylint: disable=broad-except
    raise ConversionError(f"Cannot read the tokenizer {tokenizer_file!r} "
                          f"({type(e).__name__}: {e}).") from None
  for name in hf_decoder.TOKENIZER_FILES:
    if name != TOKENIZER_JSON and (source.parent / name).exists():
      files[name] = (source.parent / name).read_bytes()
  config = json.loads(files.get("tokenizer_config.json", b"{}"))
  generation = json.loads(files.get("generation_config.json", b"{}"))
  added = {}
  if config.get("eos_token") is None and generation.get("eos_token_id") is None:
    added["eos_token_id"] = int(eos_id)
  if bos_id is not None and config.get("bos_token") is None \
      and generation.get("bos_token_id") is None:
    added["bos_token_id"] = int(bos_id)
  if added:
    files["generation_config.json"] = json.dumps(dict(generation, **added), indent=2).encode()
  info = {"file": TOKENIZER_JSON, "kind": TOKENIZER_JSON, "extra_ids": 0,
          "source": str(tokenizer_file)}
  files[VOCABULARY_INFO] = json.dumps(info, indent=2, sort_keys=True).encode()
  _write_atomically(epath.Path(model_dir) / VOCABULARY_DIR, files)
  return sorted(files)


def find_run_tokenizer(src: str) -> str | None:
  """The vocabulary/ folder of a MODEL_DIR whose run tokenized with a tokenizer.json."""
  found = model_dir_layout.saved_tokenizer_json(src)
  return os.path.dirname(found) if found else None


def find_vocabulary(src: str) -> tuple[str, int] | None:
  """(model file, extra ids) stored with a checkpoint directory, or None.

  flan_jax: `vocabulary/` as written by `save_run_vocabulary`; transformers: `spiece.model`
  with `extra_ids` from `tokenizer_config.json` (0 when absent).
  """
  folder = os.path.join(src, VOCABULARY_DIR)
  info_file = os.path.join(folder, VOCABULARY_INFO)
  if os.path.exists(info_file):
    with open(info_file) as f:
      info = json.load(f)
    if info.get("kind") == TOKENIZER_JSON:  # Not SentencePiece: see find_run_tokenizer.
      return None
    return os.path.join(folder, info.get("file", SPM_FILE)), int(info.get("extra_ids", 0))
  if os.path.exists(os.path.join(src, SPM_FILE)):
    extra_ids = 0
    config_file = os.path.join(src, "tokenizer_config.json")
    if os.path.exists(config_file):
      with open(config_file) as f:
        extra_ids = int(json.load(f).get("extra_ids", 0) or 0)
    return os.path.join(src, SPM_FILE), extra_ids
  return None


def with_extra_ids(proto: Any, extra_ids: int) -> Any:
  """The model with seqio's sentinel pieces appended (`▁<extra_id_{N-1}>` first, as seqio)."""
  for i in reversed(range(extra_ids)):
    proto.pieces.add(piece=f"▁<extra_id_{i}>", score=0.0, type=_USER_DEFINED)
  return proto


def build_tokenizer(model: bytes, extra_ids: int = 0):
  """A `tokenizers.Tokenizer` encoding like seqio's vocabulary, appending EOS to every text."""
  from tokenizers import AddedToken, decoders, processors  # pylint: disable=g-import-not-at-top
  try:
    from transformers.convert_slow_tokenizer import SpmConverter  # pylint: disable=g-import-not-at-top
    build = SpmConverter.build_tokenizer_from_spm_proto
  except (ImportError, AttributeError) as e:
    raise ConversionError("Writing the tokenizer needs transformers >= 5 (its "
                          "SpmConverter.build_tokenizer_from_spm_proto); upgrade it, or convert "
                          "without a vocabulary.") from e
  proto = with_extra_ids(_parse(model, "model"), extra_ids)
  spec = proto.trainer_spec
  if spec.model_type == 2:  # BPE
    vocab = {p.piece: i for i, p in enumerate(proto.pieces)}
  elif spec.model_type == 1:  # Unigram
    vocab = [(p.piece, p.score) for p in proto.pieces]
  else:
    raise ConversionError(f"SentencePiece model type {spec.model_type} (word/char) has no "
                          "transformers tokenizer here; use a BPE or Unigram model.")
  # legacy=True: the dummy prefix is added even before a leading space, as SentencePiece does.
  tokenizer = build(proto, vocab, legacy=True)
  specials = _special_pieces(proto)
  tokenizer.add_special_tokens([AddedToken(piece, normalized=False, special=True)
                                for name, piece in specials.items() if name != "unk_token"])
  first = []
  if spec.unk_id >= 0:  # Decode unknowns as SentencePiece does (" ⁇ "), not as "<unk>".
    first.append(decoders.Replace(proto.pieces[spec.unk_id].piece, _unk_surface(proto)))
  if spec.byte_fallback:
    # An ASCII byte is a whole character: decoding it on its own keeps it out of a run of
    # invalid bytes, which SentencePiece shows byte by byte but ByteFallback as all "\ufffd".
    first += [decoders.Replace(f"<0x{b:02X}>", chr(b)) for b in range(128)]
  if first:
    tokenizer.decoder = decoders.Sequence(first + [tokenizer.decoder])
  eos = specials["eos_token"]
  tokenizer.post_processor = processors.TemplateProcessing(
      single=f"$A:0 {eos}:0", pair=f"$A:0 {eos}:0 $B:1 {eos}:1",
      special_tokens=[(eos, spec.eos_id)])
  return tokenizer


def _unk_surface(proto: Any) -> str:
  return proto.trainer_spec.unk_surface or " \u2047 "


def _special_pieces(proto: Any) -> dict[str, str]:
  spec = proto.trainer_spec
  if spec.eos_id < 0:
    raise ConversionError("The SentencePiece model has no EOS id; flan_jax features need one.")
  ids = {"eos_token": spec.eos_id, "unk_token": spec.unk_id, "pad_token": spec.pad_id}
  return {name: proto.pieces[i].piece for name, i in ids.items() if i >= 0}


def save_tokenizer(model_file: str, extra_ids: int, path: str, model_max_length: int = 512
                   ) -> None:
  """Writes spiece.model, tokenizer.json, tokenizer_config.json and special_tokens_map.json."""
  model = read_model(model_file)
  tokenizer = build_tokenizer(model, extra_ids)
  os.makedirs(path, exist_ok=True)
  for name in (SPM_FILE, "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
    if os.path.exists(os.path.join(path, name)):
      raise ConversionError(f"Refusing to overwrite {os.path.join(path, name)!r}.")
  with open(os.path.join(path, SPM_FILE), "wb") as f:
    f.write(model)
  tokenizer.save(os.path.join(path, "tokenizer.json"))
  # No unk_token: transformers would then drop unknowns when skipping special tokens,
  # where seqio shows them (as " \u2047 ", the decoder's rendering).
  specials = {k: v for k, v in _special_pieces(_parse(model, model_file)).items()
              if k != "unk_token"}
  # The generic fast class loads tokenizer.json as written; T5Tokenizer would rebuild it
  # from spiece.model with T5's own (Unigram-only) pipeline.
  config = dict(specials, tokenizer_class="PreTrainedTokenizerFast",
                model_max_length=model_max_length, extra_ids=int(extra_ids),
                clean_up_tokenization_spaces=False,
                # Text such as "</s>" is tokenized as text, as SentencePiece does.
                split_special_tokens=True)
  with open(os.path.join(path, "tokenizer_config.json"), "w") as f:
    json.dump(config, f, indent=2, sort_keys=True)
  with open(os.path.join(path, "special_tokens_map.json"), "w") as f:
    json.dump(specials, f, indent=2, sort_keys=True)
