"""Shared Transformer building blocks with T5X parameter names and logical axes.

Every parameter is float32 and boxed with `nn.with_logical_partitioning`; activations are
constrained with `nn.with_logical_constraint`, so one rules table maps both onto a mesh.
"""

from __future__ import annotations

import functools
import math
import operator
from typing import Callable, Optional, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array
Initializer = Callable[..., Array]

# Large negative number for masked attention logits; finite so fully masked rows stay
# finite (T5X uses the same value).
MASK_VALUE = -1e10

default_kernel_init = nn.initializers.variance_scaling(1.0, "fan_in", "truncated_normal")
embedding_init = nn.initializers.normal(stddev=1.0)
relpos_init = nn.initializers.variance_scaling(1.0, "fan_avg", "uniform")

ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "gelu": functools.partial(jax.nn.gelu, approximate=True),  # HF "gelu_new".
    "gelu_exact": functools.partial(jax.nn.gelu, approximate=False),
    "relu": jax.nn.relu,
    "silu": jax.nn.silu,
    "swish": jax.nn.silu,
    "linear": lambda x: x,
}


REMAT_POLICIES = ("none", "full", "minimal")
ATTENTION_IMPLS = ("einsum", "dot_product_attention")


def validate_numerics(config_name: str, dtype: str, remat_policy: str,
                      attention_impl: str) -> str:
  """Checks the options every model family shares; returns the canonical dtype name."""
  dtype = jnp.dtype(dtype).name
  if dtype not in ("float32", "bfloat16"):
    raise ValueError(f"{config_name}.dtype must be 'float32' or 'bfloat16', got {dtype!r}.")
  if remat_policy not in REMAT_POLICIES:
    raise ValueError(f"{config_name}.remat_policy must be one of {REMAT_POLICIES}, got "
                     f"{remat_policy!r}.")
  if attention_impl not in ATTENTION_IMPLS:
    raise ValueError(f"{config_name}.attention_impl must be one of {ATTENTION_IMPLS}, got "
                     f"{attention_impl!r}.")
  return dtype


def constrain(x: Array, names: tuple[str, ...]) -> Array:
  """Annotates an activation with logical axes (a no-op without axis rules)."""
  return nn.with_logical_constraint(x, names)


class RMSNorm(nn.Module):
  """T5 layer norm: scales by the root mean square, no mean subtraction, no bias."""
  epsilon: float = 1e-6
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x: Array) -> Array:
    x = x.astype(jnp.float32)
    scale = self.param("scale", nn.with_logical_partitioning(nn.initializers.ones, ("embed",)),
                       (x.shape[-1],), jnp.float32)
    y = x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=-1, keepdims=True) + self.epsilon)
    return (y * scale).astype(self.dtype)


class LayerNorm(nn.Module):
  """Standard layer norm (mean and variance, learned scale and bias), computed in float32."""
  epsilon: float = 1e-5
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x: Array) -> Array:
    x = x.astype(jnp.float32)
    features = (x.shape[-1],)
    scale = self.param("scale", nn.with_logical_partitioning(nn.initializers.ones, ("embed",)),
                       features, jnp.float32)
    bias = self.param("bias", nn.with_logical_partitioning(nn.initializers.zeros, ("embed",)),
                      features, jnp.float32)
    centered = x - jnp.mean(x, axis=-1, keepdims=True)
    y = centered * jax.lax.rsqrt(jnp.mean(jnp.square(centered), axis=-1, keepdims=True)
                                 + self.epsilon)
    return (y * scale + bias).astype(self.dtype)


# Config name -> norm module (both take epsilon, dtype).
NORMS = {"rmsnorm": RMSNorm, "layernorm": LayerNorm}


class Dense(nn.Module):
  """Projection of the last axis; the kernel is stored 2-D as [in, out]. Bias-free (T5,
  PaLM) unless `use_bias` (a zero-initialised [out] `bias`, e.g. Falcon's bias=True)."""
  features: int
  kernel_axes: tuple[str, str]
  kernel_init: Initializer = default_kernel_init
  dtype: jnp.dtype = jnp.float32
  use_bias: bool = False

  @nn.compact
  def __call__(self, x: Array) -> Array:
    kernel = self.param("kernel", nn.with_logical_partitioning(self.kernel_init, self.kernel_axes),
                        (x.shape[-1], self.features), jnp.float32)
    y = project_rows(x.astype(self.dtype), kernel.astype(self.dtype))
    if not self.use_bias:
      return y
    bias = self.param("bias", nn.with_logical_partitioning(nn.initializers.zeros,
                                                           self.kernel_axes[1:]),
                      (self.features,), jnp.float32)
    return y + bias.astype(self.dtype)


def project_rows(x: Array, kernel: Array) -> Array:
  """x [..., in] @ kernel [in, out] as one 2-D product over the flattened leading axes.

  Same values as `jnp.dot(x, kernel)`. The 2-D form matters for the backward pass: the
  kernel's gradient then contracts one token axis, which XLA:CPU runs as a single
  transposed-operand matmul; contracting [batch, length] it first wrote a transposed copy
  of the output gradient (docs/BENCHMARKS.md, "Transposed copies").
  """
  rows = x.reshape(-1, x.shape[-1])
  return jnp.dot(rows, kernel).reshape(x.shape[:-1] + (kernel.shape[-1],))


class Embed(nn.Module):
  """Token embedding [vocab, embed]; `attend` reuses it as a tied output layer."""
  num_embeddings: int
  features: int
  dtype: jnp.dtype = jnp.float32

  def setup(self):
    self.embedding = self.param(
        "embedding", nn.with_logical_partitioning(embedding_init, ("vocab", "embed")),
        (self.num_embeddings, self.features), jnp.float32)

  def __call__(self, tokens: Array) -> Array:
    return jnp.take(self.embedding, tokens.astype(jnp.int32), axis=0).astype(self.dtype)

  def attend(self, x: Array) -> Array:
    return project_rows(x.astype(self.dtype), self.embedding.T.astype(self.dtype))


def relative_position_bucket(relative_position: Array, bidirectional: bool, num_buckets: int,
                             max_distance: int) -> Array:
  """Maps key_pos - query_pos to T5's buckets: exact for small distances, log-spaced after.

  Bidirectional buckets spend half their range on keys after the query; causal buckets
  fold every future key into bucket 0 (those keys are masked anyway).
  """
  n = -relative_position
  ret = jnp.zeros_like(n)
  if bidirectional:
    num_buckets //= 2
    ret = ret + (n < 0).astype(n.dtype) * num_buckets
    n = jnp.abs(n)
  else:
    n = jnp.maximum(n, 0)
  max_exact = num_buckets // 2
  safe_n = jnp.maximum(n, max_exact).astype(jnp.float32)
  large = max_exact + (jnp.log(safe_n / max_exact) / np.log(max_distance / max_exact)
                       * (num_buckets - max_exact)).astype(n.dtype)
  large = jnp.minimum(large, num_buckets - 1)
  return ret + jnp.where(n < max_exact, n, large)


class RelativePositionBias(nn.Module):
  """One learned scalar per (head, bucket), shared by every layer of a stack."""
  num_heads: int
  num_buckets: int = 32
  max_distance: int = 128
  bidirectional: bool = True

  @nn.compact
  def __call__(self, query_positions: Array, key_positions: Array) -> Array:
    """Positions [batch or 1, q] and [batch or 1, k] -> float32 bias [batch, heads, q, k]."""
    rel_embedding = self.param(
        "rel_embedding", nn.with_logical_partitioning(relpos_init, ("heads", "relpos_buckets")),
        (self.num_heads, self.num_buckets), jnp.float32)
    relative = key_positions[:, None, :] - query_positions[:, :, None]
    buckets = relative_position_bucket(relative.astype(jnp.int32), self.bidirectional,
                                       self.num_buckets, self.max_distance)
    bias = jnp.take(rel_embedding.T, buckets, axis=0)  # [b, q, k, heads]
    return jnp.transpose(bias, (0, 3, 1, 2))


def attention_mask(query_ok: Array, key_ok: Array, query_segments: Optional[Array] = None,
                   key_segments: Optional[Array] = None, causal: bool = False) -> Array:
  """Boolean [batch, 1, q, k] mask: both tokens real, same segment, key not in the future."""
  mask = query_ok[:, :, None] & key_ok[:, None, :]
  if query_segments is not None and key_segments is not None:
    mask = mask & (query_segments[:, :, None] == key_segments[:, None, :])
  if causal:
    q_len, k_len = query_ok.shape[-1], key_ok.shape[-1]
    mask = mask & (jnp.arange(q_len)[:, None] >= jnp.arange(k_len)[None, :])
  return mask[:, None, :, :]


def additive_bias(bias: Optional[Array], mask: Optional[Array]) -> Optional[Array]:
  """float32 `bias` plus MASK_VALUE where `mask` is False (either may be None).

  A stack computes this once and hands every layer the result with mask=None: the
  gradient of a bias shared by all layers is then summed over layers at full shape and
  reduced over the batch once, instead of once per layer (on XLA:CPU that per-layer
  reduction was the slowest op of a T5 train step). The price: one [batch, heads, q, k]
  float32 array lives for the whole stack instead of one per layer in turn.
  """
  total = None if bias is None else bias.astype(jnp.float32)
  if mask is not None:
    mask_bias = jnp.where(mask, 0.0, MASK_VALUE).astype(jnp.float32)
    total = mask_bias if total is None else total + mask_bias
  return total


class MultiHeadAttention(nn.Module):
  """T5 attention: no biases, no 1/sqrt(d) logit scaling (folded into the query init).

  With `decode=True` keys and values go to the 'cache' collection: the first call (with
  full-length inputs) only creates the cache; later calls take one token each. With
  `static_kv=True` (cross-attention) a decode call projects `inputs_kv` once into the
  cache and calls with `inputs_kv=None` reuse it, so steps skip the encoder projections.
  `attention_impl='dot_product_attention'` uses `jax.nn.dot_product_attention` with the
  relative bias passed as `bias`; it falls back to einsum when attention-weight dropout is
  active, which that function does not implement.
  """
  num_heads: int
  head_dim: int
  dropout_rate: float = 0.0
  deterministic: bool = True
  decode: bool = False
  static_kv: bool = False
  attention_impl: str = "einsum"
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, inputs_q: Array, inputs_kv: Optional[Array], mask: Optional[Array] = None,
               bias: Optional[Array] = None) -> Array:
    emb_dim = inputs_q.shape[-1]
    joined = self.num_heads * self.head_dim
    query_init = nn.initializers.variance_scaling(1.0 / self.head_dim, "fan_in", "normal")
    kernel_init = nn.initializers.variance_scaling(1.0, "fan_in", "normal")

    def project(name: str, x: Array, init: Initializer) -> Array:
      y = Dense(joined, ("embed", "joined_kv"), init, self.dtype, name=name)(x)
      y = y.reshape(y.shape[:-1] + (self.num_heads, self.head_dim))
      return constrain(y, ("batch", "length", "heads", "kv"))

    query = project("query", inputs_q, query_init)
    kv_layout = "bkhd"
    if self.decode and self.static_kv:
      key, value = self._static_cache(inputs_kv, lambda: (
          _keys_last(project("key", inputs_kv, kernel_init)),
          _keys_last(project("value", inputs_kv, kernel_init))))
      kv_layout = "bhdk"
    else:
      key = project("key", inputs_kv, kernel_init)
      value = project("value", inputs_kv, kernel_init)
      if self.decode:
        key, value, mask = self._use_cache(key, value, mask)
    out = self._attend(query, key, value, mask, bias, kv_layout)
    out = constrain(out, ("batch", "length", "heads", "kv"))
    out = out.reshape(out.shape[:-2] + (joined,))
    out = Dense(emb_dim, ("joined_kv", "embed"), kernel_init, self.dtype, name="out")(out)
    return constrain(out, ("batch", "length", "embed"))

  def _static_cache(self, inputs_kv: Optional[Array], compute: Callable[[], tuple]):
    """Projected encoder keys/values: computed and cached when given, else read back.

    They are kept [batch, heads, head_dim, keys]: the layout each decode step's products
    read directly. Kept as projected, [batch, keys, heads, head_dim], XLA:CPU copied every
    layer's keys and values into that layout at every step (about half of a batch-32
    greedy decode's time; see docs/BENCHMARKS.md, "Decoding").
    """
    if inputs_kv is None:
      if not self.has_variable("cache", "static_key"):
        raise ValueError("Cross-attention cache is empty: pass the encoder outputs on the "
                         "first decode step.")
      return (self.get_variable("cache", "static_key"),
              self.get_variable("cache", "static_value"))
    key, value = compute()
    if self.is_mutable_collection("cache"):
      self.put_variable("cache", "static_key", key)
      self.put_variable("cache", "static_value", value)
    return key, value

  def _use_cache(self, key: Array, value: Array, mask: Optional[Array]):
    """Writes this step's key/value at the cache index and masks not-yet-written slots."""
    initialized = self.has_variable("cache", "cached_key")
    cached_key = self.variable("cache", "cached_key", jnp.zeros, key.shape, key.dtype)
    cached_value = self.variable("cache", "cached_value", jnp.zeros, value.shape, value.dtype)
    cache_index = self.variable("cache", "cache_index", lambda: jnp.array(0, jnp.int32))
    if not initialized:
      return key, value, mask
    if key.shape[1] != 1:
      raise ValueError(f"Cached decoding takes one token per call, got length {key.shape[1]}.")
    index = cache_index.value
    cached_key.value = jax.lax.dynamic_update_slice(cached_key.value, key, (0, index, 0, 0))
    cached_value.value = jax.lax.dynamic_update_slice(cached_value.value, value,
                                                      (0, index, 0, 0))
    cache_index.value = index + 1
    written = (jnp.arange(cached_key.value.shape[1]) <= index)[None, None, None, :]
    mask = written if mask is None else mask & written
    return cached_key.value, cached_value.value, mask

  def _attend(self, query: Array, key: Array, value: Array, mask: Optional[Array],
              bias: Optional[Array], kv_layout: str) -> Array:
    """The relative bias and the mask folded into one additive float32 bias, then the core."""
    return attend(query, key, value, bias=additive_bias(bias, mask), impl=self.attention_impl,
                  dtype=self.dtype, dropout_rate=self.dropout_rate,
                  dropout_rng=dropout_rng(self), kv_layout=kv_layout)


def _keys_last(x: Array) -> Array:
  """[batch, keys, heads, head_dim] -> [batch, heads, head_dim, keys]."""
  return constrain(jnp.transpose(x, (0, 2, 3, 1)), ("batch", "heads", "kv", "length"))


def dropout_rng(module: nn.Module) -> Optional[Array]:
  """The module's 'dropout' key when its attention-weight dropout is active, else None."""
  if module.deterministic or module.dropout_rate <= 0.0:
    return None
  return module.make_rng("dropout")


def attend(query: Array, key: Array, value: Array, *, bias: Optional[Array] = None,
           mask: Optional[Array] = None, impl: str = "einsum", dtype: jnp.dtype = jnp.float32,
           dropout_rate: float = 0.0, dropout_rng: Optional[Array] = None,
           kv_layout: str = "bkhd") -> Array:
  """Softmax attention of T5 and PaLM: query [b, q, h, d] -> [b, q, h, d], no logit scaling.

  key/value are [b, k, h, d], or [b, k, d] for one head shared by all query heads
  (multi-query); with `kv_layout='bhdk'` they are [b, h, d, k] (cached cross-attention
  keys and values). `bias` (float32, broadcast to [b, h, q, k]) is added to the logits and
  `mask` (bool, True = visible) replaces hidden logits by MASK_VALUE; softmax runs in
  float32. With `dropout_rng`, attention weights are dropped at `dropout_rate`.
  `impl='dot_product_attention'` calls `jax.nn.dot_product_attention`, except with dropout,
  which that function does not implement (einsum is used then).
  """
  if kv_layout not in ("bkhd", "bhdk"):
    raise ValueError(f"attend: kv_layout must be 'bkhd' or 'bhdk', got {kv_layout!r}.")
  shared_kv = key.ndim == 3
  if impl == "dot_product_attention" and dropout_rng is None:
    if kv_layout == "bhdk":
      key, value = jnp.transpose(key, (0, 3, 1, 2)), jnp.transpose(value, (0, 3, 1, 2))
    if shared_kv:
      key, value = key[:, :, None, :], value[:, :, None, :]
    if bias is not None:
      bias = jnp.broadcast_to(bias, (query.shape[0],) + bias.shape[1:]).astype(query.dtype)
    return jax.nn.dot_product_attention(query, key, value, bias=bias, mask=mask, scale=1.0)
  kv = "bkd" if shared_kv else kv_layout
  logits = jnp.einsum(f"bqhd,{kv}->bhqk", query, key).astype(jnp.float32)
  if bias is not None:
    logits = logits + bias
  if mask is not None:
    logits = jnp.where(mask, logits, MASK_VALUE)
  weights = jax.nn.softmax(logits, axis=-1).astype(dtype)
  if dropout_rng is not None:
    # One dropout mask shared across query positions, as in T5X (broadcast_dropout).
    keep = jax.random.bernoulli(dropout_rng, 1.0 - dropout_rate,
                                weights.shape[:2] + (1,) + weights.shape[3:])
    weights = jnp.where(keep, weights / (1.0 - dropout_rate), 0).astype(dtype)
  return jnp.einsum(f"bhqk,{kv}->bqhd", weights, value)


class MlpBlock(nn.Module):
  """T5 feed-forward: one `wi` per activation (gated when several), product, then `wo`."""
  mlp_dim: int
  activations: Sequence[str] = ("gelu", "linear")
  dropout_rate: float = 0.0
  deterministic: bool = True
  dtype: jnp.dtype = jnp.float32
  use_bias: bool = False

  @nn.compact
  def __call__(self, x: Array) -> Array:
    emb_dim = x.shape[-1]
    hidden = []
    for i, name in enumerate(self.activations):
      wi_name = "wi" if len(self.activations) == 1 else f"wi_{i}"
      h = Dense(self.mlp_dim, ("embed", "mlp"), dtype=self.dtype, use_bias=self.use_bias,
                name=wi_name)(x)
      hidden.append(ACTIVATIONS[name](h))
    h = functools.reduce(operator.mul, hidden)
    h = nn.Dropout(self.dropout_rate, broadcast_dims=(-2,))(h, deterministic=self.deterministic)
    h = constrain(h, ("batch", "length", "mlp"))
    out = Dense(emb_dim, ("mlp", "embed"), dtype=self.dtype, use_bias=self.use_bias,
                name="wo")(h)
    return constrain(out, ("batch", "length", "embed"))


def rotary_embedding(x: Array, positions: Array, max_wavelength: float = 10_000.0) -> Array:
  """Rotary position embedding (RoPE) of x [batch, length, ..., dim] at positions [b|1, length].

  Channel i is paired with i + dim/2 (the half-split layout) and the pair is rotated by
  position / max_wavelength ** (2i / dim); computed in float32, returned in x's dtype.
  """
  dim = x.shape[-1]
  if dim % 2:
    raise ValueError(f"Rotary embeddings need an even head dimension, got {dim}.")
  half = dim // 2
  inv_wavelength = max_wavelength ** (-jnp.arange(half, dtype=jnp.float32) / half)
  angles = positions.astype(jnp.float32)[..., None] * inv_wavelength
  angles = angles.reshape(angles.shape[:2] + (1,) * (x.ndim - 3) + (half,))
  sin, cos = jnp.sin(angles), jnp.cos(angles)
  x1, x2 = jnp.split(x.astype(jnp.float32), 2, axis=-1)
  rotated = jnp.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)
  return rotated.astype(x.dtype)


def alibi_slopes(num_heads: int) -> np.ndarray:
  """ALiBi's per-head slopes as transformers' Falcon and BLOOM compute them, float32.

  2**(-8/n) to the powers 1..n for the largest power of two n <= num_heads; the remaining
  heads take the odd powers of 2**(-4/n) (Press et al., 2022). Rounded to bfloat16, as
  transformers does before use (the checkpoints were trained with those values).
  """
  closest = 2 ** math.floor(math.log2(num_heads))
  base = np.float32(2 ** (-(2 ** -(math.log2(closest) - 3))))
  slopes = np.power(base, np.arange(1, 1 + closest, dtype=np.float32))
  if closest != num_heads:
    extra_base = np.float32(2 ** (-(2 ** -(math.log2(2 * closest) - 3))))
    remaining = min(closest, num_heads - closest)
    slopes = np.concatenate([slopes, np.power(
        extra_base, np.arange(1, 1 + 2 * remaining, 2, dtype=np.float32))])
  return np.asarray(slopes.astype(jnp.bfloat16), np.float32)


def alibi_bias(key_positions: Array, num_heads: int, head_dim: int) -> Array:
  """float32 ALiBi bias [batch, heads, 1, keys] from key positions [batch, keys].

  slope * key position, rounded to bfloat16 as transformers' Falcon computes it (position
  and product), divided by sqrt(head_dim) and added to the already scaled logits. Only
  the key's position enters: it differs from -slope * (query - key) by a constant per
  query, which softmax ignores, so causal attention sees the usual linear distance
  penalty. Positions (not slots) make packed segments and cached decoding equal to
  unpacked full runs.
  """
  slopes = jnp.asarray(alibi_slopes(num_heads))
  position = round_to_bfloat16(key_positions.astype(jnp.float32))
  # Exact in float32 (8 significant bits times 8), then rounded once, as in bfloat16.
  product = round_to_bfloat16(slopes[None, :, None] * position[:, None, :])
  return (product / jnp.float32(math.sqrt(head_dim)))[:, :, None, :]


def round_to_bfloat16(x: Array) -> Array:
  """float32 x rounded to the nearest bfloat16 (ties to even), kept float32 (finite x).

  Done on the bits: XLA may skip a float32 -> bfloat16 -> float32 round trip inside
  compiled loops (excess precision), which changed scanned layers' ALiBi bias.
  """
  bits = jax.lax.bitcast_convert_type(x.astype(jnp.float32), jnp.uint32)
  bits = bits + jnp.uint32(0x7FFF) + ((bits >> 16) & jnp.uint32(1))
  return jax.lax.bitcast_convert_type(bits & jnp.uint32(0xFFFF0000), jnp.float32)
