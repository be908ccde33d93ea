"""Scoring, beam search and sampling of the decoder family against transformers.

The references are a random LlamaForCausalLM with grouped-query attention and a Falcon-RW
style FalconForCausalLM with ALiBi (see hf_decoders.py), imported with
`hf_decoder.load_decoder`: transformers' log-probabilities score the targets,
its beam search (length_penalty=0, no EOS: plain cumulative log-probability, as our
alpha=0) gives the best beam and its score, and its softmax gives the distribution our
sampler must draw from.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from flan_jax.interop import param_tree  # pylint: disable=g-import-not-at-top
from flan_jax.models import palm, palm_decoding  # pylint: disable=g-import-not-at-top
from tests.interop import hf_decoders  # pylint: disable=g-import-not-at-top
from tests.interop.hf_decoders import VOCAB  # pylint: disable=g-import-not-at-top

# Llama's block, and Falcon-RW's ALiBi (its bias follows each key's position in the cache).
VARIANTS = ("llama_gqa_untied", "falcon_alibi_parallel_mqa_12_heads")


@pytest.fixture(scope="module", params=VARIANTS, name="reference")
def _reference(request, tmp_path_factory):
  return hf_decoders.reference(request.param, tmp_path_factory)


def _hf_log_probs(hf_model, ids):
  with torch.no_grad():
    logits = hf_model(torch.as_tensor(np.asarray(ids)[None], dtype=torch.long)).logits[0]
  return torch.log_softmax(logits.double(), -1).numpy()


def test_score_pairs_is_the_target_log_likelihood_transformers_computes(reference):
  hf_model, model, params = reference
  rng = np.random.RandomState(0)
  rows = [(rng.randint(1, VOCAB, 5), rng.randint(1, VOCAB, 3)),
          (rng.randint(1, VOCAB, 2), rng.randint(1, VOCAB, 4)),
          (rng.randint(1, VOCAB, 7), rng.randint(1, VOCAB, 1))]
  inputs = np.zeros((3, 8), np.int32)
  targets = np.zeros((3, 4), np.int32)
  expected = []
  for i, (prompt, target) in enumerate(rows):
    inputs[i, :len(prompt)], targets[i, :len(target)] = prompt, target
    ids = np.concatenate([[0], prompt, target])  # BOS (0), prompt, target: no padding gap.
    log_probs = _hf_log_probs(hf_model, ids)
    expected.append(sum(log_probs[len(prompt) + j, t] for j, t in enumerate(target)))
  got = jax.jit(lambda p, a, b: palm_decoding.score_pairs(model, p, a, b))(
      params, inputs, targets)
  np.testing.assert_allclose(np.asarray(got), expected, atol=1e-4, rtol=0)


@pytest.mark.parametrize("scan_layers", [False, True])
def test_beam_search_matches_transformers(reference, scan_layers):
  hf_model, model, params = reference
  if scan_layers:  # The scanned cache has a layer axis first: its rows must reorder too.
    model = palm.DecoderOnly(model.config.replace(scan_layers=True))
    params = param_tree.stack_layers(params)
  prompts = np.random.RandomState(4).randint(1, VOCAB, (2, 4)).astype(np.int32)
  steps, beams = 6, 3
  seqs, scores = jax.jit(lambda p, t: palm_decoding.beam_search(
      model, p, t, steps, beam_size=beams, alpha=0.0, eos_id=-1))(params, jnp.asarray(prompts))
  with torch.no_grad():
    out = hf_model.generate(
        torch.as_tensor(np.pad(prompts, ((0, 0), (1, 0))), dtype=torch.long),
        attention_mask=torch.ones((2, 5), dtype=torch.long), max_new_tokens=steps,
        num_beams=beams, num_return_sequences=beams, length_penalty=0.0, do_sample=False,
        eos_token_id=None, pad_token_id=0, output_scores=True, return_dict_in_generate=True)
  hf_seqs = out.sequences.numpy()[:, 5:].reshape(2, beams, steps)
  np.testing.assert_array_equal(np.asarray(seqs), hf_seqs)
  np.testing.assert_allclose(np.asarray(scores), out.sequences_scores.numpy().reshape(2, beams),
                             atol=1e-4)


def test_sampling_draws_from_the_model_distribution(reference):
  hf_model, model, params = reference
  prompt = np.asarray([5, 17, 33], np.int32)
  n = 4000
  first = jax.jit(lambda p, t, r: palm_decoding.sample_decode(
      model, p, t, 1, r, eos_id=-1))(params, jnp.asarray(np.tile(prompt, (n, 1))),
                                     jax.random.PRNGKey(7))
  counts = np.bincount(np.asarray(first)[:, 0], minlength=VOCAB) / n
  probs = np.exp(_hf_log_probs(hf_model, np.concatenate([[0], prompt]))[-1])
  assert probs.max() < 0.5  # a spread distribution, so the check means something.
  # Total variation of 4000 draws from 97 ids: ~0.06 expected; a wrong distribution
  # (e.g. uniform, or the next position's) is far off.
  assert 0.5 * np.abs(counts - probs).sum() < 0.1
  # top_k=1 and temperature 0 are greedy.
  greedy = jax.jit(lambda p, t: palm_decoding.greedy_decode_prefix(model, p, t, 5, -1))(
      params, jnp.asarray(prompt[None]))
  for kwargs in (dict(top_k=1), dict(temperature=0.0)):
    sampled = jax.jit(lambda p, t, kw=kwargs: palm_decoding.sample_decode(
        model, p, t, 5, jax.random.PRNGKey(1), eos_id=-1, **kw))(params, jnp.asarray(prompt[None]))
    np.testing.assert_array_equal(np.asarray(sampled), np.asarray(greedy))
