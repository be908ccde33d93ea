"""T5X-named parameter trees: architecture inference, shape checks, scanned layouts.

Shared by every converter so that a checkpoint that does not fit its model fails with one
message listing what differs, before any array is placed on a device.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util

from flan_jax import errors
from flan_jax.interop import ConversionError
from flan_jax.models import t5

PyTree = Any
SCAN_AXIS = t5.SCAN_AXIS


def find_params(tree: Mapping[str, Any]) -> Mapping[str, Any]:
  """The T5 params inside a checkpoint tree ({'optimizer': {'target': ...}}, 'params', ...)."""
  node = tree
  for _ in range(4):
    if isinstance(node, Mapping) and {"token_embedder", "encoder", "decoder"} <= set(node):
      return node
    for key in ("optimizer", "target", "params", "state"):
      if isinstance(node, Mapping) and key in node and isinstance(node[key], Mapping):
        node = node[key]
        break
    else:
      break
  top = sorted(tree) if isinstance(tree, Mapping) else type(tree).__name__
  raise ConversionError("No T5 parameters (token_embedder/encoder/decoder) found in the "
                        f"checkpoint; its top-level keys are {top}.")


def infer_config(params: Mapping[str, Any], **overrides: Any) -> t5.T5Config:
  """Architecture from T5X-named, unscanned param shapes; `overrides` set other fields.

  relative_attention_max_distance cannot be seen in shapes and stays 128 unless given.
  """
  try:
    vocab, emb = np.shape(params["token_embedder"]["embedding"])
    heads, buckets = np.shape(params["encoder"]["relpos_bias"]["rel_embedding"])
    enc, dec = params["encoder"], params["decoder"]
    joined = np.shape(enc["layers_0"]["attention"]["query"]["kernel"])[1]
    mlp = enc["layers_0"]["mlp"]
  except (KeyError, TypeError, ValueError) as e:
    raise ConversionError(f"Cannot infer the T5 architecture: missing or scanned param {e}."
                          " Pass an explicit T5Config.") from e
  count = lambda stack: sum(bool(re.fullmatch(r"layers_\d+", k)) for k in stack)
  gated = "wi_0" in mlp and "wi_1" in mlp
  fields = dict(
      vocab_size=int(vocab), emb_dim=int(emb), num_heads=int(heads), head_dim=int(joined // heads),
      num_encoder_layers=count(enc), num_decoder_layers=count(dec),
      mlp_dim=int(np.shape(mlp["wo"]["kernel"])[0]),
      mlp_activations=("gelu", "linear") if gated else ("relu",),
      logits_via_embedding="logits_dense" not in dec, relative_attention_num_buckets=int(buckets))
  fields.update(overrides)
  return t5.T5Config(**fields)


def expected_shapes(cfg: Any) -> dict[tuple[str, ...], tuple[int, ...]]:
  """Flat {path: shape} of the params the model of `cfg` (any family) creates (no FLOPs
  spent)."""
  from flan_jax.models import families  # pylint: disable=g-import-not-at-top
  family = families.family_of(cfg)
  dummy = family.dummy_inputs({"inputs": 2, "targets": 2})
  boxed = jax.eval_shape(lambda: family.build(cfg).init(
      jax.random.PRNGKey(0), **dummy, enable_dropout=False))["params"]
  flat = traverse_util.flatten_dict(unbox(boxed))
  return {k: tuple(v.shape) for k, v in flat.items()}


def check_params(cfg: Any, params: Mapping[str, Any], source: str = "checkpoint") -> None:
  """Raises CheckpointMismatchError naming missing, unexpected and mis-shaped params."""
  want = expected_shapes(cfg)
  have = {k: tuple(np.shape(v)) for k, v in traverse_util.flatten_dict(unbox(params)).items()}
  missing = sorted("/".join(k) for k in want.keys() - have.keys())
  extra = sorted("/".join(k) for k in have.keys() - want.keys())
  wrong = sorted(f"{'/'.join(k)} {have[k]} != {want[k]}" for k in want.keys() & have.keys()
                 if have[k] != want[k])
  if missing or extra or wrong:
    parts = [f"{name}: {', '.join(v[:4])}{' ...' if len(v) > 4 else ''}"
             for name, v in (("missing", missing), ("unexpected", extra), ("shape", wrong)) if v]
    raise errors.CheckpointMismatchError(
        f"The {source} does not fit {cfg}: " + "; ".join(parts))


def stack_layers(params: Mapping[str, Any]) -> PyTree:
  """Unrolled `layers_{i}` params -> one scanned `layers` subtree per stack (T5's encoder
  and decoder, or a decoder-only model's decoder)."""
  out = dict(params)
  for stack in ("encoder", "decoder"):
    if stack not in params:
      continue
    tree = dict(params[stack])
    names = sorted((k for k in tree if re.fullmatch(r"layers_\d+", k)),
                   key=lambda k: int(k.split("_")[1]))
    if not names:
      continue
    layers = [tree.pop(k) for k in names]
    tree["layers"] = jax.tree.map(lambda *xs: np.stack(xs, axis=SCAN_AXIS), *layers)
    out[stack] = tree
  return out


def unstack_layers(params: Mapping[str, Any]) -> PyTree:
  """Scanned `layers` subtree per stack -> unrolled `layers_{i}` params."""
  out = dict(params)
  for stack in ("encoder", "decoder"):
    if stack not in params:
      continue
    tree = dict(params[stack])
    if "layers" not in tree:
      continue
    scanned = tree.pop("layers")
    n = np.shape(jax.tree.leaves(scanned)[0])[SCAN_AXIS]
    for i in range(n):
      tree[f"layers_{i}"] = jax.tree.map(lambda x: np.take(np.asarray(x), i, axis=SCAN_AXIS),
                                         scanned)
    out[stack] = tree
  return out


def unbox(tree: PyTree) -> PyTree:
  """Plain values of logically partitioned boxes.

  Unlike `nn.meta.unbox`, this adds no sharding constraint, so it is safe on host arrays
  and shape structs while a mesh is active (e.g. when the trainer loads a checkpoint).
  """
  import flax.linen as nn
  is_box = lambda x: isinstance(x, nn.meta.AxisMetadata)
  return jax.tree_util.tree_map(lambda x: x.unbox(apply_constraint=False) if is_box(x) else x,
                                tree, is_leaf=is_box)


def set_at(tree: dict, path: tuple[str, ...], value: Any) -> None:
  """Puts `value` at `path` in a nested dict, making the dicts on the way."""
  for key in path[:-1]:
    tree = tree.setdefault(key, {})
  tree[path[-1]] = value


def get_at(tree: PyTree, path: tuple[str, ...]) -> Any:
  """The value at `path` of a nested dict; ConversionError naming the path if absent."""
  for key in path:
    if key not in tree:
      raise ConversionError(f"Params lack {'/'.join(path)}.")
    tree = tree[key]
  return tree
