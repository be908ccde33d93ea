"""PaLM-style decoder-only Transformer in Flax linen, with T5X parameter names.

Default architecture (Chowdhery et al., 2022): SwiGLU MLP, one shared pre-norm feeding
attention and MLP in parallel (x + attn(norm(x)) + mlp(norm(x))), multi-query attention (one
key/value head shared by all query heads), rotary positions on queries and keys, no biases,
RMSNorm, and an output layer tied to the token embedding with logits scaled by emb_dim**-0.5
(PaLM's choice, since the embedding is initialised N(0, 1) and not normalised). Attention
logits are scaled explicitly by head_dim**-0.5 (not folded into the query init as in T5).

The block's variants are config fields, so open decoders load as they are: sequential blocks
(`parallel_block=False`, Llama), grouped or full key/value heads (`num_kv_heads`), a GELU MLP
(`mlp_activations`), LayerNorm with bias (`norm_type`, Falcon), an untied output layer
(`tie_embeddings=False`, `decoder/logits_dense`), unscaled tied logits
(`scale_tied_logits=False`), a parallel block whose MLP has its own `pre_mlp_layer_norm`
(`separate_mlp_norm`, Falcon-40B), ALiBi instead of RoPE (`position_embedding='alibi'`,
Falcon-RW: a per-head bias on key positions, kept in the decoding cache so padded and
packed rows match unpadded runs), biases on the projections (`dense_bias`, each Dense
gets a `bias`) and a checkpoint's own BOS token (`bos_id`: SeqIO's leading 0 is read as
that id; with `id_zero_is_text`, for tokenizers whose id 0 is text, ids 0 and BOS trade
places everywhere, in the inputs and in the logits). `flan_jax.interop.hf_decoder` maps
them onto transformers' Llama and Falcon.

`DecoderOnly` takes SeqIO's decoder-only features (`seqio.DecoderFeatureConverter` /
`seqio.PrefixLMFeatureConverter`). With `prefix_lm=True`, positions marked by
`decoder_causal_attention` attend to each other bidirectionally (T5X's prefix-LM mask).
With `scan_layers=True` the layers are one module `decoder/layers` whose parameters carry a
'layers' axis at position 1, as in `flan_jax.models.t5`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

import flax.linen as nn
import jax
import jax.numpy as jnp

from flan_jax.models import layers

Array = jax.Array

SCAN_AXIS = 1
POSITION_EMBEDDINGS = ("rope", "alibi")


@dataclasses.dataclass(frozen=True)
class PaLMConfig:
  """Architecture and numerics of a PaLM-style decoder-only model."""
  vocab_size: int = 32128
  emb_dim: int = 512
  num_heads: int = 8
  head_dim: int = 64
  num_layers: int = 8
  mlp_dim: int = 2048
  dropout_rate: float = 0.0
  # Activation dtype ('float32' or 'bfloat16'); parameters are always float32.
  dtype: str = "float32"
  rope_max_wavelength: float = 10_000.0
  # Bidirectional attention among the positions marked by `decoder_causal_attention`.
  prefix_lm: bool = False
  # One `nn.scan` over the layers: faster compiles, stacked parameters.
  scan_layers: bool = False
  # Per-layer rematerialization: 'none', 'full' (save nothing) or 'minimal' (save matmul
  # outputs without batch dimensions, T5X's 'minimal').
  remat_policy: str = "none"
  # 'einsum' or 'dot_product_attention' (jax.nn.dot_product_attention; einsum is still used
  # when attention dropout is active).
  attention_impl: str = "einsum"
  layer_norm_epsilon: float = 1e-6
  # x + attn(norm(x)) + mlp(norm(x)) (PaLM, Falcon) or x += attn(norm(x)); x += mlp(norm(x))
  # with two norms (Llama).
  parallel_block: bool = True
  # Key/value heads: 1 is multi-query (PaLM), num_heads multi-head, in between grouped.
  num_kv_heads: int = 1
  # One activation per input projection, multiplied: SwiGLU ('swish', 'linear') or GELU.
  mlp_activations: tuple[str, ...] = ("swish", "linear")
  # 'rmsnorm' (scale only) or 'layernorm' (mean subtracted, scale and bias).
  norm_type: str = "rmsnorm"
  # Logits through the token embedding, or a separate `decoder/logits_dense` kernel.
  tie_embeddings: bool = True
  # Tied logits times emb_dim**-0.5 (PaLM); Hugging Face decoders do not scale.
  scale_tied_logits: bool = True
  # Parallel blocks only: the MLP reads its own `pre_mlp_layer_norm` of x instead of the
  # attention's norm (Falcon-40B/180B's ln_attn and ln_mlp, num_ln_in_parallel_attn=2).
  separate_mlp_norm: bool = False
  # 'rope' (rotary queries and keys) or 'alibi' (a linear per-head bias on key positions,
  # Falcon-RW and BLOOM; no RoPE then), see `layers.alibi_bias`.
  position_embedding: str = "rope"
  # Biases on the attention and MLP projections (Falcon's bias=True, e.g. Falcon-RW).
  dense_bias: bool = False
  # The token a sequence starts with. SeqIO's layout starts every sequence (and every packed
  # segment) with id 0; a checkpoint trained with a BOS token (Llama's 1) reads that 0 as
  # its BOS. 0 keeps SeqIO's layout as it is.
  bos_id: int = 0
  # The checkpoint's id 0 is a text token (byte-level BPE: Llama 3's "!"), which SeqIO would
  # read as padding: SeqIO's ids then exchange 0 and `bos_id` (as `flan_jax.data.hf_vocab`
  # does), the model maps them to the checkpoint's ids and returns logits in SeqIO's order.
  id_zero_is_text: bool = False

  def __post_init__(self):
    object.__setattr__(self, "dtype", layers.validate_numerics(
        "PaLMConfig", self.dtype, self.remat_policy, self.attention_impl))
    object.__setattr__(self, "mlp_activations", tuple(self.mlp_activations))
    if self.position_embedding not in POSITION_EMBEDDINGS:
      raise ValueError(f"PaLMConfig.position_embedding must be one of {POSITION_EMBEDDINGS}, "
                       f"got {self.position_embedding!r}.")
    if self.position_embedding == "rope" and self.head_dim % 2:
      raise ValueError(f"PaLMConfig.head_dim must be even for RoPE, got {self.head_dim}.")
    if self.position_embedding == "alibi" and self.prefix_lm:
      raise ValueError("PaLMConfig.position_embedding='alibi' is causal (a bias on key "
                       "positions): set prefix_lm=False, or use 'rope' for a prefix LM.")
    if self.separate_mlp_norm and not self.parallel_block:
      raise ValueError("PaLMConfig.separate_mlp_norm=True is for parallel blocks (sequential "
                       "blocks always have a pre_mlp_layer_norm); set parallel_block=True.")
    if self.num_kv_heads < 1 or self.num_heads % self.num_kv_heads:
      raise ValueError(f"PaLMConfig.num_kv_heads={self.num_kv_heads} must divide "
                       f"num_heads={self.num_heads}.")
    if not 0 <= self.bos_id < self.vocab_size:
      raise ValueError(f"PaLMConfig.bos_id={self.bos_id} is not an id of the vocabulary "
                       f"(0..{self.vocab_size - 1}).")
    if self.id_zero_is_text and not self.bos_id:
      raise ValueError("PaLMConfig.id_zero_is_text=True exchanges id 0 with bos_id: set "
                       "bos_id to the checkpoint's BOS token id.")
    if self.norm_type not in layers.NORMS:
      raise ValueError(f"PaLMConfig.norm_type must be one of {tuple(layers.NORMS)}, got "
                       f"{self.norm_type!r}.")
    unknown = [a for a in self.mlp_activations if a not in layers.ACTIVATIONS]
    if unknown or not self.mlp_activations:
      raise ValueError(f"PaLMConfig.mlp_activations={self.mlp_activations}: use names from "
                       f"{sorted(layers.ACTIVATIONS)}.")

  @property
  def activation_dtype(self) -> jnp.dtype:
    return jnp.dtype(self.dtype)

  def replace(self, **changes: Any) -> "PaLMConfig":
    return dataclasses.replace(self, **changes)


def train_flops_per_step(config: PaLMConfig, batch_size: int, length: int) -> float:
  """Training FLOPs of one step over [batch_size, length], as `flan_jax.training.flops`.

  3 x forward; forward = 2 * matmul params * tokens (q, out: d*h*k each; k, v: d*kv_heads*k
  each; MLP: (activations + 1)*d*mlp; logits: d*vocab) + 4 * tokens * length * h*k per
  layer for QK^T and AV. For prefix-LM batches `length` is inputs + targets.
  """
  d, hk, k = config.emb_dim, config.num_heads * config.head_dim, config.head_dim
  mlp_mats = len(config.mlp_activations) + 1
  per_layer = 2 * d * hk + 2 * d * k * config.num_kv_heads + mlp_mats * d * config.mlp_dim
  params = config.num_layers * per_layer + d * config.vocab_size
  tokens = batch_size * length
  attention = 4 * tokens * length * hk * config.num_layers
  return 3.0 * (2 * params * tokens + attention)


class MultiQueryAttention(nn.Module):
  """`num_heads` query heads over `num_kv_heads` key/value heads, RoPE on queries and keys
  (or, with position_embedding='alibi', an ALiBi bias from the keys' positions).

  One key/value head (multi-query) keeps kernels [embed, head_dim], replicated over
  'model'; several are [embed, num_kv_heads * head_dim] and query head i reads key/value
  head i // (num_heads / num_kv_heads), as in grouped-query attention.
  With `decode=True` keys/values go to the 'cache' collection: the first call (full cache
  length) only creates it; each later call writes its n tokens at the cache index and
  attends over the whole cache with the caller's mask [batch, 1, n, cache_length].
  """
  num_heads: int
  head_dim: int
  rope_max_wavelength: float = 10_000.0
  dropout_rate: float = 0.0
  deterministic: bool = True
  decode: bool = False
  attention_impl: str = "einsum"
  dtype: jnp.dtype = jnp.float32
  num_kv_heads: int = 1
  position_embedding: str = "rope"
  use_bias: bool = False

  @nn.compact
  def __call__(self, x: Array, mask: Array, positions: Array) -> Array:
    joined = self.num_heads * self.head_dim
    dense = lambda features, axes, name: layers.Dense(features, axes, dtype=self.dtype,
                                                      use_bias=self.use_bias, name=name)
    alibi = self.position_embedding == "alibi"
    rope = lambda y: y if alibi else layers.rotary_embedding(y, positions,
                                                             self.rope_max_wavelength)
    query = dense(joined, ("embed", "joined_kv"), "query")(x)
    query = rope(query.reshape(query.shape[:-1] + (self.num_heads, self.head_dim)))
    query = layers.constrain(query * self.head_dim ** -0.5, ("batch", "length", "heads", "kv"))
    if self.num_kv_heads == 1:
      key = rope(dense(self.head_dim, ("embed", "kv"), "key")(x))
      value = dense(self.head_dim, ("embed", "kv"), "value")(x)
      kv_axes = ("batch", "length", "kv")
    else:
      heads = lambda y: y.reshape(y.shape[:-1] + (self.num_kv_heads, self.head_dim))
      kv_joined = self.num_kv_heads * self.head_dim
      key = rope(heads(dense(kv_joined, ("embed", "joined_kv"), "key")(x)))
      value = heads(dense(kv_joined, ("embed", "joined_kv"), "value")(x))
      kv_axes = ("batch", "length", "heads", "kv")
    key, value = layers.constrain(key, kv_axes), layers.constrain(value, kv_axes)
    key_positions = positions
    if self.decode:
      key, value, key_positions = self._use_cache(key, value, positions)
    bias = None
    if alibi:
      key_positions = jnp.broadcast_to(key_positions, (x.shape[0], key.shape[1]))
      bias = layers.alibi_bias(key_positions, self.num_heads, self.head_dim)
    if self.num_kv_heads > 1:
      group = self.num_heads // self.num_kv_heads
      key, value = (jnp.repeat(y, group, axis=2) if group > 1 else y for y in (key, value))
    out = layers.attend(query, key, value, bias=bias, mask=mask, impl=self.attention_impl,
                        dtype=self.dtype, dropout_rate=self.dropout_rate,
                        dropout_rng=layers.dropout_rng(self))
    out = layers.constrain(out, ("batch", "length", "heads", "kv"))
    out = dense(x.shape[-1], ("joined_kv", "embed"), "out")(out.reshape(out.shape[:-2] + (joined,)))
    return layers.constrain(out, ("batch", "length", "embed"))

  def _use_cache(self, key: Array, value: Array, positions: Array
                 ) -> tuple[Array, Array, Optional[Array]]:
    """Writes this call's keys/values (and, for ALiBi, their positions) at the cache
    index; returns the whole cache: keys, values, key positions (None without ALiBi)."""
    initialized = self.has_variable("cache", "cached_key")
    cached_key = self.variable("cache", "cached_key", jnp.zeros, key.shape, key.dtype)
    cached_value = self.variable("cache", "cached_value", jnp.zeros, value.shape, value.dtype)
    cache_index = self.variable("cache", "cache_index", lambda: jnp.array(0, jnp.int32))
    cached_positions = None
    if self.position_embedding == "alibi":
      cached_positions = self.variable("cache", "cached_positions", jnp.zeros, key.shape[:2],
                                       jnp.int32)
    if not initialized:
      return key, value, positions
    index = cache_index.value
    start = (0, index) + (0,) * (key.ndim - 2)
    cached_key.value = jax.lax.dynamic_update_slice(cached_key.value, key, start)
    cached_value.value = jax.lax.dynamic_update_slice(cached_value.value, value, start)
    cache_index.value = index + key.shape[1]
    if cached_positions is None:
      return cached_key.value, cached_value.value, None
    written = jnp.broadcast_to(positions, key.shape[:2]).astype(jnp.int32)
    cached_positions.value = jax.lax.dynamic_update_slice(cached_positions.value, written,
                                                          (0, index))
    return cached_key.value, cached_value.value, cached_positions.value


class DecoderLayer(nn.Module):
  """Parallel block x + dropout(attn(norm(x)) + mlp(norm(x))) with one shared pre-norm (or
  mlp(norm'(x)) with `separate_mlp_norm`), or sequential x += dropout(attn(norm(x)));
  x += dropout(mlp(norm'(x)))."""
  config: PaLMConfig
  deterministic: bool = True
  decode: bool = False
  scanned: bool = False  # Return (x, None) as `nn.scan` requires.

  @nn.compact
  def __call__(self, x: Array, mask: Array, positions: Array) -> Any:
    cfg, dtype = self.config, self.config.activation_dtype
    norm = lambda name: layers.NORMS[cfg.norm_type](cfg.layer_norm_epsilon, dtype, name=name)
    dropout = lambda y: nn.Dropout(cfg.dropout_rate, broadcast_dims=(-2,))(
        y, deterministic=self.deterministic)
    attention = MultiQueryAttention(
        cfg.num_heads, cfg.head_dim, cfg.rope_max_wavelength, cfg.dropout_rate,
        self.deterministic, self.decode, cfg.attention_impl, dtype, cfg.num_kv_heads,
        cfg.position_embedding, cfg.dense_bias, name="self_attention")
    mlp = layers.MlpBlock(cfg.mlp_dim, cfg.mlp_activations, cfg.dropout_rate,
                          self.deterministic, dtype, cfg.dense_bias, name="mlp")
    y = norm("pre_self_attention_layer_norm")(x)
    if cfg.parallel_block:
      y_mlp = norm("pre_mlp_layer_norm")(x) if cfg.separate_mlp_norm else y
      x = x + dropout(attention(y, mask, positions) + mlp(y_mlp))
    else:
      x = layers.constrain(x + dropout(attention(y, mask, positions)),
                           ("batch", "length", "embed"))
      x = x + dropout(mlp(norm("pre_mlp_layer_norm")(x)))
    x = layers.constrain(x, ("batch", "length", "embed"))
    return (x, None) if self.scanned else x


def _run_layers(cfg: PaLMConfig, x: Array, mask: Array, positions: Array,
                deterministic: bool, decode: bool) -> Array:
  """Applies the stack, unrolled as layers_{i} or scanned as one 'layers', remat per policy."""
  layer_cls = DecoderLayer
  if cfg.remat_policy != "none":
    policy = None
    if cfg.remat_policy == "minimal":
      policy = jax.checkpoint_policies.checkpoint_dots_with_no_batch_dims
    # Inside scan CSE cannot undo rematerialization, so the extra barrier is not needed.
    layer_cls = nn.remat(layer_cls, policy=policy, prevent_cse=not cfg.scan_layers)
  if not cfg.scan_layers:
    for i in range(cfg.num_layers):
      x = layer_cls(cfg, deterministic, decode, name=f"layers_{i}")(x, mask, positions)
    return x
  scanned = nn.scan(
      layer_cls, variable_axes={"params": SCAN_AXIS, "cache": 0},
      split_rngs={"params": True, "dropout": True}, in_axes=(nn.broadcast, nn.broadcast),
      length=cfg.num_layers, metadata_params={nn.PARTITION_NAME: "layers"})
  x, _ = scanned(cfg, deterministic, decode, True, name="layers")(x, mask, positions)
  return x


class Decoder(nn.Module):
  """Embeds, masks, runs the stack and the final norm; returns float32 logits."""
  config: PaLMConfig
  shared_embedding: nn.Module

  @nn.compact
  def __call__(self, tokens: Array, target_tokens: Array, segment_ids: Optional[Array],
               positions: Optional[Array], causal_attention: Optional[Array],
               enable_dropout: bool, decode: bool) -> Array:
    cfg, deterministic = self.config, not enable_dropout
    # Real tokens are those with a real target: input position 0 is pad id 0 (BOS).
    real = target_tokens > 0
    prefix = None
    if cfg.prefix_lm and causal_attention is not None:
      prefix = real & (causal_attention > 0)
    block = self._cached_block(real, prefix, segment_ids, positions) if decode else None
    if block is None:
      mask = layers.attention_mask(real, real, segment_ids, segment_ids, causal=True)
      if prefix is not None:
        mask = mask | layers.attention_mask(prefix, prefix, segment_ids, segment_ids)
      if positions is None:
        positions = jnp.arange(tokens.shape[-1], dtype=jnp.int32)[None, :]
    else:
      mask, positions = block
    if cfg.id_zero_is_text:  # SeqIO's ids -> the checkpoint's: 0 (start, padding) is BOS.
      tokens = _exchange(tokens, cfg.bos_id)
    elif cfg.bos_id:
      # SeqIO's start id 0 at a sequence's (or packed segment's) first position is the BOS.
      tokens = jnp.where((positions == 0) & (tokens == 0), cfg.bos_id, tokens)
    dropout = nn.Dropout(cfg.dropout_rate, broadcast_dims=(-2,))
    x = dropout(self.shared_embedding(tokens), deterministic=deterministic)
    x = layers.constrain(x, ("batch", "length", "embed"))
    x = _run_layers(cfg, x, mask, positions, deterministic, decode)
    x = layers.NORMS[cfg.norm_type](cfg.layer_norm_epsilon, cfg.activation_dtype,
                                    name="decoder_norm")(x)
    x = dropout(x, deterministic=deterministic)
    if not cfg.tie_embeddings:
      logits = layers.Dense(cfg.vocab_size, ("embed", "vocab"), dtype=cfg.activation_dtype,
                            name="logits_dense")(x)
    elif cfg.scale_tied_logits:
      logits = self.shared_embedding.attend(x) * jnp.asarray(cfg.emb_dim ** -0.5, x.dtype)
    else:
      logits = self.shared_embedding.attend(x)
    logits = logits.astype(jnp.float32)
    if cfg.id_zero_is_text:  # The checkpoint's order -> SeqIO's: columns 0 and BOS trade.
      first, bos = logits[..., 0], logits[..., cfg.bos_id]
      logits = logits.at[..., 0].set(bos).at[..., cfg.bos_id].set(first)
    return layers.constrain(logits, ("batch", "length", "vocab"))

  def _cached_block(self, real: Array, prefix: Optional[Array], segment_ids: Optional[Array],
                    positions: Optional[Array]) -> Optional[tuple[Array, Array]]:
    """Mask [b, 1, n, cache_len] and positions for n tokens written at the cache index.

    The first decode=True call (cache-length inputs) only creates the cache and returns
    None. Keys are visible if written, real and not after the query's slot, or if both
    query and key lie in this call's prefix (so a bidirectional prefix must be one call).
    Without `positions`, a token's position is its cache slot.
    """
    initialized = self.has_variable("cache", "index")
    index_var = self.variable("cache", "index", lambda: jnp.array(0, jnp.int32))
    key_valid = self.variable("cache", "key_valid", jnp.zeros, real.shape, jnp.bool_)
    if not initialized:
      return None
    if segment_ids is not None:
      raise ValueError("Cached decoding does not take packed inputs (decoder_segment_ids).")
    index, length = index_var.value, real.shape[1]
    key_valid.value = jax.lax.dynamic_update_slice(key_valid.value, real, (0, index))
    index_var.value = index + length
    query_slot = index + jnp.arange(length, dtype=jnp.int32)
    key_slot = jnp.arange(key_valid.value.shape[1], dtype=jnp.int32)
    visible = (key_slot[None, :] <= query_slot[:, None])[None]
    if prefix is not None:
      key_prefix = jax.lax.dynamic_update_slice(jnp.zeros_like(key_valid.value), prefix,
                                                (0, index))
      visible = visible | (prefix[:, :, None] & key_prefix[:, None, :])
    mask = real[:, :, None] & key_valid.value[:, None, :] & visible
    if positions is None:
      positions = query_slot[None, :]
    return mask[:, None], positions.astype(jnp.int32)


def _exchange(tokens: Array, other: int) -> Array:
  """`tokens` with ids 0 and `other` exchanged."""
  return jnp.where(tokens == 0, other, jnp.where(tokens == other, 0, tokens))


class DecoderOnly(nn.Module):
  """PaLM decoder-only LM taking SeqIO's decoder-only feature names."""
  config: PaLMConfig

  def setup(self):
    cfg = self.config
    self.token_embedder = layers.Embed(cfg.vocab_size, cfg.emb_dim, cfg.activation_dtype)
    self.decoder = Decoder(cfg, self.token_embedder)

  def __call__(self, decoder_input_tokens: Array, decoder_target_tokens: Array,
               decoder_segment_ids: Optional[Array] = None,
               decoder_positions: Optional[Array] = None,
               decoder_causal_attention: Optional[Array] = None, enable_dropout: bool = True,
               decode: bool = False, max_decode_length: Optional[int] = None) -> Array:
    """Float32 logits [batch, length, vocab].

    Positions whose `decoder_target_tokens` is 0 are padding. `decoder_causal_attention`
    (1 over BOS + inputs) is used only with `prefix_lm=True`. With decode=True, see
    `flan_jax.models.palm_decoding`: the cache length fixes `max_decode_length`.
    """
    del max_decode_length
    return self.decoder(decoder_input_tokens, decoder_target_tokens, decoder_segment_ids,
                        decoder_positions, decoder_causal_attention, enable_dropout, decode)
