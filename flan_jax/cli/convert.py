"""`flan-jax convert --from hf|t5x|flan_jax --to flan_jax|hf|t5x SRC DST`: convert checkpoints.

hf: a transformers T5 directory (config.json + safetensors/.bin). t5x: a T5X checkpoint
directory (legacy msgpack + TensorStore, or Orbax; a folder of checkpoint_N picks the
latest). flan_jax: config.json + Orbax params/. DST must be absent or empty.
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
  args = parser.parse_args(argv)
  convert(args.source_format, args.target_format, args.src, args.dst)
  print(f"Converted {args.source_format} checkpoint {args.src} -> {args.target_format} "
        f"at {args.dst}")
  return 0


def convert(source_format: str, target_format: str, src: str, dst: str) -> None:
  """Reads SRC in one format and writes DST in another; checks both paths first."""
  from flan_jax.interop import ConversionError
  if not os.path.exists(src):
    raise ConversionError(f"Source {src!r} does not exist.")
  if os.path.exists(dst) and (not os.path.isdir(dst) or os.listdir(dst)):
    raise ConversionError(f"Refusing to overwrite {dst!r}: it exists and is not empty.")
  config, params = _read(source_format, src)
  _write(target_format, config, params, dst)


def _read(source_format: str, src: str):
  from flan_jax.interop import hf, native, param_tree, t5x
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
  from flan_jax.interop import hf, native, t5x
  from flan_jax.models import t5
  if target_format == "flan_jax":
    native.save(config, params, dst)
  elif target_format == "hf":
    hf.save_t5(t5.Transformer(config), params, dst)
  else:
    t5x.save_legacy(params, dst)
