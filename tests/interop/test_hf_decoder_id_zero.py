"""A tokenizer whose id 0 is text (byte-level BPE, Llama 3's "!") with a Llama checkpoint.

SeqIO reads id 0 as padding. The vocabulary exchanges ids 0 and BOS (which encoded text
never holds), and the model (`PaLMConfig.id_zero_is_text`) exchanges them back on its
inputs and in its logits. The references are transformers' tokenizer and LlamaForCausalLM
on the checkpoint's own ids: a "!" must keep its loss, its logits and its decoding.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import tensorflow as tf

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from flan_jax.data import hf_vocab  # pylint: disable=g-import-not-at-top
from flan_jax.interop import hf_decoder  # pylint: disable=g-import-not-at-top
from flan_jax.models import palm_decoding  # pylint: disable=g-import-not-at-top
from tests.data import hf_tokenizers  # pylint: disable=g-import-not-at-top

TEXTS = ["Hi! Is the review positive?", "12345 times!!", "no exclamation here"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
  """(transformers tokenizer, transformers model, directory, BOS id): Llama 3's layout."""
  folder = hf_tokenizers.byte_level(str(tmp_path_factory.mktemp("llama3")), bos=True)
  tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_file=f"{folder}/tokenizer.json")
  assert tokenizer.convert_ids_to_tokens(0) == "!"
  bos = tokenizer.convert_tokens_to_ids("<|begin_of_text|>")
  torch.manual_seed(0)
  model = transformers.LlamaForCausalLM(transformers.LlamaConfig(
      vocab_size=len(tokenizer), hidden_size=32, intermediate_size=48, num_hidden_layers=2,
      num_attention_heads=4, num_key_value_heads=2, initializer_range=0.2,
      tie_word_embeddings=False, bos_token_id=bos, eos_token_id=bos + 1,
      pad_token_id=None)).eval()
  model.save_pretrained(folder)
  return tokenizer, model, folder, bos


def _exchanged(ids, bos):
  ids = np.asarray(ids)
  return np.where(ids == 0, bos, np.where(ids == bos, 0, ids))


def test_vocabulary_keeps_the_exclamation_mark(checkpoint):
  tokenizer, _, folder, bos = checkpoint
  vocab = hf_vocab.HfTokenizerVocabulary(folder)
  assert vocab.id_zero_stand_in == bos
  for text in TEXTS:
    theirs = tokenizer.encode(text, add_special_tokens=False)
    assert vocab.encode(text) == _exchanged(theirs, bos).tolist()
    assert vocab.decode(vocab.encode(text)) == text  # "!" is not dropped as padding.
  assert 0 not in vocab.encode("Hi!") and bos in vocab.encode("Hi!")
  batch = vocab.encode_tf(tf.constant(TEXTS)).to_list()
  assert batch == [vocab.encode(t) for t in TEXTS]
  assert [t.decode() for t in vocab.decode_tf(tf.ragged.constant(batch)).numpy()] == TEXTS


def test_model_in_seqio_ids_gives_transformers_logits_and_tokens(checkpoint):
  tokenizer, hf_model, folder, bos = checkpoint
  model, params = hf_decoder.load_decoder(folder)
  assert model.config.id_zero_is_text and model.config.bos_id == bos
  assert hf_decoder.config_from_hf_dir(folder).id_zero_is_text
  ids = np.asarray(tokenizer.encode("Hi! 12345 times!!", add_special_tokens=False))
  assert 0 in ids
  seqio_ids = _exchanged(ids, bos)
  ours = np.asarray(model.apply({"params": params},
                                jnp.asarray(np.concatenate([[0], seqio_ids[:-1]]))[None],
                                jnp.asarray(seqio_ids)[None], enable_dropout=False))[0]
  with torch.no_grad():
    theirs = hf_model(torch.as_tensor(np.concatenate([[bos], ids[:-1]])[None])).logits[0].numpy()
  # Our logits are in SeqIO's id order: columns 0 and BOS trade places.
  np.testing.assert_allclose(ours, theirs[:, _exchanged(np.arange(theirs.shape[-1]), bos)],
                             atol=1e-4, rtol=0)
  prompt, steps = ids[:5], 6
  with torch.no_grad():
    generated = hf_model.generate(
        torch.as_tensor(np.concatenate([[bos], prompt])[None]), max_new_tokens=steps,
        do_sample=False, eos_token_id=None, pad_token_id=bos,
        attention_mask=torch.ones((1, 6), dtype=torch.long)).numpy()[0, 6:]
  decoded = palm_decoding.greedy_decode_prefix(model, params, jnp.asarray(seqio_ids[:5])[None],
                                               max_decode_length=steps, eos_id=-1)
  np.testing.assert_array_equal(_exchanged(np.asarray(decoded)[0], bos), generated)


def test_a_target_with_an_exclamation_mark_is_scored_on_it(checkpoint):
  tokenizer, hf_model, folder, bos = checkpoint
  model, params = hf_decoder.load_decoder(folder)
  prompt = np.asarray(tokenizer.encode("Is it positive?", add_special_tokens=False))
  target = np.asarray(tokenizer.encode("Yes!", add_special_tokens=False))
  assert target[-1] == 0
  with torch.no_grad():
    logits = hf_model(torch.as_tensor(np.concatenate([[bos], prompt, target])[None])).logits[0]
  log_probs = torch.log_softmax(logits.double(), -1).numpy()
  expected = sum(log_probs[len(prompt) + i, t] for i, t in enumerate(target))
  got = palm_decoding.score_pairs(model, params, jnp.asarray(_exchanged(prompt, bos))[None],
                                  jnp.asarray(_exchanged(target, bos))[None])
  np.testing.assert_allclose(float(got[0]), expected, atol=1e-4)


def test_id_zero_is_text_needs_a_bos_id():
  from flan_jax.models import palm  # pylint: disable=g-import-not-at-top
  with pytest.raises(ValueError, match="bos_id"):
    palm.PaLMConfig(vocab_size=64, id_zero_is_text=True)


def test_a_run_copy_keeps_the_exchange_when_only_config_json_names_the_bos(checkpoint,
                                                                         tmp_path):
  from flan_jax.interop import hf_tokenizer  # pylint: disable=g-import-not-at-top
  _, _, folder, bos = checkpoint
  source = tmp_path / "bare"
  source.mkdir()
  with open(f"{folder}/tokenizer.json", "rb") as f:
    (source / "tokenizer.json").write_bytes(f.read())
  (source / "config.json").write_text(f'{{"bos_token_id": {bos}, "eos_token_id": {bos + 1}}}')
  assert hf_vocab.HfTokenizerVocabulary(str(source)).id_zero_stand_in == bos
  vocab = hf_vocab.HfTokenizerVocabulary(str(source))
  hf_tokenizer.save_run_tokenizer(vocab.tokenizer_file, vocab.eos_id, str(tmp_path / "run"),
                                  vocab.id_zero_stand_in)
  copy = hf_vocab.HfTokenizerVocabulary(str(tmp_path / "run" / "vocabulary"))
  assert (copy.id_zero_stand_in, copy.eos_id) == (bos, bos + 1)
  assert copy.encode("Hi!") == vocab.encode("Hi!")
