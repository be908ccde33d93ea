"""The toy vocabulary: ids, laziness, determinism and a cache safe under concurrency."""

import multiprocessing
import os

from flan_jax.data import vocab

_LINES = [f"line {i} with words alpha beta gamma {i * 7}" for i in range(300)]


def _lines():
  return list(_LINES)


def _build(directory):
  os.environ["FLAN_JAX_CACHE_DIR"] = directory
  return vocab.cached_model_file("unit_spm", _lines)


def test_toy_vocabulary_ids():
  v = vocab.toy_vocabulary()
  assert v.vocab_size <= 1024
  assert v.tokenizer.pad_id() == 0 and v.eos_id == 1 and v.unk_id == 2
  assert v.tokenizer.bos_id() == -1
  text = "Which of these is a fruit: tiger, mango?\nChoices:\n- tiger\n- mango"
  assert v.decode(v.encode(text)) == text
  assert v.decode(v.encode("unseen ✓ bytes")) == "unseen ✓ bytes"  # byte fallback.


def test_vocabulary_is_lazy(monkeypatch):
  calls = []
  lazy = vocab.LazySentencePieceVocabulary("unit", lambda: calls.append(1) or "")
  assert not calls  # creating it built nothing.
  assert lazy == vocab.LazySentencePieceVocabulary("unit", lambda: "")


def test_concurrent_builds_share_one_complete_file(tmp_path):
  ctx = multiprocessing.get_context("spawn")
  with ctx.Pool(3) as pool:
    paths = pool.map(_build, [str(tmp_path)] * 3)
  assert len(set(paths)) == 1
  models = [p for p in os.listdir(tmp_path) if p.endswith(".model")]
  assert models == [os.path.basename(paths[0])]
  assert not [p for p in os.listdir(tmp_path) if ".tmp." in p]  # no stray temp files.
  with open(paths[0], "rb") as f:
    assert f.read() == vocab.train_sentencepiece(_lines())  # deterministic bytes.


def test_cache_key_follows_inputs(tmp_path, monkeypatch):
  monkeypatch.setenv("FLAN_JAX_CACHE_DIR", str(tmp_path))
  a = vocab.cached_model_file("unit_spm", _lines)
  b = vocab.cached_model_file("unit_spm", lambda: _lines() + ["one more line"])
  assert a != b and os.path.exists(a) and os.path.exists(b)
  assert vocab.cached_model_file("unit_spm", _lines) == a
