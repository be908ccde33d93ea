"""ALiBi (Falcon-RW style) of the decoder family against transformers' FalconForCausalLM.

The bias itself equals transformers' `build_alibi_tensor` bit for bit (slopes and the
slope x position product rounded to bfloat16, as it does). It is computed from positions,
not slots: a packed row must give each example's logits as transformers gives them for the
example alone, and cached decoding of right-padded prompts (padding slots kept in the
cache) the tokens transformers generates for each prompt alone; the dot_product_attention
path and scanned layers are checked too. Beam search (which reorders the cached key
positions with the keys), scoring and sampling of this model are in
test_hf_decoder_decoding.py.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from flan_jax.interop import param_tree  # pylint: disable=g-import-not-at-top
from flan_jax.models import layers, palm, palm_decoding  # pylint: disable=g-import-not-at-top
from tests.interop import hf_decoders  # pylint: disable=g-import-not-at-top
from tests.interop.hf_decoders import VOCAB  # pylint: disable=g-import-not-at-top

VARIANT = "falcon_alibi_parallel_mqa_12_heads"


@pytest.fixture(scope="module", name="reference")
def _reference(tmp_path_factory):
  loaded = hf_decoders.reference(VARIANT, tmp_path_factory)
  assert loaded[1].config.position_embedding == "alibi"
  return loaded


def _hf_logits(hf_model, ids):
  with torch.no_grad():
    return hf_model(torch.as_tensor(np.asarray(ids)[None], dtype=torch.long)).logits[0].numpy()


def _hf_greedy(hf_model, ids, steps):
  with torch.no_grad():
    out = hf_model.generate(torch.as_tensor(np.asarray(ids)[None], dtype=torch.long),
                            attention_mask=torch.ones((1, len(ids)), dtype=torch.long),
                            max_new_tokens=steps, do_sample=False, eos_token_id=None,
                            pad_token_id=0)
  return out.numpy()[0, len(ids):]


@pytest.mark.parametrize("num_heads", [1, 3, 4, 6, 12, 16, 32, 71, 128])
def test_alibi_bias_is_transformers_build_alibi_tensor(num_heads):
  falcon = transformers.models.falcon.modeling_falcon
  build_alibi_tensor = falcon.build_alibi_tensor
  length, head_dim = 3000, 64  # long: the bfloat16 rounding of slope x position shows.
  ref = build_alibi_tensor(torch.ones((1, length), dtype=torch.long), num_heads, torch.float32)
  ref = ref.reshape(1, num_heads, length).numpy() / np.float32(np.sqrt(head_dim))
  # Compiled, positions not constants: XLA must not skip the bfloat16 rounding.
  ours = jax.jit(layers.alibi_bias, static_argnums=(1, 2))(
      jnp.arange(length, dtype=jnp.int32)[None], num_heads, head_dim)
  assert ours.shape == (1, num_heads, 1, length)
  np.testing.assert_array_equal(np.asarray(ours)[:, :, 0], ref)


def test_packed_row_gives_each_example_the_logits_transformers_gives_it_alone(reference):
  hf_model, model, params = reference
  rng = np.random.RandomState(0)
  examples = [rng.randint(1, VOCAB, 7), rng.randint(1, VOCAB, 5)]
  length = 16
  tokens = np.zeros(length, np.int32)
  segments, positions = np.zeros(length, np.int32), np.zeros(length, np.int32)
  start = 0
  for i, ids in enumerate(examples):
    tokens[start:start + len(ids)] = ids
    segments[start:start + len(ids)] = i + 1
    positions[start:start + len(ids)] = np.arange(len(ids))
    start += len(ids)
  logits = np.asarray(jax.jit(lambda p, t, s, q: model.apply(
      {"params": p}, t, (s > 0).astype(jnp.int32), decoder_segment_ids=s, decoder_positions=q,
      enable_dropout=False))(params, tokens[None], segments[None], positions[None]))[0]
  start = 0
  for ids in examples:
    np.testing.assert_allclose(logits[start:start + len(ids)], _hf_logits(hf_model, ids),
                               atol=1e-4, rtol=0)
    start += len(ids)


def test_batched_cached_greedy_of_padded_prompts_equals_transformers_per_prompt(reference):
  hf_model, model, params = reference
  rng = np.random.RandomState(1)
  prompts = rng.randint(1, VOCAB, (3, 6)).astype(np.int32)
  prompts[1, 3:] = 0  # right-padded: their padding slots stay in the cache, masked.
  prompts[2, 1:] = 0
  steps = 8
  decoded = np.asarray(jax.jit(lambda p, t: palm_decoding.greedy_decode_prefix(
      model, p, t, steps, eos_id=-1))(params, jnp.asarray(prompts)))
  for row, prompt in zip(decoded, prompts):
    np.testing.assert_array_equal(row, _hf_greedy(hf_model, np.concatenate(
        [[0], prompt[prompt > 0]]), steps))


def test_dot_product_attention_and_scanned_layers_match_transformers(reference):
  hf_model, model, params = reference
  cfg = model.config.replace(attention_impl="dot_product_attention", scan_layers=True)
  fast, stacked = palm.DecoderOnly(cfg), param_tree.stack_layers(params)
  ids = np.random.RandomState(2).randint(1, VOCAB, 11).astype(np.int32)
  logits = fast.apply({"params": stacked}, jnp.asarray(ids[None]), jnp.ones((1, 11), jnp.int32),
                      enable_dropout=False)
  np.testing.assert_allclose(np.asarray(logits)[0], _hf_logits(hf_model, ids), atol=1e-4,
                             rtol=0)
  decoded = jax.jit(lambda p, t: palm_decoding.greedy_decode_prefix(fast, p, t, 6, eos_id=-1))(
      stacked, jnp.asarray(ids[None, :4]))
  np.testing.assert_array_equal(np.asarray(decoded)[0],
                                _hf_greedy(hf_model, np.concatenate([[0], ids[:4]]), 6))
