"""A checkpoint's own BOS token: SeqIO's leading 0 is read as config.json's `bos_token_id`.

SeqIO lays a decoder-only sequence out as [0, x1, x2, ...] (and every packed segment the
same way); Llama was trained on [<s>=1, x1, x2, ...], Falcon on text after its
`<|endoftext|>`. The reference is transformers fed the checkpoint's BOS explicitly: our
logits on the SeqIO layout, packed segments, greedy decoding and choice scores must match
it, and an exported checkpoint keeps the id.
"""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from flan_jax.interop import hf_decoder  # pylint: disable=g-import-not-at-top
from flan_jax.models import palm, palm_decoding  # pylint: disable=g-import-not-at-top

VOCAB = 97
CHECKPOINTS = {
    "llama": ("LlamaForCausalLM", transformers.LlamaConfig, dict(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
        initializer_range=0.2, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
        pad_token_id=None), 1),
    "falcon": ("FalconForCausalLM", transformers.FalconConfig, dict(
        vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        new_decoder_architecture=False, alibi=False, bias=False, multi_query=True,
        parallel_attn=True, initializer_range=0.2, bos_token_id=11, eos_token_id=11,
        pad_token_id=None), 11),
}


@pytest.fixture(scope="module", params=sorted(CHECKPOINTS))
def checkpoint(request, tmp_path_factory):
  """(transformers model, flan_jax model, params, BOS id) of one saved random checkpoint."""
  cls_name, config_cls, kwargs, bos = CHECKPOINTS[request.param]
  torch.manual_seed(0)
  hf_model = getattr(transformers, cls_name)(config_cls(**kwargs)).eval()
  path = str(tmp_path_factory.mktemp(request.param))
  hf_model.save_pretrained(path)
  model, params = hf_decoder.load_decoder(path)
  return hf_model, model, params, bos


def _hf_logits(hf_model, ids):
  with torch.no_grad():
    return hf_model(torch.as_tensor(np.asarray(ids)[None], dtype=torch.long)).logits[0].numpy()


def _text(seed, length):
  """Token ids other than 0 and the BOS ids above."""
  return np.random.RandomState(seed).randint(12, VOCAB, length).astype(np.int32)


def test_import_reads_bos_token_id_and_export_writes_it(checkpoint, tmp_path):
  _, model, params, bos = checkpoint
  assert model.config.bos_id == bos
  hf_decoder.save_decoder(model, params, str(tmp_path / "out"))
  with open(tmp_path / "out" / "config.json") as f:
    assert json.load(f)["bos_token_id"] == bos


def test_seqio_layout_gives_the_logits_of_bos_then_text(checkpoint):
  hf_model, model, params, bos = checkpoint
  text = _text(0, 9)
  ours = model.apply({"params": params}, jnp.asarray(np.concatenate([[0], text[:-1]]))[None],
                     jnp.asarray(text)[None], enable_dropout=False)[0]
  ref = _hf_logits(hf_model, np.concatenate([[bos], text[:-1]]))
  np.testing.assert_allclose(np.asarray(ours), ref, atol=1e-4, rtol=0)
  # Without the checkpoint's BOS the first position would differ: the check can fail.
  unmapped = model.clone(config=model.config.replace(bos_id=0))
  plain = unmapped.apply({"params": params}, jnp.asarray(np.concatenate([[0], text[:-1]]))[None],
                         jnp.asarray(text)[None], enable_dropout=False)[0]
  assert np.abs(np.asarray(plain)[0] - ref[0]).max() > 1e-2


def test_each_packed_segment_starts_with_bos(checkpoint):
  hf_model, model, params, bos = checkpoint
  first, second = _text(1, 6), _text(2, 5)
  # seqio's packed layout: inputs shifted right within each segment, positions restart.
  inputs = np.concatenate([[0], first[:-1], [0], second[:-1], [0]])
  targets = np.concatenate([first, second, [0]])
  segments = np.array([1] * 6 + [2] * 5 + [0])
  positions = np.concatenate([np.arange(6), np.arange(5), [0]])
  ours = np.asarray(model.apply(
      {"params": params}, *(jnp.asarray(a, jnp.int32)[None] for a in
                            (inputs, targets, segments, positions)), enable_dropout=False)[0])
  np.testing.assert_allclose(ours[:6], _hf_logits(hf_model, np.concatenate([[bos], first[:-1]])),
                             atol=1e-4, rtol=0)
  np.testing.assert_allclose(ours[6:11],
                             _hf_logits(hf_model, np.concatenate([[bos], second[:-1]])),
                             atol=1e-4, rtol=0)


def test_greedy_decoding_and_scores_start_from_bos(checkpoint):
  hf_model, model, params, bos = checkpoint
  prompt, steps = _text(3, 5), 6
  with torch.no_grad():
    generated = hf_model.generate(
        torch.as_tensor(np.concatenate([[bos], prompt])[None], dtype=torch.long),
        max_new_tokens=steps, do_sample=False, eos_token_id=None, pad_token_id=0,
        attention_mask=torch.ones((1, 6), dtype=torch.long)).numpy()[0, 6:]
  decoded = palm_decoding.greedy_decode_prefix(model, params, jnp.asarray(prompt)[None],
                                               max_decode_length=steps, eos_id=-1)
  np.testing.assert_array_equal(np.asarray(decoded)[0], generated)
  target = _text(4, 3)
  log_probs = jax.nn.log_softmax(_hf_logits(hf_model, np.concatenate([[bos], prompt, target])))
  expected = sum(float(log_probs[len(prompt) + i, t]) for i, t in enumerate(target))
  score = palm_decoding.score_pairs(model, params, jnp.asarray(prompt)[None],
                                    jnp.asarray(target)[None])
  np.testing.assert_allclose(float(score[0]), expected, atol=1e-4)


def test_a_bos_id_outside_the_vocabulary_is_refused():
  with pytest.raises(ValueError, match=r"bos_id=200 .*0\.\.96"):
    palm.PaLMConfig(vocab_size=97, bos_id=200)


def test_sequences_without_a_bos_token_id_keep_seqio_s_zero(tmp_path):
  config = transformers.LlamaConfig(vocab_size=VOCAB, hidden_size=32, intermediate_size=48,
                                    num_hidden_layers=1, num_attention_heads=4,
                                    bos_token_id=None, eos_token_id=None, pad_token_id=None)
  transformers.LlamaForCausalLM(config).save_pretrained(str(tmp_path))
  assert hf_decoder.config_from_hf_dir(str(tmp_path)).bos_id == 0
  assert os.path.exists(tmp_path / "config.json")
