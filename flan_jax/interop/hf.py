"""Hugging Face transformers T5 directories <-> flan_jax T5 parameters.

A directory holds `config.json` plus `model.safetensors` (or `pytorch_model.bin`, or a
sharded `*.index.json`). `.bin` files are read with `torch.load(weights_only=True)` only.
Writing needs no torch: safetensors are written from numpy. HF Linear weights are
[out, in] and T5X kernels [in, out], so every 2-D weight but the embedding is transposed.
"""

from __future__ import annotations

import json
import os
import pickle
import re
from typing import Any, Iterator

import numpy as np

from flan_jax.interop import ConversionError, contained_path
from flan_jax.interop import param_tree
from flan_jax.models import t5

PyTree = Any

# Our activation names <-> transformers' ACT2FN names.
_TO_HF_ACT = {"gelu": "gelu_new", "gelu_exact": "gelu", "relu": "relu", "silu": "silu"}
_FROM_HF_ACT = {"gelu_new": "gelu", "gelu_pytorch_tanh": "gelu", "gelu": "gelu_exact",
                "relu": "relu", "silu": "silu", "swish": "silu"}
_SAFETENSORS = "model.safetensors"
_TORCH_BIN = "pytorch_model.bin"


def config_from_hf(hf: dict, **overrides: Any) -> t5.T5Config:
  """T5Config from a transformers T5 `config.json` dict; `overrides` set other fields."""
  proj = hf.get("feed_forward_proj", "relu")
  parts = proj.split("-")
  act = "gelu" if proj == "gated-gelu" else _FROM_HF_ACT.get(parts[-1])
  if act is None or len(parts) > 2 or (len(parts) == 2 and parts[0] != "gated"):
    raise ConversionError(f"Unsupported feed_forward_proj {proj!r} in config.json.")
  num_layers = hf.get("num_layers", 6)
  fields = dict(
      vocab_size=hf.get("vocab_size", 32128), emb_dim=hf.get("d_model", 512),
      num_heads=hf.get("num_heads", 8), num_encoder_layers=num_layers,
      num_decoder_layers=hf.get("num_decoder_layers") or num_layers,
      head_dim=hf.get("d_kv", 64), mlp_dim=hf.get("d_ff", 2048),
      mlp_activations=(act, "linear") if parts[0] == "gated" else (act,),
      dropout_rate=hf.get("dropout_rate", 0.1),
      logits_via_embedding=hf.get("tie_word_embeddings", True) is not False,
      relative_attention_num_buckets=hf.get("relative_attention_num_buckets", 32),
      relative_attention_max_distance=hf.get("relative_attention_max_distance", 128),
      layer_norm_epsilon=hf.get("layer_norm_epsilon", 1e-6))
  fields.update(overrides)
  return t5.T5Config(**fields)


def config_to_hf(cfg: t5.T5Config) -> dict:
  """A transformers `config.json` dict describing the same architecture."""
  acts = cfg.mlp_activations
  gated = len(acts) == 2 and acts[1] == "linear"
  if not (gated or len(acts) == 1) or acts[0] not in _TO_HF_ACT:
    raise ConversionError(f"mlp_activations={acts} has no transformers T5 equivalent.")
  proj = _TO_HF_ACT[acts[0]]
  proj = ("gated-gelu" if proj == "gelu_new" else f"gated-{proj}") if gated else proj
  return {
      "architectures": ["T5ForConditionalGeneration"], "model_type": "t5",
      "vocab_size": cfg.vocab_size, "d_model": cfg.emb_dim, "d_kv": cfg.head_dim,
      "d_ff": cfg.mlp_dim, "num_layers": cfg.num_encoder_layers,
      "num_decoder_layers": cfg.num_decoder_layers, "num_heads": cfg.num_heads,
      "relative_attention_num_buckets": cfg.relative_attention_num_buckets,
      "relative_attention_max_distance": cfg.relative_attention_max_distance,
      "dropout_rate": cfg.dropout_rate, "layer_norm_epsilon": cfg.layer_norm_epsilon,
      "feed_forward_proj": proj, "tie_word_embeddings": cfg.logits_via_embedding,
      "is_encoder_decoder": True, "decoder_start_token_id": 0, "pad_token_id": 0,
      "eos_token_id": 1, "initializer_factor": 1.0,
  }


def name_pairs(cfg: t5.T5Config) -> Iterator[tuple[str, tuple[str, ...], bool]]:
  """(HF key, flan_jax param path, transpose?) for every weight of `cfg` but the output."""
  yield "shared.weight", ("token_embedder", "embedding"), False
  mlp = (["wi"] if len(cfg.mlp_activations) == 1 else
         [f"wi_{i}" for i in range(len(cfg.mlp_activations))]) + ["wo"]
  stacks = (("encoder", cfg.num_encoder_layers, [("SelfAttention", "attention")],
             "pre_attention_layer_norm"),
            ("decoder", cfg.num_decoder_layers,
             [("SelfAttention", "self_attention"),
              ("EncDecAttention", "encoder_decoder_attention")],
             "pre_self_attention_layer_norm"))
  for stack, n, attentions, first_norm in stacks:
    yield (f"{stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
           (stack, "relpos_bias", "rel_embedding"), True)
    for i in range(n):
      hf, ours = f"{stack}.block.{i}.layer", (stack, f"layers_{i}")
      norms = [first_norm, "pre_cross_attention_layer_norm"]
      for j, (hf_attn, attn) in enumerate(attentions):
        yield f"{hf}.{j}.layer_norm.weight", ours + (norms[j], "scale"), False
        for hf_proj, proj in zip("qkvo", ("query", "key", "value", "out")):
          yield f"{hf}.{j}.{hf_attn}.{hf_proj}.weight", ours + (attn, proj, "kernel"), True
      j = len(attentions)
      yield f"{hf}.{j}.layer_norm.weight", ours + ("pre_mlp_layer_norm", "scale"), False
      for name in mlp:
        yield f"{hf}.{j}.DenseReluDense.{name}.weight", ours + ("mlp", name, "kernel"), True
    norm = "encoder_norm" if stack == "encoder" else "decoder_norm"
    yield f"{stack}.final_layer_norm.weight", (stack, norm, "scale"), False


def params_from_state_dict(state: dict[str, np.ndarray], cfg: t5.T5Config) -> PyTree:
  """Nested float32 params from a transformers state dict (keys as in `name_pairs`)."""
  params: dict = {}
  for key, path, transpose in name_pairs(cfg):
    if key not in state:
      raise ConversionError(f"Hugging Face checkpoint lacks {key!r} (needed by {cfg}).")
    param_tree.set_at(params, path, _as_f32(state[key], transpose))
  lm_head = state.get("lm_head.weight")
  if not cfg.logits_via_embedding:
    if lm_head is None:
      raise ConversionError("config.json says tie_word_embeddings=false but the "
                            "checkpoint has no lm_head.weight.")
    param_tree.set_at(params, ("decoder", "logits_dense", "kernel"), _as_f32(lm_head, True))
  return params


def state_dict_from_params(params: PyTree, cfg: t5.T5Config) -> dict[str, np.ndarray]:
  """Contiguous float32 transformers state dict for `params` of `cfg`."""
  state = {}
  for key, path, transpose in name_pairs(cfg):
    state[key] = _as_f32(param_tree.get_at(params, path), transpose)
  if not cfg.logits_via_embedding:
    lm_head = param_tree.get_at(params, ("decoder", "logits_dense", "kernel"))
    state["lm_head.weight"] = _as_f32(lm_head, True)
  return state


def load_t5(path: str, **overrides: Any) -> tuple[t5.Transformer, PyTree]:
  """(Transformer, float32 params) from a transformers T5 directory.

  `overrides` set non-architecture fields (e.g. dtype='bfloat16', dropout_rate=0.0).
  A tied config whose checkpoint still has its own lm_head is folded into logits_dense.
  """
  hf_config = _read_json(os.path.join(path, "config.json"))
  cfg = config_from_hf(hf_config, **overrides)
  state = read_state_dict(path)
  lm_head = state.get("lm_head.weight")
  if (cfg.logits_via_embedding and lm_head is not None
      and not np.array_equal(np.asarray(lm_head), np.asarray(state["shared.weight"]))):
    # transformers then scales decoder outputs AND uses the separate lm_head.
    cfg = cfg.replace(logits_via_embedding=False)
    state = dict(state, **{"lm_head.weight": np.asarray(lm_head, np.float32)
                           * np.float32(cfg.emb_dim ** -0.5)})
  return t5.Transformer(cfg), params_from_state_dict(state, cfg)


def save_t5(model: t5.Transformer, params: PyTree, path: str) -> None:
  """Writes `config.json` + `model.safetensors` that transformers loads with equal logits.

  Untied (v1.1) models store `lm_head.weight` next to `shared.weight` with
  `tie_word_embeddings: false`, which transformers 5 loads untied.
  """
  from safetensors.numpy import save_file
  cfg = model.config
  if cfg.scan_layers:
    raise ConversionError("save_t5 needs scan_layers=False params; unstack them first "
                          "with flan_jax.interop.param_tree.unstack_layers.")
  _require_empty_dir(path)
  state = state_dict_from_params(param_tree.unbox(params), cfg)
  save_file(state, os.path.join(path, _SAFETENSORS), metadata={"format": "pt"})
  with open(os.path.join(path, "config.json"), "w") as f:
    json.dump(config_to_hf(cfg), f, indent=2, sort_keys=True)


def read_state_dict(path: str) -> dict[str, np.ndarray]:
  """All tensors of a transformers directory (single or sharded, safetensors or .bin)."""
  for name in (_SAFETENSORS, _TORCH_BIN):
    if os.path.exists(os.path.join(path, name)):
      return _read_weight_file(os.path.join(path, name))
    index = os.path.join(path, name + ".index.json")
    if os.path.exists(index):
      files = sorted(set(_read_json(index)["weight_map"].values()))
      state: dict = {}
      for file in files:
        state.update(_read_weight_file(contained_path(path, file, index)))
      return state
  raise ConversionError(f"{path!r} has no {_SAFETENSORS} or {_TORCH_BIN} (nor a sharded "
                        "index): it is not a Hugging Face checkpoint directory.")


def _read_weight_file(file: str) -> dict[str, np.ndarray]:
  if file.endswith(".safetensors"):
    from safetensors import safe_open
    out = {}
    with safe_open(file, framework="flax") as f:  # flax: bfloat16 reads without torch.
      for key in f.keys():
        out[key] = np.asarray(f.get_tensor(key), np.float32)
    return out
  try:
    import torch
  except ImportError as e:
    raise ConversionError(f"Reading {file!r} needs torch; install it or convert the "
                          "checkpoint to safetensors.") from e
  try:
    state = torch.load(file, map_location="cpu", weights_only=True)
  except pickle.UnpicklingError as e:  # weights_only refuses code and unknown objects.
    raise ConversionError(
        f"{file!r} holds more than plain tensors (weights-only loading refused it: "
        f"{_unpickling_reason(e)}). Nothing from it was run. Convert it to safetensors "
        "from a trusted source.") from e
  return {k: v.float().numpy() for k, v in state.items() if hasattr(v, "float")}


def _unpickling_reason(error: Exception) -> str:
  """What torch's weights-only loader refused, without its advice to load the file unsafely
  (`weights_only=False`), which would run the file's code."""
  found = re.search(r"WeightsUnpickler error: (.+?\.)(?:\s|$)", str(error))
  if found:  # "Unsupported global: GLOBAL io.open was not an allowed global by default."
    return found.group(1)[:300]
  paragraphs = [p.strip() for p in re.split(r"\n\s*\n", str(error)) if p.strip()]
  reasons = [p for p in paragraphs if "weights_only" not in p and "torch.load" not in p]
  return " ".join(reasons)[:300] or "it holds objects that are not tensors"


def _require_empty_dir(path: str) -> None:
  if os.path.isdir(path) and os.listdir(path):
    raise ConversionError(f"Refusing to write into non-empty directory {path!r}.")
  os.makedirs(path, exist_ok=True)


def _read_json(file: str) -> dict:
  if not os.path.exists(file):
    raise ConversionError(f"Missing {file!r}.")
  with open(file) as f:
    return json.load(f)


def _as_f32(x: Any, transpose: bool) -> np.ndarray:
  x = np.asarray(x, np.float32)
  return np.ascontiguousarray(x.T if transpose else x)
