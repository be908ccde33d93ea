"""T5 (v1.1 and v1.0) encoder-decoder in Flax linen, parameter-compatible with T5X.

Parameter paths and shapes equal T5X's (`encoder/layers_0/attention/query/kernel`, ...), so
public T5X / Flan-T5 checkpoints load without renaming. With `scan_layers=True` the layers
of each stack are instead one module `layers` (e.g. `encoder/layers/attention/query/kernel`)
whose parameters carry an extra 'layers' axis at position 1, T5X's scanned layout; the
interop converters expect `scan_layers=False` (`flan_jax.interop.param_tree` converts).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from flan_jax.models import layers

Array = jax.Array

SCAN_AXIS = 1  # Scanned params stack layers on axis 1, as T5X's scanned checkpoints.

# T5 v1.1 sizes (d_model, heads, d_ff, layers per stack); head_dim is 64 for all.
T5_1_1_SIZES = {
    "small": (512, 6, 1024, 8),
    "base": (768, 12, 2048, 12),
    "large": (1024, 16, 2816, 24),
    "xl": (2048, 32, 5120, 24),
    "xxl": (4096, 64, 10240, 24),
}


@dataclasses.dataclass(frozen=True)
class T5Config:
  """Architecture and numerics of a T5 model; field names follow T5X's `T5Config`."""
  vocab_size: int = 32128
  emb_dim: int = 512
  num_heads: int = 6
  num_encoder_layers: int = 8
  num_decoder_layers: int = 8
  head_dim: int = 64
  mlp_dim: int = 1024
  # ('gelu', 'linear') is v1.1's gated GELU; ('relu',) is v1.0's plain ReLU MLP.
  mlp_activations: Sequence[str] = ("gelu", "linear")
  dropout_rate: float = 0.1
  # True ties the output layer to the token embedding and scales logits by emb_dim**-0.5.
  logits_via_embedding: bool = False
  # Activation dtype; parameters are always float32.
  dtype: str = "float32"
  relative_attention_num_buckets: int = 32
  relative_attention_max_distance: int = 128
  layer_norm_epsilon: float = 1e-6
  # One `nn.scan` over the layers of each stack: faster compiles, stacked parameters.
  scan_layers: bool = False
  # Activation rematerialization per layer: 'none', 'full' (save nothing) or 'minimal'
  # (save matmul outputs without batch dimensions, as T5X's 'minimal').
  remat_policy: str = "none"
  # 'einsum' or 'dot_product_attention' (jax.nn.dot_product_attention with the relative
  # bias as `bias`; einsum is still used when attention dropout is active).
  attention_impl: str = "einsum"

  def __post_init__(self):
    acts = self.mlp_activations
    object.__setattr__(self, "mlp_activations", (acts,) if isinstance(acts, str) else tuple(acts))
    object.__setattr__(self, "dtype", layers.validate_numerics(
        "T5Config", self.dtype, self.remat_policy, self.attention_impl))
    for act in self.mlp_activations:
      if act not in layers.ACTIVATIONS:
        raise ValueError(f"Unknown MLP activation {act!r}; known: {sorted(layers.ACTIVATIONS)}.")

  @property
  def activation_dtype(self) -> jnp.dtype:
    return jnp.dtype(self.dtype)

  def replace(self, **changes: Any) -> "T5Config":
    return dataclasses.replace(self, **changes)

  @classmethod
  def t5_1_1(cls, size: str, **overrides: Any) -> "T5Config":
    """The published T5 v1.1 / Flan-T5 architecture of `size` ('small' ... 'xxl')."""
    if size not in T5_1_1_SIZES:
      raise ValueError(f"Unknown T5 v1.1 size {size!r}; known: {list(T5_1_1_SIZES)}.")
    emb, heads, mlp, n = T5_1_1_SIZES[size]
    fields = dict(emb_dim=emb, num_heads=heads, mlp_dim=mlp, num_encoder_layers=n,
                  num_decoder_layers=n)
    fields.update(overrides)
    return cls(**fields)


class EncoderLayer(nn.Module):
  """Pre-norm self-attention block then pre-norm MLP block, each with a residual."""
  config: T5Config
  deterministic: bool = True
  scanned: bool = False  # Return (x, None) as `nn.scan` requires.

  @nn.compact
  def __call__(self, x: Array, mask: Optional[Array], bias: Array) -> Any:
    cfg, dtype = self.config, self.config.activation_dtype
    dropout = nn.Dropout(cfg.dropout_rate, broadcast_dims=(-2,))
    y = layers.RMSNorm(cfg.layer_norm_epsilon, dtype, name="pre_attention_layer_norm")(x)
    y = _attention(cfg, self.deterministic, False, "attention")(y, y, mask, bias)
    x = x + dropout(y, deterministic=self.deterministic)
    y = layers.RMSNorm(cfg.layer_norm_epsilon, dtype, name="pre_mlp_layer_norm")(x)
    y = _mlp(cfg, self.deterministic)(y)
    x = layers.constrain(x + dropout(y, deterministic=self.deterministic),
                         ("batch", "length", "embed"))
    return (x, None) if self.scanned else x


class DecoderLayer(nn.Module):
  """Causal self-attention, cross-attention to the encoder, then MLP; all pre-norm."""
  config: T5Config
  deterministic: bool = True
  decode: bool = False
  scanned: bool = False

  @nn.compact
  def __call__(self, x: Array, encoded: Optional[Array], self_mask: Optional[Array],
               self_bias: Array, cross_mask: Optional[Array]) -> Any:
    cfg, dtype = self.config, self.config.activation_dtype
    dropout = nn.Dropout(cfg.dropout_rate, broadcast_dims=(-2,))
    y = layers.RMSNorm(cfg.layer_norm_epsilon, dtype, name="pre_self_attention_layer_norm")(x)
    y = _attention(cfg, self.deterministic, self.decode, "self_attention")(
        y, y, self_mask, self_bias)
    x = x + dropout(y, deterministic=self.deterministic)
    y = layers.RMSNorm(cfg.layer_norm_epsilon, dtype, name="pre_cross_attention_layer_norm")(x)
    y = _attention(cfg, self.deterministic, self.decode, "encoder_decoder_attention",
                   static_kv=True)(y, encoded, cross_mask)
    x = x + dropout(y, deterministic=self.deterministic)
    y = layers.RMSNorm(cfg.layer_norm_epsilon, dtype, name="pre_mlp_layer_norm")(x)
    y = _mlp(cfg, self.deterministic)(y)
    x = layers.constrain(x + dropout(y, deterministic=self.deterministic),
                         ("batch", "length", "embed"))
    return (x, None) if self.scanned else x


def _attention(cfg: T5Config, deterministic: bool, decode: bool, name: str,
               static_kv: bool = False):
  return layers.MultiHeadAttention(
      num_heads=cfg.num_heads, head_dim=cfg.head_dim, dropout_rate=cfg.dropout_rate,
      deterministic=deterministic, decode=decode, static_kv=static_kv,
      attention_impl=cfg.attention_impl, dtype=cfg.activation_dtype, name=name)


def _mlp(cfg: T5Config, deterministic: bool):
  return layers.MlpBlock(
      mlp_dim=cfg.mlp_dim, activations=cfg.mlp_activations, dropout_rate=cfg.dropout_rate,
      deterministic=deterministic, dtype=cfg.activation_dtype, name="mlp")


def _remat(layer_cls: type[nn.Module], policy: str, scanned: bool) -> type[nn.Module]:
  """Wraps a layer class with `nn.remat` according to the config's policy name."""
  if policy == "none":
    return layer_cls
  jax_policy = None
  if policy == "minimal":
    jax_policy = jax.checkpoint_policies.checkpoint_dots_with_no_batch_dims
  # Inside scan, CSE cannot undo rematerialization, so the extra barrier is not needed.
  return nn.remat(layer_cls, policy=jax_policy, prevent_cse=not scanned)


def _run_layers(parent: nn.Module, layer_cls: type[nn.Module], num_layers: int, x: Array,
                args: tuple, **layer_kwargs: Any) -> Array:
  """Applies `num_layers` layers, unrolled as layers_{i} or scanned as one 'layers'."""
  cfg = parent.config
  layer_cls = _remat(layer_cls, cfg.remat_policy, cfg.scan_layers)
  if not cfg.scan_layers:
    for i in range(num_layers):
      x = layer_cls(cfg, **layer_kwargs, name=f"layers_{i}")(x, *args)
    return x
  scanned = nn.scan(
      layer_cls, variable_axes={"params": SCAN_AXIS, "cache": 0},
      split_rngs={"params": True, "dropout": True}, in_axes=(nn.broadcast,) * len(args),
      length=num_layers, metadata_params={nn.PARTITION_NAME: "layers"})
  x, _ = scanned(cfg, **layer_kwargs, scanned=True, name="layers")(x, *args)
  return x


def _positions(tokens: Array, positions: Optional[Array]) -> Array:
  if positions is not None:
    return positions.astype(jnp.int32)
  return jnp.arange(tokens.shape[-1], dtype=jnp.int32)[None, :]


class Encoder(nn.Module):
  """Embeds tokens, runs the bidirectional stack, applies the final norm."""
  config: T5Config
  shared_embedding: nn.Module

  @nn.compact
  def __call__(self, tokens: Array, segment_ids: Optional[Array] = None,
               positions: Optional[Array] = None, enable_dropout: bool = True) -> Array:
    cfg, deterministic = self.config, not enable_dropout
    dropout = nn.Dropout(cfg.dropout_rate, broadcast_dims=(-2,))
    pos = _positions(tokens, positions)
    bias = layers.RelativePositionBias(
        cfg.num_heads, cfg.relative_attention_num_buckets, cfg.relative_attention_max_distance,
        bidirectional=True, name="relpos_bias")(pos, pos)
    mask = layers.attention_mask(tokens > 0, tokens > 0, segment_ids, segment_ids)
    bias = layers.additive_bias(bias, mask)  # Once for all layers (see additive_bias).
    x = dropout(self.shared_embedding(tokens), deterministic=deterministic)
    x = layers.constrain(x, ("batch", "length", "embed"))
    x = _run_layers(self, EncoderLayer, cfg.num_encoder_layers, x, (None, bias),
                    deterministic=deterministic)
    x = layers.RMSNorm(cfg.layer_norm_epsilon, cfg.activation_dtype, name="encoder_norm")(x)
    return dropout(x, deterministic=deterministic)


class Decoder(nn.Module):
  """Causal stack over the shifted targets with cross-attention; returns float32 logits."""
  config: T5Config
  shared_embedding: nn.Module

  @nn.compact
  def __call__(self, encoded: Optional[Array], encoder_tokens: Array, tokens: Array,
               target_tokens: Optional[Array] = None, encoder_segment_ids: Optional[Array] = None,
               segment_ids: Optional[Array] = None, positions: Optional[Array] = None,
               enable_dropout: bool = True, decode: bool = False) -> Array:
    cfg, deterministic = self.config, not enable_dropout
    dropout = nn.Dropout(cfg.dropout_rate, broadcast_dims=(-2,))
    relpos = layers.RelativePositionBias(
        cfg.num_heads, cfg.relative_attention_num_buckets, cfg.relative_attention_max_distance,
        bidirectional=False, name="relpos_bias")
    step = self._decode_step(tokens) if decode else None
    if step is None:
      # Real tokens are those with a real target: input position 0 is pad id 0 (BOS).
      real = (target_tokens if target_tokens is not None else jnp.ones_like(tokens)) > 0
      pos = _positions(tokens, positions)
      self_bias = layers.additive_bias(  # Once for all layers (see additive_bias).
          relpos(pos, pos), layers.attention_mask(real, real, segment_ids, segment_ids,
                                                  causal=True))
      self_mask = None
      cross_mask = layers.attention_mask(real, encoder_tokens > 0, segment_ids,
                                         encoder_segment_ids)
    else:
      # One token per call: the attention cache masks the future; bias row of this step.
      index, key_positions = step
      self_bias = relpos(index[None, None], key_positions[None, :])
      self_mask = None
      cross_mask = layers.attention_mask(jnp.ones_like(tokens, bool), encoder_tokens > 0)
    x = dropout(self.shared_embedding(tokens), deterministic=deterministic)
    x = layers.constrain(x, ("batch", "length", "embed"))
    x = _run_layers(self, DecoderLayer, cfg.num_decoder_layers, x,
                    (encoded, self_mask, self_bias, cross_mask),
                    deterministic=deterministic, decode=decode)
    x = layers.RMSNorm(cfg.layer_norm_epsilon, cfg.activation_dtype, name="decoder_norm")(x)
    x = dropout(x, deterministic=deterministic)
    if cfg.logits_via_embedding:
      logits = self.shared_embedding.attend(x) / jnp.sqrt(x.shape[-1]).astype(x.dtype)
    else:
      logits = layers.Dense(cfg.vocab_size, ("embed", "vocab"), dtype=jnp.float32,
                            name="logits_dense")(x)
    return layers.constrain(logits.astype(jnp.float32), ("batch", "length", "vocab"))

  def _decode_step(self, tokens: Array) -> Optional[tuple[Array, Array]]:
    """In cached decoding, returns (this step's position, all cache positions); else None.

    The first decode=True call (full-length inputs) only sizes the cache, like T5X.
    """
    initialized = self.has_variable("cache", "position")
    position = self.variable("cache", "position", lambda: jnp.array(0, jnp.int32))
    # Only the length of `slots` matters (caches are zero-filled by `init_cache`).
    slots = self.variable("cache", "slots", jnp.zeros, tokens.shape[-1:], jnp.int32)
    if not initialized:
      return None
    index = position.value
    position.value = index + 1
    return index, jnp.arange(slots.value.shape[0], dtype=jnp.int32)


class Transformer(nn.Module):
  """T5 encoder-decoder with T5X's network signature (`__call__`, `encode`, `decode`)."""
  config: T5Config

  def setup(self):
    cfg = self.config
    self.shared_embedding = layers.Embed(cfg.vocab_size, cfg.emb_dim, cfg.activation_dtype,
                                         name="token_embedder")
    self.encoder = Encoder(cfg, self.shared_embedding)
    self.decoder = Decoder(cfg, self.shared_embedding)

  def encode(self, encoder_input_tokens: Array, encoder_segment_ids: Optional[Array] = None,
             encoder_positions: Optional[Array] = None, enable_dropout: bool = True) -> Array:
    """Encoder outputs [batch, input_len, emb_dim] in the activation dtype."""
    return self.encoder(encoder_input_tokens, encoder_segment_ids, encoder_positions,
                        enable_dropout)

  def decode(self, encoded: Optional[Array], encoder_input_tokens: Array,
             decoder_input_tokens: Array,
             decoder_target_tokens: Optional[Array] = None,
             encoder_segment_ids: Optional[Array] = None,
             decoder_segment_ids: Optional[Array] = None,
             decoder_positions: Optional[Array] = None, enable_dropout: bool = True,
             decode: bool = False, max_decode_length: Optional[int] = None) -> Array:
    """Float32 logits [batch, target_len, vocab] given encoder outputs.

    With decode=True, pass one token per call after the cache has been created (see
    `flan_jax.models.t5_decoding.init_cache`); `max_decode_length` is then the cache length.
    Cross-attention keys/values are cached on the first step; later steps may pass
    `encoded=None` to skip re-projecting the encoder outputs.
    """
    if encoded is None and not decode:
      raise ValueError("encoded=None is only allowed for cached decoding steps.")
    del max_decode_length  # The cache shape fixes it.
    return self.decoder(encoded, encoder_input_tokens, decoder_input_tokens,
                        decoder_target_tokens, encoder_segment_ids, decoder_segment_ids,
                        decoder_positions, enable_dropout, decode)

  def __call__(self, encoder_input_tokens: Array, decoder_input_tokens: Array,
               decoder_target_tokens: Optional[Array] = None,
               encoder_segment_ids: Optional[Array] = None,
               decoder_segment_ids: Optional[Array] = None,
               encoder_positions: Optional[Array] = None,
               decoder_positions: Optional[Array] = None, enable_dropout: bool = True,
               decode: bool = False, max_decode_length: Optional[int] = None) -> Array:
    """Teacher-forced float32 logits [batch, target_len, vocab]."""
    encoded = self.encode(encoder_input_tokens, encoder_segment_ids, encoder_positions,
                          enable_dropout)
    return self.decode(encoded, encoder_input_tokens, decoder_input_tokens,
                       decoder_target_tokens, encoder_segment_ids, decoder_segment_ids,
                       decoder_positions, enable_dropout, decode, max_decode_length)


def train_flops_per_step(config: T5Config, batch_size: int,
                         task_feature_lengths: Mapping[str, int]) -> float:
  """Training FLOPs of one step over padded [batch, L_in] inputs and [batch, L_out] targets.

  3 x forward, where forward = 2 * (encoder matmul params * batch * L_in + decoder matmul
  params * batch * L_out) + 4 * batch * heads * head_dim * (enc_layers * L_in^2 +
  dec_layers * (L_out^2 + L_out * L_in)). Matmul params are the attention projections,
  the MLP and the output logits; embedding lookups and norms are free.
  """
  l_in, l_out = task_feature_lengths["inputs"], task_feature_lengths["targets"]
  d, kv, mlp = config.emb_dim, config.num_heads * config.head_dim, config.mlp_dim
  attention = 4 * d * kv  # q, k, v and out projections.
  mlp_params = (len(config.mlp_activations) + 1) * d * mlp
  enc = config.num_encoder_layers * (attention + mlp_params)
  dec = config.num_decoder_layers * (2 * attention + mlp_params) + d * config.vocab_size
  dense = 2 * batch_size * (enc * l_in + dec * l_out)
  attn = 4 * batch_size * kv * (config.num_encoder_layers * l_in**2
                                + config.num_decoder_layers * (l_out**2 + l_out * l_in))
  return 3.0 * (dense + attn)
