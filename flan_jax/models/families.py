"""Model families: what the trainer needs to know about each architecture, in one place.

A family ties a config dataclass to its network, the SeqIO feature converter that feeds
it, a stand-in batch for initialization, its FLOPs count, its decoders (greedy, sampling,
beam search) and its scorer. Each takes prompts as [batch, length] token ids 0-padded on
the right (T5: the encoder inputs; decoders: the prefix). The trainer, evaluator and
inference code ask `family_of(config)` instead of branching on model types.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import seqio

from flan_jax import errors
from flan_jax.models import palm, palm_decoding, t5, t5_decoding


@dataclasses.dataclass(frozen=True)
class ModelFamily:
  """How to build, feed, initialize, count and decode one kind of model."""
  name: str
  config_cls: type
  build: Callable[[Any], nn.Module]
  feature_converter: Callable[[bool], seqio.FeatureConverter]
  dummy_inputs: Callable[[Mapping[str, int]], dict[str, jax.Array]]
  train_flops: Callable[[Any, int, Mapping[str, int]], float]
  # (model, params, prompt tokens [batch, length], max_decode_length, eos_id) -> ids.
  greedy_decode: Callable[..., jax.Array]
  # (model, params, prompts, max_decode_length, rng, temperature, top_k, top_p, eos_id).
  sample_decode: Callable[..., jax.Array]
  # (model, params, prompts, max_decode_length, beam_size, alpha, eos_id) -> (ids, scores).
  beam_search: Callable[..., tuple[jax.Array, jax.Array]]
  # (model, params, inputs [N, Li], targets [N, Lt]) -> summed target log-likelihood [N].
  score_pairs: Callable[..., jax.Array]


def _lengths(task_feature_lengths: Mapping[str, int]) -> tuple[int, int]:
  # Parameter shapes do not depend on length: initialize on a short stand-in batch.
  return (min(int(task_feature_lengths.get("inputs", 8)), 8),
          min(int(task_feature_lengths.get("targets", 8)), 8))


def _encdec_dummy(task_feature_lengths: Mapping[str, int]) -> dict[str, jax.Array]:
  inputs, targets = _lengths(task_feature_lengths)
  return {"encoder_input_tokens": jnp.ones((1, inputs), jnp.int32),
          "decoder_input_tokens": jnp.ones((1, targets), jnp.int32),
          "decoder_target_tokens": jnp.ones((1, targets), jnp.int32)}


def _decoder_dummy(task_feature_lengths: Mapping[str, int]) -> dict[str, jax.Array]:
  inputs, targets = _lengths(task_feature_lengths)
  length = inputs + targets
  return {"decoder_input_tokens": jnp.ones((1, length), jnp.int32),
          "decoder_target_tokens": jnp.ones((1, length), jnp.int32)}


def _palm_flops(config, batch_size, lengths):
  return palm.train_flops_per_step(config, batch_size, lengths["inputs"] + lengths["targets"])


T5 = ModelFamily(
    name="t5", config_cls=t5.T5Config, build=t5.Transformer,
    feature_converter=lambda pack: seqio.EncDecFeatureConverter(pack=pack),
    dummy_inputs=_encdec_dummy, train_flops=t5.train_flops_per_step,
    greedy_decode=lambda model, params, tokens, max_len, eos_id: t5_decoding.greedy_decode(
        model, params, tokens, max_decode_length=max_len, eos_id=eos_id),
    sample_decode=t5_decoding.sample_decode, beam_search=t5_decoding.beam_search,
    score_pairs=t5_decoding.score_pairs)

# Flan data has inputs and targets: the prefix-LM converter concatenates them into one
# sequence with the loss on the targets. PaLMConfig.prefix_lm decides whether the inputs
# part attends bidirectionally or causally.
PALM = ModelFamily(
    name="palm", config_cls=palm.PaLMConfig, build=palm.DecoderOnly,
    feature_converter=lambda pack: seqio.PrefixLMFeatureConverter(pack=pack),
    dummy_inputs=_decoder_dummy, train_flops=_palm_flops,
    greedy_decode=lambda model, params, tokens, max_len, eos_id:
    palm_decoding.greedy_decode_prefix(model, params, tokens, max_decode_length=max_len,
                                       eos_id=eos_id),
    sample_decode=palm_decoding.sample_decode, beam_search=palm_decoding.beam_search,
    score_pairs=palm_decoding.score_pairs)

FAMILIES = {family.name: family for family in (T5, PALM)}


def family_of(config: Any) -> ModelFamily:
  """The family whose config class `config` is an instance of."""
  for family in FAMILIES.values():
    if isinstance(config, family.config_cls):
      return family
  raise errors.ConfigError(
      f"No model family takes a {type(config).__name__}; use one of "
      f"{', '.join(f.config_cls.__name__ for f in FAMILIES.values())}.")


def family_by_config_name(config_name: str) -> ModelFamily:
  """The family of a config class name, as stored in the run record (flan_jax/runtime/model_dir.py)."""
  for family in FAMILIES.values():
    if family.config_cls.__name__ == config_name:
      return family
  raise errors.unknown_name("model config", config_name,
                            [f.config_cls.__name__ for f in FAMILIES.values()])
