"""Hugging Face Llama and Falcon directories <-> flan_jax decoder-only (PaLMConfig) params.

Which transformers architectures map onto which `PaLMConfig` variants:

- `llama` (LlamaForCausalLM): sequential blocks, RMSNorm, gated MLP (SwiGLU), RoPE,
  multi-head / grouped / multi-query attention (`num_key_value_heads`), tied or untied.
- `falcon` (FalconForCausalLM, `new_decoder_architecture=False`, no ALiBi, no biases):
  parallel (`parallel_attn=True`) or sequential blocks, LayerNorm with bias, GELU MLP,
  RoPE, multi-query or multi-head attention (its fused `query_key_value` is split).

Weights are read with `flan_jax.interop.hf.read_state_dict` (safetensors, .bin, sharded
index) and written as safetensors, sharded with an index above `max_shard_bytes`. A
tokenizer in the directory (`tokenizer.json` and its config files) is copied along.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any, Iterator

import numpy as np

from flan_jax.interop import ConversionError, hf, param_tree
from flan_jax.models import palm

PyTree = Any
MODEL_TYPES = ("llama", "falcon")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                   "tokenizer.model", "generation_config.json")
_SAFETENSORS = "model.safetensors"
# transformers' activation names <-> ours.
_FROM_HF_ACT = {"silu": "swish", "swish": "swish", "gelu": "gelu_exact", "gelu_new": "gelu",
                "gelu_pytorch_tanh": "gelu", "relu": "relu"}
_TO_HF_ACT = {"swish": "silu", "silu": "silu", "gelu_exact": "gelu", "gelu": "gelu_pytorch_tanh",
              "relu": "relu"}


def model_type_of(path: str) -> str | None:
  """'llama' or 'falcon' when `path/config.json` describes one, else None."""
  config = os.path.join(path, "config.json")
  if not os.path.isfile(config):
    return None
  with open(config) as f:
    kind = json.load(f).get("model_type")
  return kind if kind in MODEL_TYPES else None


def _rope_theta(hf_config: dict) -> float:
  rope = hf_config.get("rope_parameters") or hf_config.get("rope_scaling") or {}
  kind = rope.get("rope_type", rope.get("type", "default"))
  if kind != "default":
    raise ConversionError(f"config.json asks for RoPE scaling {kind!r}; only plain RoPE "
                          "('default') is implemented.")
  return float(rope.get("rope_theta", hf_config.get("rope_theta", 10_000.0)))


def _activation(name: str) -> str:
  if name not in _FROM_HF_ACT:
    raise ConversionError(f"config.json's activation {name!r} has no flan_jax equivalent; "
                          f"supported: {sorted(_FROM_HF_ACT)}.")
  return _FROM_HF_ACT[name]


def config_from_hf(hf_config: dict, **overrides: Any) -> palm.PaLMConfig:
  """PaLMConfig computing what a transformers Llama / Falcon `config.json` describes."""
  kind = hf_config.get("model_type")
  emb, heads = hf_config["hidden_size"], hf_config["num_attention_heads"]
  common = dict(vocab_size=hf_config["vocab_size"], emb_dim=emb, num_heads=heads,
                num_layers=hf_config["num_hidden_layers"], rope_max_wavelength=_rope_theta(
                    hf_config), prefix_lm=False, dropout_rate=0.0,
                tie_embeddings=bool(hf_config.get("tie_word_embeddings", True)),
                scale_tied_logits=False)
  if kind == "llama":
    for flag in ("attention_bias", "mlp_bias"):
      if hf_config.get(flag):
        raise ConversionError(f"config.json sets {flag}=true; flan_jax decoders have no biases.")
    fields = dict(common, head_dim=hf_config.get("head_dim") or emb // heads,
                  num_kv_heads=hf_config.get("num_key_value_heads") or heads,
                  mlp_dim=hf_config["intermediate_size"], parallel_block=False,
                  mlp_activations=(_activation(hf_config.get("hidden_act", "silu")), "linear"),
                  norm_type="rmsnorm", layer_norm_epsilon=hf_config.get("rms_norm_eps", 1e-6))
  elif kind == "falcon":
    unsupported = [name for name in ("new_decoder_architecture", "alibi", "bias")
                   if hf_config.get(name)]
    if unsupported:
      raise ConversionError(f"Falcon config.json sets {', '.join(unsupported)}; only the "
                            "original Falcon block (no ALiBi, no biases) is implemented.")
    fields = dict(common, head_dim=emb // heads,
                  num_kv_heads=1 if hf_config.get("multi_query", True) else heads,
                  mlp_dim=hf_config.get("ffn_hidden_size") or 4 * emb,
                  parallel_block=bool(hf_config.get("parallel_attn", True)),
                  mlp_activations=(_activation(hf_config.get("activation", "gelu")),),
                  norm_type="layernorm",
                  layer_norm_epsilon=hf_config.get("layer_norm_epsilon", 1e-5))
  else:
    raise ConversionError(f"config.json's model_type {kind!r} is not a supported decoder; "
                          f"use one of {MODEL_TYPES}.")
  fields.update(overrides)
  return palm.PaLMConfig(**fields)


def config_from_hf_dir(path: str, dropout_rate: float = 0.0, dtype: str = "float32",
                       scan_layers: bool = False, remat_policy: str = "none",
                       attention_impl: str = "einsum", prefix_lm: bool = False
                       ) -> palm.PaLMConfig:
  """The PaLMConfig of the Llama / Falcon directory `path` (its config.json only), with the
  run's own choices; gin's `network.hf_decoder_config` (gin/models/hf_decoder.gin)."""
  from flan_jax import errors  # pylint: disable=g-import-not-at-top
  config_file = os.path.join(path, "config.json")
  if not os.path.isfile(config_file):
    raise errors.ConfigError(f"network.hf_decoder_config.path {path!r} has no config.json: "
                             "point it (or INITIAL_CHECKPOINT_PATH) at a Hugging Face "
                             "Llama / Falcon directory.")
  with open(config_file) as f:
    hf_config = json.load(f)
  return config_from_hf(hf_config, dropout_rate=dropout_rate, dtype=dtype,
                        scan_layers=scan_layers, remat_policy=remat_policy,
                        attention_impl=attention_impl, prefix_lm=prefix_lm)


def hf_model_type(cfg: palm.PaLMConfig) -> str:
  """The transformers architecture computing the same function as `cfg`, or an error."""
  problems = []
  if cfg.tie_embeddings and cfg.scale_tied_logits:
    problems.append("tied logits scaled by emb_dim**-0.5 (set scale_tied_logits=False)")
  if cfg.prefix_lm:
    problems.append("a bidirectional prefix (prefix_lm=True)")
  acts = cfg.mlp_activations
  if cfg.norm_type == "rmsnorm" and not cfg.parallel_block and len(acts) == 2 \
      and acts[1] == "linear" and acts[0] in _TO_HF_ACT:
    kind = "llama"
  elif cfg.norm_type == "layernorm" and len(acts) == 1 and acts[0] in _TO_HF_ACT \
      and cfg.num_kv_heads in (1, cfg.num_heads):
    kind = "falcon"
  else:
    kind = None
    problems.append(f"norm_type={cfg.norm_type!r}, parallel_block={cfg.parallel_block}, "
                    f"mlp_activations={acts}, num_kv_heads={cfg.num_kv_heads} (Llama: "
                    "sequential rmsnorm gated MLP; Falcon: layernorm, one activation, 1 or "
                    "num_heads key/value heads)")
  if problems:
    raise ConversionError("No transformers decoder computes this PaLMConfig: "
                          + "; ".join(problems) + ".")
  return kind


def config_to_hf(cfg: palm.PaLMConfig) -> dict:
  """A transformers `config.json` dict (Llama or Falcon) for `cfg`."""
  kind = hf_model_type(cfg)
  common = {"model_type": kind, "vocab_size": cfg.vocab_size, "hidden_size": cfg.emb_dim,
            "num_attention_heads": cfg.num_heads, "num_hidden_layers": cfg.num_layers,
            "tie_word_embeddings": cfg.tie_embeddings, "attention_dropout": 0.0,
            "rope_parameters": {"rope_type": "default", "rope_theta": cfg.rope_max_wavelength}}
  if kind == "llama":
    return dict(common, architectures=["LlamaForCausalLM"], head_dim=cfg.head_dim,
                num_key_value_heads=cfg.num_kv_heads, intermediate_size=cfg.mlp_dim,
                hidden_act=_TO_HF_ACT[cfg.mlp_activations[0]], rms_norm_eps=cfg.layer_norm_epsilon,
                attention_bias=False, mlp_bias=False)
  if cfg.head_dim * cfg.num_heads != cfg.emb_dim:
    raise ConversionError("Falcon needs head_dim * num_heads == emb_dim.")
  return dict(common, architectures=["FalconForCausalLM"], multi_query=cfg.num_kv_heads == 1,
              parallel_attn=cfg.parallel_block, new_decoder_architecture=False, alibi=False,
              bias=False, ffn_hidden_size=cfg.mlp_dim,
              activation=_TO_HF_ACT[cfg.mlp_activations[0]],
              layer_norm_epsilon=cfg.layer_norm_epsilon, hidden_dropout=0.0)


def _norm_pairs(hf_name: str, ours: tuple[str, ...], kind: str):
  yield f"{hf_name}.weight", ours + ("scale",)
  if kind == "falcon":
    yield f"{hf_name}.bias", ours + ("bias",)


def name_pairs(cfg: palm.PaLMConfig, kind: str) -> Iterator[tuple[str, tuple[str, ...]]]:
  """(HF key, our param path) of every weight mapped one to one; HF Linear weights are
  [out, in] and our kernels [in, out] (the embedding is not transposed)."""
  llama = kind == "llama"
  prefix, layer = ("model", "model.layers") if llama else ("transformer", "transformer.h")
  yield f"{prefix}.{'embed_tokens' if llama else 'word_embeddings'}.weight", (
      "token_embedder", "embedding")
  for i in range(cfg.num_layers):
    hf_l, ours = f"{layer}.{i}", ("decoder", f"layers_{i}")
    yield from _norm_pairs(f"{hf_l}.input_layernorm", ours + ("pre_self_attention_layer_norm",),
                           kind)
    if not cfg.parallel_block:
      yield from _norm_pairs(f"{hf_l}.post_attention_layernorm", ours + ("pre_mlp_layer_norm",),
                             kind)
    attn = ours + ("self_attention",)
    if llama:
      for hf_p, p in zip("qkvo", ("query", "key", "value", "out")):
        yield f"{hf_l}.self_attn.{hf_p}_proj.weight", attn + (p, "kernel")
      for hf_p, p in (("gate", "wi_0"), ("up", "wi_1"), ("down", "wo")):
        yield f"{hf_l}.mlp.{hf_p}_proj.weight", ours + ("mlp", p, "kernel")
    else:
      yield f"{hf_l}.self_attention.dense.weight", attn + ("out", "kernel")
      yield f"{hf_l}.mlp.dense_h_to_4h.weight", ours + ("mlp", "wi", "kernel")
      yield f"{hf_l}.mlp.dense_4h_to_h.weight", ours + ("mlp", "wo", "kernel")
  yield from _norm_pairs(f"{prefix}.{'norm' if llama else 'ln_f'}", ("decoder", "decoder_norm"),
                         kind)


def _falcon_qkv(layer: int) -> tuple[str, tuple[str, ...]]:
  return (f"transformer.h.{layer}.self_attention.query_key_value.weight",
          ("decoder", f"layers_{layer}", "self_attention"))


def _split_falcon_qkv(fused: np.ndarray, cfg: palm.PaLMConfig) -> tuple[np.ndarray, ...]:
  """Falcon's [out, in] fused weight -> (query, key, value) [out, in] weights."""
  hd, heads = cfg.head_dim, cfg.num_heads
  if cfg.num_kv_heads == 1:  # rows: all query heads, then one key head, one value head.
    return fused[:heads * hd], fused[heads * hd:(heads + 1) * hd], fused[(heads + 1) * hd:]
  per_head = fused.reshape(heads, 3, hd, -1)  # rows interleaved (q, k, v) per head.
  return tuple(per_head[:, j].reshape(heads * hd, -1) for j in range(3))


def _fuse_falcon_qkv(q: np.ndarray, k: np.ndarray, v: np.ndarray,
                     cfg: palm.PaLMConfig) -> np.ndarray:
  if cfg.num_kv_heads == 1:
    return np.concatenate([q, k, v], axis=0)
  hd, heads = cfg.head_dim, cfg.num_heads
  stacked = np.stack([x.reshape(heads, hd, -1) for x in (q, k, v)], axis=1)
  return stacked.reshape(heads * 3 * hd, -1)


def params_from_state_dict(state: dict[str, np.ndarray], cfg: palm.PaLMConfig,
                           kind: str) -> PyTree:
  """Nested float32 params of `palm.DecoderOnly(cfg)` from a transformers state dict."""
  params: dict = {}

  def take(key: str) -> np.ndarray:
    if key not in state:
      raise ConversionError(f"Hugging Face checkpoint lacks {key!r} (needed by {cfg}).")
    return np.asarray(state[key], np.float32)

  for key, path in name_pairs(cfg, kind):
    value = take(key)
    keep = value.ndim == 1 or path[0] == "token_embedder"
    param_tree.set_at(params, path, value if keep else value.T)
  if kind == "falcon":
    for i in range(cfg.num_layers):
      key, attn = _falcon_qkv(i)
      for name, weight in zip(("query", "key", "value"), _split_falcon_qkv(take(key), cfg)):
        param_tree.set_at(params, attn + (name, "kernel"), weight.T)
  if not cfg.tie_embeddings:
    if "lm_head.weight" not in state:
      raise ConversionError("config.json says tie_word_embeddings=false but the checkpoint "
                            "has no lm_head.weight.")
    param_tree.set_at(params, ("decoder", "logits_dense", "kernel"), take("lm_head.weight").T)
  return params


def state_dict_from_params(params: PyTree, cfg: palm.PaLMConfig) -> dict[str, np.ndarray]:
  """Contiguous float32 transformers state dict (Llama or Falcon names) for `params`."""
  kind = hf_model_type(cfg)
  params = param_tree.unbox(params)
  as_hf = lambda x, path: np.ascontiguousarray(
      x if x.ndim == 1 or path[0] == "token_embedder" else x.T)
  state = {key: as_hf(np.asarray(param_tree.get_at(params, path), np.float32), path)
           for key, path in name_pairs(cfg, kind)}
  if kind == "falcon":
    for i in range(cfg.num_layers):
      key, attn = _falcon_qkv(i)
      q, k, v = (np.asarray(param_tree.get_at(params, attn + (n, "kernel")), np.float32).T
                 for n in ("query", "key", "value"))
      state[key] = np.ascontiguousarray(_fuse_falcon_qkv(q, k, v, cfg))
  if not cfg.tie_embeddings:
    state["lm_head.weight"] = np.ascontiguousarray(
        np.asarray(param_tree.get_at(params, ("decoder", "logits_dense", "kernel")), np.float32).T)
  return state


def load_decoder(path: str, **overrides: Any) -> tuple[palm.DecoderOnly, PyTree]:
  """(DecoderOnly, float32 params) from a transformers Llama / Falcon directory.

  `overrides` set non-architecture fields (dtype, dropout_rate, scan_layers, ...).
  """
  with open(os.path.join(path, "config.json")) as f:
    hf_config = json.load(f)
  cfg = config_from_hf(hf_config, **overrides)
  params = params_from_state_dict(hf.read_state_dict(path), cfg, hf_config["model_type"])
  return palm.DecoderOnly(cfg), params


def save_decoder(model: palm.DecoderOnly, params: PyTree, path: str,
                 max_shard_bytes: int | None = None, tokenizer_from: str | None = None) -> None:
  """Writes config.json + safetensors (sharded with an index beyond `max_shard_bytes`) that
  transformers loads with equal logits; copies the tokenizer files of `tokenizer_from`."""
  from safetensors.numpy import save_file
  cfg = model.config
  if cfg.scan_layers:
    params = param_tree.unstack_layers(param_tree.unbox(params))
    cfg = cfg.replace(scan_layers=False)
  hf_config = config_to_hf(cfg)  # Refuses a config no transformers model computes, first.
  if os.path.isdir(path) and os.listdir(path):
    raise ConversionError(f"Refusing to write into non-empty directory {path!r}.")
  os.makedirs(path, exist_ok=True)
  state = state_dict_from_params(params, cfg)
  shards = _shards(state, max_shard_bytes)
  if len(shards) == 1:
    save_file(state, os.path.join(path, _SAFETENSORS), metadata={"format": "pt"})
  else:
    weight_map = {}
    for i, keys in enumerate(shards):
      name = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
      save_file({k: state[k] for k in keys}, os.path.join(path, name), metadata={"format": "pt"})
      weight_map.update({k: name for k in keys})
    index = {"metadata": {"total_size": int(sum(v.nbytes for v in state.values()))},
             "weight_map": weight_map}
    with open(os.path.join(path, _SAFETENSORS + ".index.json"), "w") as f:
      json.dump(index, f, indent=2, sort_keys=True)
  with open(os.path.join(path, "config.json"), "w") as f:
    json.dump(hf_config, f, indent=2, sort_keys=True)
  if tokenizer_from:
    copy_tokenizer(tokenizer_from, path)


def _shards(state: dict[str, np.ndarray], max_shard_bytes: int | None) -> list[list[str]]:
  """Keys grouped in order into shards of at most `max_shard_bytes` (one if None)."""
  if not max_shard_bytes:
    return [list(state)]
  shards, size = [[]], 0
  for key, value in state.items():
    if shards[-1] and size + value.nbytes > max_shard_bytes:
      shards.append([])
      size = 0
    shards[-1].append(key)
    size += value.nbytes
  return shards


def checkpoint_vocabulary(path: str) -> str | None:
  """The tokenizer a Llama / Falcon directory ships (its tokenizer.json, else its
  SentencePiece tokenizer.model), to tokenize a run started from it; None if it has none."""
  if not os.path.isdir(path) or not model_type_of(path):
    return None
  for name in ("tokenizer.json", "tokenizer.model"):
    if os.path.isfile(os.path.join(path, name)):
      return os.path.join(path, name)
  return None


def copy_tokenizer(src: str, dst: str) -> list[str]:
  """Copies the transformers tokenizer files `src` holds into `dst`; returns their names."""
  copied = []
  for name in TOKENIZER_FILES:
    if os.path.isfile(os.path.join(src, name)):
      if os.path.exists(os.path.join(dst, name)):
        raise ConversionError(f"Refusing to overwrite {os.path.join(dst, name)!r}.")
      shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))
      copied.append(name)
  return copied
