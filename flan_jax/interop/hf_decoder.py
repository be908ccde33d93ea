"""Hugging Face Llama and Falcon directories <-> flan_jax decoder-only (PaLMConfig) params.

Which transformers architectures map onto which `PaLMConfig` variants:

- `llama` (LlamaForCausalLM): sequential blocks, RMSNorm, gated MLP (SwiGLU), RoPE,
  multi-head / grouped / multi-query attention (`num_key_value_heads`), tied or untied.
- `falcon` (FalconForCausalLM), LayerNorm with bias and a GELU MLP throughout:
  - original block (`new_decoder_architecture=False`, Falcon-7B): parallel
    (`parallel_attn=True`, one shared norm) or sequential blocks, multi-query
    (`multi_query=True`) or multi-head attention;
  - Falcon-40B/180B block (`new_decoder_architecture=True`): grouped key/value heads
    (`num_kv_heads`), parallel attention + MLP with `ln_attn` + `ln_mlp`
    (`num_ln_in_parallel_attn=2`, the default: `separate_mlp_norm=True`) or one shared norm
    (`num_ln_in_parallel_attn=1`); `parallel_attn=false` is refused (transformers cannot
    run it either);
  - `alibi=True` (Falcon-RW): `position_embedding='alibi'`, no RoPE; otherwise RoPE;
  - `bias=True` (Falcon-RW): `dense_bias=True`, biases on every linear layer.
  The fused `query_key_value` (weight and bias) is split per key/value group: that group's
  query heads, its key, its value (the original multi-query / multi-head layouts are the
  one-group / one-query-per-group cases). Export writes the original block when it can
  express the config, else the new one.

Weights are read with `flan_jax.interop.hf.read_state_dict` (safetensors, .bin, sharded
index) and written as safetensors, sharded with an index above `max_shard_bytes`. A
tokenizer in the directory (`tokenizer.json` and its config files) is copied along.

Sequences start with config.json's `bos_token_id` (`PaLMConfig.bos_id`): SeqIO's leading
0 is read as it, so a Llama sees `<s>` first as in its pretraining, and Falcon its
`<|endoftext|>`. An export writes the id back.
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


def _bos_id(hf_config: dict) -> int:
  """The id sequences start with: config.json's `bos_token_id` (0, SeqIO's, when unset)."""
  bos = hf_config.get("bos_token_id")
  if isinstance(bos, list):  # Some configs list several; the first is the one prepended.
    bos = bos[0] if bos else None
  return 0 if bos is None else int(bos)


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
                scale_tied_logits=False, bos_id=_bos_id(hf_config))
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
    fields = dict(common, **_falcon_fields(hf_config, emb, heads))
  else:
    raise ConversionError(f"config.json's model_type {kind!r} is not a supported decoder; "
                          f"use one of {MODEL_TYPES}.")
  fields.update(overrides)
  return palm.PaLMConfig(**fields)


def _falcon_fields(hf_config: dict, emb: int, heads: int) -> dict:
  """The PaLMConfig fields of a Falcon config.json beyond those every decoder shares."""
  parallel = bool(hf_config.get("parallel_attn", True))
  norms = hf_config.get("num_ln_in_parallel_attn")
  if hf_config.get("new_decoder_architecture"):
    if not parallel:
      raise ConversionError("Falcon config.json sets new_decoder_architecture=true with "
                            "parallel_attn=false, a block transformers itself cannot run.")
    norms = 2 if norms is None else norms
    kv_heads = hf_config.get("num_kv_heads") or heads
  else:
    kv_heads = 1 if hf_config.get("multi_query", True) else heads
    if parallel and norms == 2:
      raise ConversionError("Falcon config.json sets num_ln_in_parallel_attn=2 without "
                            "new_decoder_architecture, a block transformers cannot run.")
  if norms not in (None, 1, 2):
    raise ConversionError(f"Falcon config.json sets num_ln_in_parallel_attn={norms}; "
                          "transformers takes 1 or 2.")
  return dict(head_dim=emb // heads, num_kv_heads=kv_heads,
              mlp_dim=hf_config.get("ffn_hidden_size") or 4 * emb, parallel_block=parallel,
              separate_mlp_norm=parallel and norms == 2,
              position_embedding="alibi" if hf_config.get("alibi") else "rope",
              dense_bias=bool(hf_config.get("bias")),
              mlp_activations=(_activation(hf_config.get("activation", "gelu")),),
              norm_type="layernorm", layer_norm_epsilon=hf_config.get("layer_norm_epsilon", 1e-5))


def config_from_hf_dir(path: str, dropout_rate: float = 0.0, dtype: str = "float32",
                       scan_layers: bool = False, remat_policy: str = "none",
                       attention_impl: str = "einsum", prefix_lm: bool = False
                       ) -> palm.PaLMConfig:
  """The PaLMConfig of the Llama / Falcon directory `path` (its config.json, and its
  tokenizer.json's id 0, see `id_zero_fields`), with the run's own choices; gin's
  `network.hf_decoder_config` (gin/models/hf_decoder.gin)."""
  from flan_jax import errors  # pylint: disable=g-import-not-at-top
  config_file = os.path.join(path, "config.json")
  if not os.path.isfile(config_file):
    raise errors.ConfigError(f"network.hf_decoder_config.path {path!r} has no config.json: "
                             "point it (or INITIAL_CHECKPOINT_PATH) at a Hugging Face "
                             "Llama / Falcon directory.")
  with open(config_file) as f:
    hf_config = json.load(f)
  try:
    return config_from_hf(hf_config, dropout_rate=dropout_rate, dtype=dtype,
                          scan_layers=scan_layers, remat_policy=remat_policy,
                          attention_impl=attention_impl, prefix_lm=prefix_lm,
                          **id_zero_fields(path))
  except errors.FlanJaxError:
    raise
  except ValueError as e:  # The run's choices clash with the checkpoint (e.g. ALiBi + prefix).
    raise errors.ConfigError(f"network.hf_decoder_config for {path!r}: {e}") from None


def id_zero_fields(path: str) -> dict[str, Any]:
  """PaLMConfig fields for a directory whose tokenizer.json has a text token at id 0 (Llama
  3's "!"): the ids its seqio vocabulary exchanges (`flan_jax.data.hf_vocab`), so model and
  tasks agree. Empty when id 0 is special, no BOS is named, or there is no tokenizer.json."""
  tokenizer_file = os.path.join(path, "tokenizer.json")
  if not os.path.isfile(tokenizer_file):
    return {}
  from flan_jax.data import hf_vocab  # pylint: disable=g-import-not-at-top
  with open(tokenizer_file, encoding="utf-8") as f:
    if not hf_vocab.id_zero_is_text(json.load(f)):
      return {}
  try:
    other = hf_vocab.HfTokenizerVocabulary(path).id_zero_stand_in
  except hf_vocab.TokenizerFileError:  # No EOS known: a run tokenizing with it is refused.
    return {}
  return {} if other is None else {"id_zero_is_text": True, "bos_id": other}


def hf_model_type(cfg: palm.PaLMConfig) -> str:
  """The transformers architecture computing the same function as `cfg`, or an error."""
  problems = []
  if cfg.tie_embeddings and cfg.scale_tied_logits:
    problems.append("tied logits scaled by emb_dim**-0.5 (set scale_tied_logits=False)")
  if cfg.prefix_lm:
    problems.append("a bidirectional prefix (prefix_lm=True)")
  acts = cfg.mlp_activations
  if cfg.norm_type == "rmsnorm" and not cfg.parallel_block and len(acts) == 2 \
      and acts[1] == "linear" and acts[0] in _TO_HF_ACT and cfg.position_embedding == "rope" \
      and not cfg.dense_bias:
    kind = "llama"
  elif cfg.norm_type == "layernorm" and len(acts) == 1 and acts[0] in _TO_HF_ACT \
      and (cfg.parallel_block or cfg.num_kv_heads in (1, cfg.num_heads)):
    kind = "falcon"
  else:
    kind = None
    problems.append(f"norm_type={cfg.norm_type!r}, parallel_block={cfg.parallel_block}, "
                    f"mlp_activations={acts}, num_kv_heads={cfg.num_kv_heads}, "
                    f"position_embedding={cfg.position_embedding!r}, "
                    f"dense_bias={cfg.dense_bias} (Llama: sequential rmsnorm gated MLP, RoPE, "
                    "no biases; Falcon: layernorm, one activation, grouped key/value heads "
                    "only in parallel blocks)")
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
            "bos_token_id": cfg.bos_id,
            "rope_parameters": {"rope_type": "default", "rope_theta": cfg.rope_max_wavelength}}
  if kind == "llama":
    return dict(common, architectures=["LlamaForCausalLM"], head_dim=cfg.head_dim,
                num_key_value_heads=cfg.num_kv_heads, intermediate_size=cfg.mlp_dim,
                hidden_act=_TO_HF_ACT[cfg.mlp_activations[0]], rms_norm_eps=cfg.layer_norm_epsilon,
                attention_bias=False, mlp_bias=False)
  if cfg.head_dim * cfg.num_heads != cfg.emb_dim:
    raise ConversionError("Falcon needs head_dim * num_heads == emb_dim.")
  # The original block where it suffices; Falcon-40B's for separate norms or grouped heads.
  new = cfg.separate_mlp_norm or cfg.num_kv_heads not in (1, cfg.num_heads)
  falcon = dict(new_decoder_architecture=True, num_kv_heads=cfg.num_kv_heads,
                num_ln_in_parallel_attn=2 if cfg.separate_mlp_norm else 1) if new else dict(
                    new_decoder_architecture=False, multi_query=cfg.num_kv_heads == 1)
  return dict(common, **falcon, architectures=["FalconForCausalLM"],
              parallel_attn=cfg.parallel_block, alibi=cfg.position_embedding == "alibi",
              bias=cfg.dense_bias, ffn_hidden_size=cfg.mlp_dim,
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
    attn_norm, mlp_norm = (("ln_attn", "ln_mlp") if cfg.separate_mlp_norm
                           else ("input_layernorm", "post_attention_layernorm"))
    yield from _norm_pairs(f"{hf_l}.{attn_norm}", ours + ("pre_self_attention_layer_norm",),
                           kind)
    if not cfg.parallel_block or cfg.separate_mlp_norm:
      yield from _norm_pairs(f"{hf_l}.{mlp_norm}", ours + ("pre_mlp_layer_norm",), kind)
    attn = ours + ("self_attention",)
    if llama:
      for hf_p, p in zip("qkvo", ("query", "key", "value", "out")):
        yield f"{hf_l}.self_attn.{hf_p}_proj.weight", attn + (p, "kernel")
      for hf_p, p in (("gate", "wi_0"), ("up", "wi_1"), ("down", "wo")):
        yield f"{hf_l}.mlp.{hf_p}_proj.weight", ours + ("mlp", p, "kernel")
    else:
      for hf_p, p in (("self_attention.dense", attn + ("out",)),
                      ("mlp.dense_h_to_4h", ours + ("mlp", "wi")),
                      ("mlp.dense_4h_to_h", ours + ("mlp", "wo"))):
        yield f"{hf_l}.{hf_p}.weight", p + ("kernel",)
        if cfg.dense_bias:
          yield f"{hf_l}.{hf_p}.bias", p + ("bias",)
  yield from _norm_pairs(f"{prefix}.{'norm' if llama else 'ln_f'}", ("decoder", "decoder_norm"),
                         kind)


def _falcon_qkv(cfg: palm.PaLMConfig) -> Iterator[tuple[str, tuple[str, ...], str]]:
  """(HF key of a fused query_key_value weight or bias, our attention path, our leaf name)."""
  for i in range(cfg.num_layers):
    for hf_leaf, leaf in (("weight", "kernel"), ("bias", "bias"))[:2 if cfg.dense_bias else 1]:
      yield (f"transformer.h.{i}.self_attention.query_key_value.{hf_leaf}",
             ("decoder", f"layers_{i}", "self_attention"), leaf)


def _split_falcon_qkv(fused: np.ndarray, cfg: palm.PaLMConfig) -> tuple[np.ndarray, ...]:
  """Falcon's [out, in] fused weight -> (query, key, value) [out, in] weights.

  Rows are grouped per key/value head: its query heads, then its key, then its value
  (transformers' new_decoder_architecture layout). The original block's layouts are the
  two ends of it: multi-query is one group (all queries, key, value), multi-head is one
  query per group (q, k, v interleaved per head). A 1-D bias splits the same way.
  """
  hd, kv = cfg.head_dim, cfg.num_kv_heads
  grouped = fused.reshape((kv, cfg.num_heads // kv + 2, hd) + fused.shape[1:])
  rows = lambda x, n: x.reshape((n * hd,) + fused.shape[1:])
  return rows(grouped[:, :-2], cfg.num_heads), rows(grouped[:, -2], kv), rows(grouped[:, -1], kv)


def _fuse_falcon_qkv(q: np.ndarray, k: np.ndarray, v: np.ndarray,
                     cfg: palm.PaLMConfig) -> np.ndarray:
  """The inverse of `_split_falcon_qkv`."""
  hd, kv = cfg.head_dim, cfg.num_kv_heads
  group = lambda x: x.reshape((kv, -1, hd) + x.shape[1:])
  return np.concatenate([group(q), group(k), group(v)], axis=1).reshape((-1,) + q.shape[1:])


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
    for key, attn, leaf in _falcon_qkv(cfg):
      for name, weight in zip(("query", "key", "value"), _split_falcon_qkv(take(key), cfg)):
        param_tree.set_at(params, attn + (name, leaf), weight.T)
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
    for key, attn, leaf in _falcon_qkv(cfg):
      q, k, v = (np.asarray(param_tree.get_at(params, attn + (n, leaf)), np.float32).T
                 for n in ("query", "key", "value"))
      state[key] = np.ascontiguousarray(_fuse_falcon_qkv(q, k, v, cfg))
  if not cfg.tie_embeddings:
    state["lm_head.weight"] = np.ascontiguousarray(
        np.asarray(param_tree.get_at(params, ("decoder", "logits_dense", "kernel")), np.float32).T)
  return state


def load_decoder(path: str, **overrides: Any) -> tuple[palm.DecoderOnly, PyTree]:
  """(DecoderOnly, float32 params) from a transformers Llama / Falcon directory.

  `overrides` set non-architecture fields (dtype, dropout_rate, scan_layers, ...). The
  model takes and returns the ids of the directory's seqio vocabulary (`id_zero_fields`).
  """
  with open(os.path.join(path, "config.json")) as f:
    hf_config = json.load(f)
  cfg = config_from_hf(hf_config, **{**id_zero_fields(path), **overrides})
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
