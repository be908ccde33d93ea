"""Test setup: emulate 8 CPU devices before jax is imported anywhere."""

import os

os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
).strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # keep TensorFlow off any GPU.


import pytest  # pylint: disable=g-import-not-at-top,wrong-import-position


@pytest.fixture(scope="session", autouse=True)
def small_vocabulary():
  """The real collections and suites tokenize with the toy SentencePiece model (built
  offline) instead of T5's gs:// one: no test reaches the network."""
  from flan_jax.data import t5_features, vocab  # pylint: disable=g-import-not-at-top
  old = os.environ.get(t5_features.VOCABULARY_ENV)
  os.environ[t5_features.VOCABULARY_ENV] = vocab.toy_vocabulary().sentencepiece_model_file
  yield
  if old is None:
    os.environ.pop(t5_features.VOCABULARY_ENV, None)
  else:
    os.environ[t5_features.VOCABULARY_ENV] = old
