"""Batched greedy prediction on the mesh, as SeqIO's evaluator and `flan-jax infer` need."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import jax
import numpy as np
import tensorflow as tf
from jax.sharding import Mesh, NamedSharding

from flan_jax.models import families
from flan_jax.runtime import partitioning


class Predictor:
  """Greedy-decodes fixed-size batches (padding the last one) with sharded params."""

  def __init__(self, model: Any, mesh: Mesh, rules: partitioning.LogicalRules,
               param_shardings: Any, batch_size: int, max_decode_length: int,
               eos_id: int = 1):
    dp = partitioning.data_parallel_size(mesh, rules)
    self.batch_size = -(-batch_size // dp) * dp  # Round up so the mesh divides it.
    self.max_decode_length = max_decode_length
    self._input_sharding = partitioning.batch_sharding(mesh, rules)
    decode = families.family_of(model.config).greedy_decode
    self._decode = jax.jit(
        lambda params, tokens: decode(model, params, tokens, max_decode_length, eos_id),
        in_shardings=(param_shardings, self._input_sharding),
        out_shardings=partitioning.replicated(mesh))

  def predict_tokens(self, params: Any, encoder_input_tokens: np.ndarray) -> np.ndarray:
    """[N, L] int inputs -> [N, max_decode_length] predicted ids (0 after EOS)."""
    outputs = []
    for start in range(0, len(encoder_input_tokens), self.batch_size):
      chunk = encoder_input_tokens[start:start + self.batch_size]
      padded = np.zeros((self.batch_size,) + chunk.shape[1:], np.int32)
      padded[:len(chunk)] = chunk
      tokens = _global_from_full(padded, self._input_sharding)
      outputs.append(np.asarray(self._decode(params, tokens))[:len(chunk)])
    if not outputs:
      return np.zeros((0, self.max_decode_length), np.int32)
    return np.concatenate(outputs)

  def seqio_predict_fn(self, params: Any) -> Callable[[tf.data.Dataset], Sequence]:
    """A SeqIO `predict_fn`: enumerated dataset -> [(index, token ids)]."""
    def predict_fn(dataset: tf.data.Dataset):
      indices, inputs = [], []
      for index, features in dataset.as_numpy_iterator():
        indices.append(int(index))
        inputs.append(features["encoder_input_tokens"])
      if not inputs:
        return []
      predictions = self.predict_tokens(params, np.stack(inputs))
      # Fixed-length rows: SeqIO stacks them into one array; decoding stops at EOS.
      return [(i, [int(t) for t in p]) for i, p in zip(indices, predictions)]
    return predict_fn


def _global_from_full(full: np.ndarray, sharding: NamedSharding) -> jax.Array:
  """Every process holds the full batch; each contributes the shards it owns."""
  return jax.make_array_from_callback(full.shape, sharding, lambda index: full[index])
