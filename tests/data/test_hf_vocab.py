"""A Hugging Face tokenizer.json as the task vocabulary, checked against transformers' own
fast tokenizer on tokenizers built here (tests/data/hf_tokenizers.py; nothing downloaded)."""

import json
import logging
import pathlib
import pickle

import pytest
import seqio
import tensorflow as tf

from flan_jax import errors
from flan_jax.cli import main as cli
from flan_jax.data import hf_vocab, t5_features
from flan_jax.premix import manifest
from tests.catalog.catalog_fakes import write_module
from tests.catalog.catalog_fakes import user_modules  # pylint: disable=unused-import  # fixture
from tests.data import hf_tokenizers

transformers = pytest.importorskip("transformers")

TEXTS = [r["question"] for r in hf_tokenizers.QA_RECORDS] + [
    "", "Unseen words: zebra quokka \u00fcber na\u00efve \u65e5\u672c\u8a9e \U0001f600",
    "  two leading spaces, trailing space ", "digits 0123456789 and </s> in text"]


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory):
  return hf_tokenizers.llama_style(str(tmp_path_factory.mktemp("llama_tok")))


@pytest.fixture(scope="module")
def reference(llama_dir):
  return transformers.PreTrainedTokenizerFast(tokenizer_file=f"{llama_dir}/tokenizer.json")


def test_ids_equal_transformers_without_special_tokens(llama_dir, reference):
  vocab = hf_vocab.HfTokenizerVocabulary(llama_dir)
  for text in TEXTS:
    assert vocab.encode(text) == reference.encode(text, add_special_tokens=False), text
  assert reference.encode("what")[0] == 1  # The file's post-processor adds <s>; ours does not.
  assert vocab.eos_id == 2 and vocab.unk_id == 0  # tokenizer_config.json's </s>; model's <unk>.
  assert vocab.vocab_size == len(reference) == 420


def test_decode_gives_the_text_back_as_transformers_does(llama_dir, reference):
  vocab = hf_vocab.HfTokenizerVocabulary(llama_dir)
  for i, text in enumerate(TEXTS[:-1]):  # The last holds "</s>", the EOS: decoding stops.
    ids = reference.encode(text, add_special_tokens=False)
    decoded = vocab.decode(ids + [vocab.eos_id, 300, 301])  # Stops at EOS, as seqio's.
    assert decoded == reference.decode(ids, skip_special_tokens=True), text
    if i < len(hf_tokenizers.QA_RECORDS):
      assert decoded == text


def test_batches_in_a_tf_data_graph_give_ragged_rows_equal_to_per_string_encode(llama_dir,
                                                                                reference):
  vocab = hf_vocab.HfTokenizerVocabulary(llama_dir)
  ds = tf.data.Dataset.from_tensor_slices(TEXTS).batch(5).map(vocab.encode_tf)
  rows = [row for batch in ds for row in batch.to_list()]
  assert rows == [reference.encode(t, add_special_tokens=False) for t in TEXTS]
  scalars = tf.data.Dataset.from_tensor_slices(TEXTS).map(vocab.encode_tf)
  assert [x.tolist() for x in scalars.as_numpy_iterator()] == rows
  dense = tf.ragged.constant(rows[:4] + [rows[5] + [vocab.eos_id, 7, 8]]).to_tensor()
  texts = tf.data.Dataset.from_tensors(dense).map(vocab.decode_tf).get_single_element()
  assert [t.decode() for t in texts.numpy()] == [reference.decode(r, skip_special_tokens=True)
                                                 for r in rows[:4] + [rows[5]]]
  rows = rows[:-1]  # The last holds "</s>", the EOS: decoding stops there.
  one_by_one = tf.data.Dataset.from_tensor_slices(tf.ragged.constant(rows))
  assert [t.decode() for t in one_by_one.map(vocab.decode_tf).as_numpy_iterator()] == [
      reference.decode(r, skip_special_tokens=True) for r in rows]  # rows[8] is empty.


def test_a_registered_task_tokenizes_with_it_and_appends_eos(llama_dir, reference,
                                                              user_modules, monkeypatch):
  monkeypatch.setenv(t5_features.VOCABULARY_ENV, llama_dir)
  write_module(user_modules, "user_tok_tasks", hf_tokenizers.TASK_MODULE)
  import user_tok_tasks  # noqa: F401  # pylint: disable=import-outside-toplevel,unused-import
  task = seqio.get_mixture_or_task(hf_tokenizers.TASK)
  examples = list(task.get_dataset(None, split="validation", shuffle=False)
                  .as_numpy_iterator())
  assert len(examples) == len(hf_tokenizers.QA_RECORDS)
  for ex in examples:
    for key in ("inputs", "targets"):
      text = ex[f"{key}_pretokenized"].decode()
      assert ex[key].tolist() == reference.encode(text, add_special_tokens=False) + [2]
  assert examples[4]["targets_pretokenized"].decode() == "\u30ab\u30d5\u30a7"


def test_pickles_as_its_path_and_compares_by_content(llama_dir, tmp_path):
  fresh = hf_vocab.HfTokenizerVocabulary(llama_dir)
  restored = pickle.loads(pickle.dumps(fresh))  # Before anything is loaded (Beam workers).
  assert restored.encode(TEXTS[0]) == fresh.encode(TEXTS[0])
  again = pickle.loads(pickle.dumps(fresh))  # And after.
  assert again == fresh and hash(again) == hash(fresh)
  copy = tmp_path / "copy"
  copy.mkdir()
  for name in ("tokenizer.json", "tokenizer_config.json"):
    (copy / name).write_bytes(pathlib.Path(llama_dir, name).read_bytes())
  assert hf_vocab.HfTokenizerVocabulary(str(copy / "tokenizer.json")) == fresh
  other = hf_tokenizers.llama_style(str(tmp_path / "other"), vocab_size=400)
  assert hf_vocab.HfTokenizerVocabulary(other) != fresh


def test_no_known_eos_is_a_clear_error_naming_the_file(tmp_path):
  folder = hf_tokenizers.llama_style(str(tmp_path / "noeos"), eos_in_config=False)
  with pytest.raises(errors.ConfigError, match=r"No EOS token is known for .*tokenizer\.json.*"
                     r"add \"eos_token\": \"<the end-of-text token>\" to .*tokenizer_config"):
    _ = hf_vocab.HfTokenizerVocabulary(folder).eos_id


def test_eos_from_generation_config_and_a_warning_where_id_0_is_text(tmp_path, caplog):
  folder = hf_tokenizers.byte_level(str(tmp_path / "bytes"))
  reference = transformers.PreTrainedTokenizerFast(tokenizer_file=f"{folder}/tokenizer.json")
  with caplog.at_level(logging.WARNING):
    vocab = hf_vocab.HfTokenizerVocabulary(folder)
    assert vocab.eos_id == reference.convert_tokens_to_ids("<|end_of_text|>")  # list's first
  assert "Id 0 of" in caplog.text and "'!'" in caplog.text  # GPT-2-style bytes: id 0 is "!".
  assert vocab.unk_id is None and vocab.vocab_size == len(reference) == 401
  for text in TEXTS:
    assert vocab.encode(text) == reference.encode(text, add_special_tokens=False)


def test_vocabulary_setting_picks_the_class(llama_dir, tmp_path, monkeypatch):
  monkeypatch.setenv(t5_features.VOCABULARY_ENV, f"{llama_dir}/tokenizer.json")
  assert isinstance(t5_features.vocabulary(), hf_vocab.HfTokenizerVocabulary)
  (tmp_path / "tokenizer.model").write_bytes(b"")  # A Llama 2 dir with only its SentencePiece.
  monkeypatch.setenv(t5_features.VOCABULARY_ENV, str(tmp_path))
  assert t5_features.vocabulary().sentencepiece_model_file == str(tmp_path / "tokenizer.model")
  (tmp_path / "tokenizer.json").write_bytes(pathlib.Path(llama_dir, "tokenizer.json").read_bytes())
  t5_features._vocabulary.cache_clear()  # pylint: disable=protected-access  # same path, new file
  assert t5_features.vocabulary().tokenizer_file == str(tmp_path / "tokenizer.json")  # first


def test_a_missing_tokenizer_file_is_reported_at_registration(tmp_path, monkeypatch,
                                                              user_modules):
  monkeypatch.setenv(t5_features.VOCABULARY_ENV, str(tmp_path))  # Holds no tokenizer.
  write_module(user_modules, "user_tok_missing", hf_tokenizers.TASK_MODULE)
  with pytest.raises(errors.ConfigError, match=r"Feature 'inputs': the tokenizer file '.*"
                     r"tokenizer\.json' does not exist\. Give the path of a tokenizer\.json"):
    import user_tok_missing  # noqa: F401  # pylint: disable=import-outside-toplevel,unused-import


def test_premix_manifest_tells_tokenizers_apart(llama_dir, tmp_path):
  other = hf_tokenizers.llama_style(str(tmp_path / "other"))
  tokenizer_json = json.loads((tmp_path / "other" / "tokenizer.json").read_text())
  vocab = tokenizer_json["model"]["vocab"]
  a, b = sorted(vocab, key=vocab.get)[-2:]  # Same size and EOS, two ids swapped.
  vocab[a], vocab[b] = vocab[b], vocab[a]
  (tmp_path / "other" / "tokenizer.json").write_text(json.dumps(tokenizer_json))
  ours = manifest.describe_vocabulary(hf_vocab.HfTokenizerVocabulary(llama_dir))
  theirs = manifest.describe_vocabulary(hf_vocab.HfTokenizerVocabulary(other))
  assert ours["vocab_size"] == theirs["vocab_size"] and ours["eos_id"] == theirs["eos_id"]
  assert ours["tokenizer_json_sha256"] != theirs["tokenizer_json_sha256"]
  assert ours != theirs  # check_matches compares these descriptions.


def test_tasks_show_counts_tokens_with_it(llama_dir, reference, user_modules, monkeypatch,
                                          capsys):
  monkeypatch.setenv(t5_features.VOCABULARY_ENV, llama_dir)
  write_module(user_modules, "user_tok_show", hf_tokenizers.TASK_MODULE)
  assert cli.main(["tasks", "show", hf_tokenizers.TASK, "--task_module", "user_tok_show",
                   "-n", "1"]) == 0
  out = capsys.readouterr().out
  prompt = "Question: " + hf_tokenizers.QA_RECORDS[0]["question"]
  assert prompt in out
  count = len(reference.encode(prompt, add_special_tokens=False)) + 1
  assert f"--- inputs ({count} tokens)" in out
