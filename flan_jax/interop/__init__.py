"""Checkpoint interop with Hugging Face transformers and T5X.

Submodules: `hf` (transformers T5 directories), `hf_decoder` (transformers Llama / Falcon
directories <-> decoder-only PaLMConfig models), `t5x` (T5X checkpoints and name trees),
`native` (flan_jax's own Orbax format), `initial_checkpoint` (any of them, for training),
`hf_tokenizer` (a run's SentencePiece model, kept in MODEL_DIR and written as an HF tokenizer).
They all exchange unboxed float32 parameter trees (of `flan_jax.models.t5.Transformer`, or
`palm.DecoderOnly` for `hf_decoder`) with `scan_layers=False` (`param_tree.stack_layers` / `unstack_layers` convert layouts).
"""

import os

from flan_jax import errors


class ConversionError(errors.FlanJaxError, ValueError):
  """A checkpoint cannot be read, written or mapped onto the requested model."""


def contained_path(root: str, entry: str, source: str) -> str:
  """`root/entry`, refusing an entry that points outside `root` (`../x`, `/etc/passwd`,
  a symlink out): a checkpoint's own index must never make us read other files."""
  if not isinstance(entry, str) or not entry or os.path.isabs(entry):
    raise ConversionError(f"{source} names {entry!r}, which is not a path relative to the "
                          f"checkpoint folder {root!r}; refusing to read it.")
  base = os.path.realpath(root)
  full = os.path.realpath(os.path.join(base, entry))
  if os.path.commonpath([base, full]) != base:
    raise ConversionError(f"{source} names {entry!r}, which points outside the checkpoint "
                          f"folder {root!r}; refusing to read it.")
  return full
