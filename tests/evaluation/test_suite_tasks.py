"""Suite task plumbing: the vocabulary setting and the folder settings' messages."""

import pytest

from flan_jax import errors
from flan_jax.evaluation import suite_tasks


def test_vocabulary_setting_names_a_sentencepiece_file(monkeypatch):
  from flan_jax.data import vocab
  monkeypatch.delenv(suite_tasks.SUITE_VOCABULARY_ENV, raising=False)
  assert suite_tasks.output_features()["inputs"].vocabulary == vocab.toy_vocabulary()
  path = vocab.toy_vocabulary().sentencepiece_model_file
  monkeypatch.setenv(suite_tasks.SUITE_VOCABULARY_ENV, path)
  chosen = suite_tasks.output_features()["targets"].vocabulary
  assert chosen.sentencepiece_model_file == path
  assert chosen.encode("Answer: B") == vocab.toy_vocabulary().encode("Answer: B")


def test_folder_setting_not_a_folder(monkeypatch, tmp_path):
  monkeypatch.setenv("FLAN_JAX_MMLU_DIR", str(tmp_path / "missing"))
  with pytest.raises(errors.FlanJaxError, match=r"FLAN_JAX_MMLU_DIR \(or `--mmlu_dir`\) is .*"
                                                r"not a folder"):
    suite_tasks.local_dir("MMLU", "--mmlu_dir", "csv files")
