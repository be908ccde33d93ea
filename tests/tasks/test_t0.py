"""T0-SF collection: 193 P3 subsets read from files in the hub repository's layout."""

import json
import os
import sys
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tensorflow as tf

from flan_jax.catalog import preflight
from flan_jax.readers import local_data
from flan_jax.readers import p3 as p3_source
from flan_jax_tasks import t0
from flan_jax_tasks.tables import t0_subsets
from tests.tasks.conftest import rendered, exported

QA_SUBSET = "adversarial_qa_dbert_based_on"               # QA, 10,000 / 1,000
SEPARATE_SUBSET = "wiki_qa_Is_This_True_"                 # MC, choices apart
IN_PROMPT_SUBSET = "quartz_answer_question_below"         # MC, choices in the prompt


def _spec(name):
  return next(s for s in t0.datasets() if s.name == name)


def _bytes(v):
  return tf.train.Feature(bytes_list=tf.train.BytesList(value=[x.encode() for x in v]))


def write_tfrecord_subset(root, subset, split, rows, with_choices):
  """Writes data/{subset}/{split}.tfrecord-00000-of-00001 and info.{split}.json as P3 has them."""
  folder = os.path.join(root, "data", subset)
  os.makedirs(folder, exist_ok=True)
  features = {"inputs": {"dtype": "int32", "shape": [None]},
              "inputs_pretokenized": {"dtype": "string", "shape": []},
              "targets": {"dtype": "int32", "shape": [None]},
              "targets_pretokenized": {"dtype": "string", "shape": []}}
  if with_choices:
    features["answer_choices"] = {"dtype": "string", "shape": [None]}
  with open(os.path.join(folder, f"info.{split}.json"), "w") as f:
    json.dump({"features": features, "num_shards": 1}, f)
  with tf.io.TFRecordWriter(os.path.join(folder, f"{split}.tfrecord-00000-of-00001")) as w:
    for prompt, target, choices in rows:
      feat = {"inputs": tf.train.Feature(int64_list=tf.train.Int64List(value=[5, 6])),
              "inputs_pretokenized": _bytes([prompt]),
              "targets": tf.train.Feature(int64_list=tf.train.Int64List(value=[7])),
              "targets_pretokenized": _bytes([target])}
      if with_choices:
        feat["answer_choices"] = _bytes(choices)
      w.write(tf.train.Example(features=tf.train.Features(feature=feat)).SerializeToString())


QA_ROWS = [(f"Passage {i}.\nBased on it, who is {i}? \n", f" Person\n{i}", None) for i in range(6)]
SEPARATE_ROWS = [(f"Article {i}. Is 'yes' right for question {i}?\n", " Yes" if i % 2 else "No",
                  ["Yes", "No"]) for i in range(6)]
IN_PROMPT_ROWS = [(f"Q{i}: more or less? Choices: more, less", "more" if i % 2 else "less",
                   ["more", "less"]) for i in range(6)]


@pytest.fixture(scope="module")
def p3_dir(tmp_path_factory):
  root = str(tmp_path_factory.mktemp("p3"))
  for split in ("train", "validation"):
    write_tfrecord_subset(root, QA_SUBSET, split, QA_ROWS, with_choices=False)
    write_tfrecord_subset(root, SEPARATE_SUBSET, split, SEPARATE_ROWS, with_choices=True)
  # The hub's Parquet conversion layout: {subset}/{split}/0000.parquet.
  table = pa.table({"inputs_pretokenized": [r[0] for r in IN_PROMPT_ROWS],
                    "targets_pretokenized": [r[1] for r in IN_PROMPT_ROWS],
                    "answer_choices": [r[2] for r in IN_PROMPT_ROWS]})
  for split in ("train", "validation"):
    os.makedirs(os.path.join(root, IN_PROMPT_SUBSET, split))
    pq.write_table(table, os.path.join(root, IN_PROMPT_SUBSET, split, "0000.parquet"))
  old = os.environ.get("FLAN_JAX_P3_DIR")
  os.environ["FLAN_JAX_P3_DIR"] = root
  yield root
  if old is None:
    os.environ.pop("FLAN_JAX_P3_DIR")
  else:
    os.environ["FLAN_JAX_P3_DIR"] = old


def test_catalog_counts_and_sizes():
  specs = t0.datasets()
  assert len(specs) == 193 and len({s.name for s in specs}) == 193
  wrappers = [w for _, _, _, w in t0_subsets.SUBSETS]
  assert (wrappers.count("qa"), wrappers.count("mc_in_prompt"),
          wrappers.count("mc_separate")) == (104, 70, 19)
  sizes = {s.name: s.num_train_examples for s in specs}
  # Hand-copied from the catalog list.
  assert sizes["amazon_polarity_would_you_buy"] == 3_600_000
  assert sizes[QA_SUBSET] == 10_000
  assert sizes["wiki_bio_who"] == 582_639
  assert _spec(QA_SUBSET).tasks == (f"t0.{QA_SUBSET}:zs_noopt", f"t0.{QA_SUBSET}:fs_noopt")
  assert _spec(SEPARATE_SUBSET).has_options and len(_spec(SEPARATE_SUBSET).tasks) == 4
  assert all(s.data.name == f"bigscience/P3:{s.name}" for s in specs)
  assert f"--include '{QA_SUBSET}/*'" in _spec(QA_SUBSET).data.how_to_get


def test_datasets_imports_no_tensorflow():
  code = ("import sys; from flan_jax_tasks import t0; t0.datasets(); "
          "assert 'tensorflow' not in sys.modules and 'seqio' not in sys.modules")
  subprocess.run([sys.executable, "-c", code], check=True, cwd=os.getcwd(),
                 env=dict(os.environ, PYTHONPATH=os.getcwd()))


def test_question_answer_renders_prompt_as_given(p3_dir):
  names = t0.register_dataset(_spec(QA_SUBSET), render_seed=0)
  assert sorted(names) == sorted(_spec(QA_SUBSET).tasks)
  rows = rendered(f"t0.{QA_SUBSET}:zs_noopt", "validation")
  # FLAN's T0 preprocessing: a newline in the prompt becomes a space, one in the target goes.
  assert [(r["inputs"], r["targets"]) for r in rows] == [
      (f"Passage {i}. Based on it, who is {i}?", f"Person{i}") for i in range(6)]
  few = rendered(f"t0.{QA_SUBSET}:fs_noopt")
  assert len(few) == 6
  for i, r in enumerate(few):
    assert r["targets"] == f"Person{i}"
    # The query comes last, after at least one exemplar, and never serves as its own exemplar.
    assert r["inputs"].rsplit("Passage", 1)[1].startswith(f" {i}. Based on it, who is {i}?")
    assert r["inputs"].count("Passage") >= 2
    assert r["inputs"].count(f"Passage {i}.") == 1


def test_separate_options_list_the_choices(p3_dir):
  t0.register_dataset(_spec(SEPARATE_SUBSET), render_seed=0)
  rows = rendered(f"t0.{SEPARATE_SUBSET}:zs_noopt", "validation")
  assert [(r["inputs"], r["targets"]) for r in rows] == [
      (f"Article {i}. Is 'yes' right for question {i}?", "Yes" if i % 2 else "No")
      for i in range(6)]
  for r in rendered(f"t0.{SEPARATE_SUBSET}:zs_opt", "validation"):
    first, rest = r["inputs"].split("?", 1)
    assert "Yes" in rest and "No" in rest  # the two choices follow the prompt
    assert r["targets"] in rest  # the target is a listed choice or its marker
  rows = exported(f"t0.{SEPARATE_SUBSET}:zs_opt", "validation")
  assert len(rows) == 6 and all(r["format"] == "zs_opt" for r in rows)
  assert len(rendered(f"t0.{SEPARATE_SUBSET}:fs_opt")) == 6
  assert len(rendered(f"t0.{SEPARATE_SUBSET}:fs_noopt")) == 6


def test_parquet_layout_and_choices_in_prompt(p3_dir):
  t0.register_dataset(_spec(IN_PROMPT_SUBSET), render_seed=0)
  rows = rendered(f"t0.{IN_PROMPT_SUBSET}:zs_noopt", "validation")
  assert [r["targets"] for r in rows] == ["less", "more"] * 3
  for i, r in enumerate(rows):
    assert r["inputs"] in (f"Q{i}: more or less? Choices: more, less",
                           f"Q{i}: more or less? Choices: more, less\n"
                           "Reply with one of the choices given above.")
  assert len(rendered(f"t0.{IN_PROMPT_SUBSET}:fs_noopt")) == 6


def test_todays_hub_layout_one_parquet_folder_per_subset(tmp_path, monkeypatch):
  """`{subset}/{split}-00000-of-00001.parquet` at the top level, as bigscience/P3 is now."""
  os.makedirs(tmp_path / IN_PROMPT_SUBSET)
  table = pa.table({"inputs": [[1, 2]] * 2, "inputs_pretokenized": ["Q:\nmore\nor less?", "x"],
                    "targets": [[3]] * 2, "targets_pretokenized": ["more\n", "less"],
                    "answer_choices": [["more\n", "less"], ["more", " less"]]})
  pq.write_table(table, tmp_path / IN_PROMPT_SUBSET / "train-00000-of-00001.parquet")
  monkeypatch.setenv("FLAN_JAX_P3_DIR", str(tmp_path))
  rows = list(p3_source.read_split(IN_PROMPT_SUBSET, "train", multiple_choice=True)
              .as_numpy_iterator())
  assert [(r["prompt"], r["answer"], list(r["options"])) for r in rows] == [
      (b"Q: more or less?", b"more", [b"more", b"less"]), (b"x", b"less", [b"more", b"less"])]


def test_broken_files_are_one_error_naming_the_file(tmp_path, monkeypatch):
  os.makedirs(tmp_path / QA_SUBSET)
  (tmp_path / QA_SUBSET / "train-00000-of-00001.parquet").write_bytes(b"<html>not parquet")
  monkeypatch.setenv("FLAN_JAX_P3_DIR", str(tmp_path))
  with pytest.raises(p3_source.P3FormatError, match="train-00000-of-00001.parquet: not a "
                     "readable Parquet file.*hf download"):
    p3_source.read_split(QA_SUBSET, "train", multiple_choice=False)
  write_tfrecord_subset(str(tmp_path), SEPARATE_SUBSET, "train", SEPARATE_ROWS, with_choices=True)
  (tmp_path / "data" / SEPARATE_SUBSET / "info.train.json").write_text("{")
  with pytest.raises(p3_source.P3FormatError, match="info.train.json: not a P3 info file"):
    p3_source.read_split(SEPARATE_SUBSET, "train", multiple_choice=True)


def test_preflight_finds_the_subset_in_either_layout(tmp_path, monkeypatch):
  monkeypatch.setenv("HF_HOME", str(tmp_path / "no_hf_cache"))
  empty, original, today = (tmp_path / n for n in ("empty", "original", "today"))
  empty.mkdir()
  write_tfrecord_subset(str(original), QA_SUBSET, "train", QA_ROWS, with_choices=False)
  os.makedirs(today / QA_SUBSET)
  (today / QA_SUBSET / "train-00000-of-00001.parquet").write_bytes(b"x")
  for root, prepared in ((empty, False), (original, True), (today, True)):
    monkeypatch.setenv("FLAN_JAX_P3_DIR", str(root))
    assert preflight.check_spec(_spec(QA_SUBSET)).ok == prepared, root
  assert not preflight.check_spec(_spec(SEPARATE_SUBSET)).ok  # not in `today`


def test_multiple_choice_subset_without_choices_is_refused(tmp_path, monkeypatch):
  write_tfrecord_subset(str(tmp_path), SEPARATE_SUBSET, "train", QA_ROWS, with_choices=False)
  monkeypatch.setenv("FLAN_JAX_P3_DIR", str(tmp_path))
  with pytest.raises(p3_source.P3FormatError, match="answer_choices.*t0_subsets.py"):
    p3_source.read_split(SEPARATE_SUBSET, "train", multiple_choice=True)


def test_missing_data_names_the_variable_and_command(tmp_path, monkeypatch):
  monkeypatch.setenv("FLAN_JAX_P3_DIR", str(tmp_path / "nowhere"))
  with pytest.raises(local_data.LocalDataMissingError, match="FLAN_JAX_P3_DIR.*hf download"):
    p3_source.read_split(QA_SUBSET, "train", multiple_choice=False)
  monkeypatch.setenv("FLAN_JAX_P3_DIR", str(tmp_path))
  with pytest.raises(local_data.LocalDataMissingError,
                     match=f"data/{QA_SUBSET}' does not exist.*hf download"):
    p3_source.read_split(QA_SUBSET, "train", multiple_choice=False)


def test_hub_fetch_asks_for_the_subset_folder_and_explains_failure(monkeypatch):
  huggingface_hub = pytest.importorskip("huggingface_hub")
  calls = []

  def offline(**kwargs):  # stands in for the hub: tests never touch the network
    calls.append(kwargs)
    raise OSError("offline")

  monkeypatch.delenv("FLAN_JAX_P3_DIR", raising=False)
  monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
  with pytest.raises(local_data.LocalDataMissingError,
                     match="could not fetch it from the hub.*hf download bigscience/P3"):
    p3_source.read_split(QA_SUBSET, "train", multiple_choice=False)
  assert calls == [{"repo_id": "bigscience/P3", "repo_type": "dataset",
                    "allow_patterns": [f"{QA_SUBSET}/*", f"data/{QA_SUBSET}/*"]}]


def test_unreadable_vocabulary_says_how_to_get_it(tmp_path, monkeypatch):
  from flan_jax.data import t5_features  # pylint: disable=g-import-not-at-top
  monkeypatch.setenv(t5_features.VOCABULARY_ENV, str(tmp_path / "missing.model"))
  vocabulary = t5_features.vocabulary()
  assert vocabulary is t5_features.vocabulary()  # one instance (one file read) per model
  with pytest.raises(t5_features.VocabularyUnavailableError,
                     match="missing.model.*hf download google/flan-t5-base spiece.model"):
    vocabulary.encode("hello")
