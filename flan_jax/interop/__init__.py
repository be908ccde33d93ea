"""Checkpoint interop with Hugging Face transformers and T5X.

Submodules: `hf` (transformers T5 directories), `t5x` (T5X checkpoints and name trees),
`native` (flan_jax's own Orbax format), `initial_checkpoint` (any of them, for training).
They all exchange unboxed float32 parameter trees of `flan_jax.models.t5.Transformer`
with `scan_layers=False` (`param_tree.stack_layers` / `unstack_layers` convert layouts).
"""

from flan_jax import errors


class ConversionError(errors.FlanJaxError, ValueError):
  """A checkpoint cannot be read, written or mapped onto the requested model."""
