"""Suite task plumbing: the vocabulary setting and the folder settings' messages."""

import pytest

from flan_jax import errors
from flan_jax.evaluation import suite_tasks


def test_suites_tokenize_with_the_real_collections_vocabulary(monkeypatch):
  from flan_jax.data import t5_features, vocab
  path = vocab.toy_vocabulary().sentencepiece_model_file
  monkeypatch.setenv(t5_features.VOCABULARY_ENV, path)
  chosen = suite_tasks.output_features()["targets"].vocabulary
  assert chosen.sentencepiece_model_file == path
  assert chosen.encode("Answer: B") == vocab.toy_vocabulary().encode("Answer: B")
  monkeypatch.delenv(t5_features.VOCABULARY_ENV)
  assert suite_tasks.output_features()["inputs"].vocabulary.sentencepiece_model_file == (
      t5_features.T5_SPM_PATH)


def test_folder_setting_not_a_folder(monkeypatch, tmp_path):
  monkeypatch.setenv("FLAN_JAX_MMLU_DIR", str(tmp_path / "missing"))
  with pytest.raises(errors.FlanJaxError, match=r"FLAN_JAX_MMLU_DIR \(or `--mmlu_dir`\) is .*"
                                                r"not a folder"):
    suite_tasks.local_dir("MMLU", "--mmlu_dir", "csv files")
