"""Batched prediction on the mesh (greedy, beam search or sampling), as SeqIO's evaluator
and `flan-jax infer` need; the same for every model family (`flan_jax.models.families`)."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Sequence

import jax
import numpy as np
import seqio
import tensorflow as tf
from jax.sharding import Mesh, NamedSharding

from flan_jax.models import families
from flan_jax.runtime import partitioning


DECODERS = ("greedy", "beam", "sample")


@dataclasses.dataclass(frozen=True)
class DecodeOptions:
  """How predictions are decoded: greedy, the best beam of a beam search (T5X's length
  penalty `alpha`), or sampling (temperature, top-k, top-p; `seed` fixes the draws)."""
  method: str = "greedy"
  beam_size: int = 4
  alpha: float = 0.6
  temperature: float = 1.0
  top_k: int = 0
  top_p: float = 1.0
  seed: int = 0

  def __post_init__(self):
    if self.method not in DECODERS:
      raise ValueError(f"decode method must be one of {DECODERS}, got {self.method!r}.")
    if self.beam_size < 1 or self.temperature < 0 or not 0 < self.top_p <= 1 or self.top_k < 0:
      raise ValueError(f"Bad decoding options {self}: beam_size >= 1, temperature >= 0, "
                       "top_k >= 0 and 0 < top_p <= 1.")


def decode_fn(model: Any, max_decode_length: int, eos_id: int,
              options: DecodeOptions) -> Callable[[Any, jax.Array, jax.Array], jax.Array]:
  """(params, prompt tokens, rng) -> ids [batch, max_decode_length] for `options`."""
  family = families.family_of(model.config)
  if options.method == "beam":
    return lambda params, tokens, rng: family.beam_search(
        model, params, tokens, max_decode_length, options.beam_size, options.alpha,
        eos_id=eos_id)[0][:, 0]
  if options.method == "sample":
    return lambda params, tokens, rng: family.sample_decode(
        model, params, tokens, max_decode_length, rng, options.temperature, options.top_k,
        options.top_p, eos_id=eos_id)
  return lambda params, tokens, rng: family.greedy_decode(model, params, tokens,
                                                          max_decode_length, eos_id)


def eos_id_of(mixture_or_task_name: str) -> int:
  """The EOS id of a task's (or a mixture's first task's) targets vocabulary: where decoding
  stops (1 for T5's and the toy vocabularies, 2 for Llama's SentencePiece model)."""
  provider = seqio.get_mixture_or_task(mixture_or_task_name)
  tasks = provider.tasks if isinstance(provider, seqio.Mixture) else [provider]
  return int(tasks[0].output_features["targets"].vocabulary.eos_id) if tasks else 1


class Predictor:
  """Decodes fixed-size batches (padding the last one) with sharded params."""

  def __init__(self, model: Any, mesh: Mesh, rules: partitioning.LogicalRules,
               param_shardings: Any, batch_size: int, max_decode_length: int,
               eos_id: int = 1, options: DecodeOptions = DecodeOptions()):
    dp = partitioning.data_parallel_size(mesh, rules)
    self.batch_size = -(-batch_size // dp) * dp  # Round up so the mesh divides it.
    self.max_decode_length = max_decode_length
    self._input_sharding = partitioning.batch_sharding(mesh, rules)
    self._rng = jax.random.PRNGKey(options.seed)
    self._batches = 0
    replicated = partitioning.replicated(mesh)
    self._decode = jax.jit(decode_fn(model, max_decode_length, eos_id, options),
                           in_shardings=(param_shardings, self._input_sharding, replicated),
                           out_shardings=replicated)

  def predict_tokens(self, params: Any, encoder_input_tokens: np.ndarray) -> np.ndarray:
    """[N, L] int inputs -> [N, max_decode_length] predicted ids (0 after EOS)."""
    outputs = []
    for start in range(0, len(encoder_input_tokens), self.batch_size):
      chunk = encoder_input_tokens[start:start + self.batch_size]
      padded = np.zeros((self.batch_size,) + chunk.shape[1:], np.int32)
      padded[:len(chunk)] = chunk
      tokens = _global_from_full(padded, self._input_sharding)
      rng = jax.random.fold_in(self._rng, self._batches)  # Fresh draws for every batch.
      self._batches += 1
      outputs.append(np.asarray(self._decode(params, tokens, rng))[:len(chunk)])
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
