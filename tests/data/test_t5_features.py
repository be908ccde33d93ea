"""The real collections' vocabulary: T5's by default, any SentencePiece file by setting."""

import json

from flan_jax.data import t5_features, vocab
from flan_jax.evaluation import infer


def test_default_is_t5s_public_vocabulary_with_100_sentinels(monkeypatch):
  monkeypatch.delenv(t5_features.VOCABULARY_ENV)
  v = t5_features.vocabulary()
  assert v.sentencepiece_model_file == "gs://t5-data/vocabs/cc_all.32000/sentencepiece.model"
  assert v.extra_ids == 100  # 32,000 pieces + 100 = T5's 32,100 ids.


def test_a_configured_file_is_used_as_it_is():
  toy_file = vocab.toy_vocabulary().sentencepiece_model_file  # What tests/conftest.py sets.
  features = t5_features.output_features()
  assert features["inputs"].vocabulary.sentencepiece_model_file == toy_file
  assert features["targets"].vocabulary.vocab_size == 1024  # The file's own ids, no sentinels.


def test_eval_and_infer_use_the_vocabulary_a_run_trained_with(tmp_path, monkeypatch):
  (tmp_path / "run.json").write_text(json.dumps({"train_config": {"vocabulary": "/v/spm.model"}}))
  monkeypatch.delenv(t5_features.VOCABULARY_ENV)
  infer.use_run_vocabulary(str(tmp_path))
  assert t5_features.vocabulary().sentencepiece_model_file == "/v/spm.model"
  monkeypatch.setenv(t5_features.VOCABULARY_ENV, "/mine.model")  # An explicit setting wins.
  infer.use_run_vocabulary(str(tmp_path))
  assert t5_features.vocabulary().sentencepiece_model_file == "/mine.model"
