"""`flan-jax convert --from hf|t5x|flan_jax --to flan_jax|hf|t5x SRC DST`: convert checkpoints.

hf: a transformers T5, Llama or Falcon directory (config.json + safetensors/.bin, sharded
or not; Llama/Falcon become decoder-only PaLMConfig models, see flan_jax/interop/hf_decoder.py). t5x: a T5X checkpoint
directory (legacy msgpack + TensorStore, or Orbax; a folder of checkpoint_N picks the
latest). flan_jax: config.json + Orbax params/. DST must be absent or empty.
The SentencePiece vocabulary travels too: `--to hf` writes spiece.model and a transformers
tokenizer (tokenizer.json, tokenizer_config.json) that encodes like flan_jax. A Hugging Face
tokenizer.json (an HF directory's, or a MODEL_DIR's vocabulary/ of a run that tokenized with
one) is copied as it is, with its config files.
"""

from __future__ import annotations

import argparse
import os

SOURCES = ("hf", "t5x", "flan_jax")
TARGETS = ("flan_jax", "hf", "t5x")


def main(argv: list[str]) -> int:
  parser = argparse.ArgumentParser(
      formatter_class=argparse.ArgumentDefaultsHelpFormatter,
      prog="flan-jax convert", description=__doc__)
  parser.add_argument("--from", dest="source_format", required=True, choices=SOURCES,
                      help="format of SRC.")
  parser.add_argument("--to", dest="target_format", required=True, choices=TARGETS,
                      help="format to write DST in.")
  parser.add_argument("src", metavar="SRC", help="checkpoint directory to read.")
  parser.add_argument("dst", metavar="DST", help="directory to write (absent or empty).")
  parser.add_argument("--vocabulary", default=None,
                      help="SentencePiece model to write with the checkpoint (default: the one "
                      "SRC holds: a MODEL_DIR's vocabulary/ or an HF directory's spiece.model).")
  parser.add_argument("--extra_ids", type=int, default=None,
                      help="sentinel ids after --vocabulary's pieces (T5's: 100; default 0).")
  args = parser.parse_args(argv)
  from flan_jax.cli import console_log
  console_log.quiet_library_warnings()  # Orbax's absl notes about metadata files.
  tokenizer = convert(args.source_format, args.target_format, args.src, args.dst,
                      args.vocabulary, args.extra_ids)
  print(f"Converted {args.source_format} checkpoint {args.src} -> {args.target_format} "
        f"at {args.dst}")
  if tokenizer:
    print(tokenizer)
  elif args.target_format != "t5x":
    print(f"No tokenizer written: {args.src} holds no SentencePiece model or tokenizer.json; "
          "pass --vocabulary PATH (and --extra_ids N) to add one.")
  return 0


def convert(source_format: str, target_format: str, src: str, dst: str,
            vocabulary: str | None = None, extra_ids: int | None = None) -> str | None:
  """Reads SRC in one format and writes DST in another; checks both paths first.

  The SentencePiece model (`vocabulary`, else the one SRC holds) goes along: an HF target
  gets a tokenizer, a flan_jax target a vocabulary/ folder; else SRC's Hugging Face tokenizer
  files are copied. Returns a line saying which tokenizer was written, or None.
  """
  from flan_jax.interop import ConversionError, hf_tokenizer
  if not os.path.exists(src):
    raise ConversionError(f"Source {src!r} does not exist.")
  if os.path.exists(dst) and (not os.path.isdir(dst) or os.listdir(dst)):
    raise ConversionError(f"Refusing to overwrite {dst!r}: it exists and is not empty.")
  if extra_ids is not None and (extra_ids < 0 or not vocabulary):
    raise ConversionError(f"--extra_ids={extra_ids} needs --vocabulary and must be >= 0.")
  if vocabulary:
    hf_tokenizer.read_model(vocabulary)  # A bad file fails before any conversion work.
    found = (vocabulary, extra_ids or 0)
  else:
    found = hf_tokenizer.find_vocabulary(src)
  config, params = _read(source_format, src)
  _write(target_format, config, params, dst)
  if target_format == "t5x":
    return None
  if found is None:
    return _copy_hf_tokenizer(src, target_format, dst)
  if target_format == "hf":
    hf_tokenizer.save_tokenizer(*found, dst)
  else:
    hf_tokenizer.save_run_vocabulary(*found, dst)
  return f"Wrote the tokenizer of {found[0]} ({found[1]} extra ids)."


def _copy_hf_tokenizer(src: str, target_format: str, dst: str) -> str | None:
  """A tokenizer.json travels as is: a run's (MODEL_DIR/vocabulary/) or a decoder's own."""
  from flan_jax.interop import hf_decoder, hf_tokenizer
  run_tokenizer = hf_tokenizer.find_run_tokenizer(src)
  if run_tokenizer and target_format == "flan_jax":
    tokenizer_file = os.path.join(run_tokenizer, hf_tokenizer.TOKENIZER_JSON)
    from flan_jax.data import hf_vocab  # pylint: disable=g-import-not-at-top
    vocab = hf_vocab.HfTokenizerVocabulary(tokenizer_file)
    copied = hf_tokenizer.save_run_tokenizer(tokenizer_file, vocab.eos_id, dst,
                                             vocab.id_zero_stand_in)
  else:
    copied = hf_decoder.copy_tokenizer(run_tokenizer or src, dst)
  if not copied:
    return None
  return f"Copied the tokenizer files of {run_tokenizer or src}: {', '.join(copied)}."


def _read(source_format: str, src: str):
  from flan_jax.interop import hf, hf_decoder, native, param_tree, t5x
  if source_format == "hf" and hf_decoder.model_type_of(src):
    model, params = hf_decoder.load_decoder(src)
    return model.config, params
  if source_format == "hf":
    model, params = hf.load_t5(src)
    return model.config, params
  if source_format == "t5x":
    model, params = t5x.load_t5(src)
    return model.config, params
  config, params = native.load(src)
  if config.scan_layers:
    params = param_tree.unstack_layers(params)
  return config.replace(scan_layers=False), params


def _write(target_format: str, config, params, dst: str) -> None:
  from flan_jax.interop import hf, hf_decoder, native, t5x
  from flan_jax.models import palm, t5
  if target_format == "flan_jax":
    native.save(config, params, dst)
  elif target_format == "hf" and isinstance(config, palm.PaLMConfig):
    hf_decoder.save_decoder(palm.DecoderOnly(config), params, dst)
  elif target_format == "hf":
    hf.save_t5(t5.Transformer(config), params, dst)
  else:
    t5x.save_legacy(params, dst)
