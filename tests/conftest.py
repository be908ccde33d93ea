"""Test setup: emulate 8 CPU devices before jax is imported anywhere, and share compiled
programs between tests."""

import atexit
import os
import shutil
import tempfile

os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
).strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # keep TensorFlow off any GPU.
# Many tests train, evaluate or decode the same tiny models on the same mesh: JAX's
# persistent compilation cache lets each program compile once per session (the subprocess
# workers of the multi-process tests inherit it) instead of once per test; this cut
# tests/training/test_trainer.py from 8.3 to 5.0 minutes on 2 cores. The executables are
# the same programs, so results are unchanged. A fresh folder per session, removed at the
# end, unless JAX_COMPILATION_CACHE_DIR already names one to keep between runs.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
  _cache_dir = tempfile.mkdtemp(prefix="flan_jax_test_xla_cache_")
  os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache_dir
  atexit.register(shutil.rmtree, _cache_dir, ignore_errors=True)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")


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
