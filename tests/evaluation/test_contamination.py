"""Contamination: eval examples sharing a long n-gram with the training text, hand-checked."""

import json

from flan_jax.cli import main as cli
from flan_jax.evaluation import contamination as lib
from tests.evaluation import suite_files

WORDS = [f"w{i}" for i in range(40)]


def test_thirteen_gram_overlap_by_hand():
  eval_texts = {"a": [" ".join(WORDS[0:20]), " ".join(WORDS[20:40])], "b": ["short text"]}
  index = lib.EvalIndex(eval_texts, lib.ContaminationConfig())
  # Training text holds words 5..17 (13 words) of a's first example, and 12 of the second's.
  read = lib.scan(index, ["Intro. " + " ".join(WORDS[5:18]) + " outro",
                          " ".join(WORDS[20:32])])
  report = lib.overlap_report(index)
  assert read == 2
  assert report["a"] == {"num_examples": 2, "contaminated": 1, "percent": 50.0, "examples": [0]}
  assert report["b"]["contaminated"] == 0  # Fewer than 13 words: nothing to match.
  assert index.overlapping_ngrams("a", 0) == [" ".join(WORDS[5:18])]


def test_case_and_punctuation_do_not_hide_overlap():
  index = lib.EvalIndex({"t": ["The Cat, sat on the mat!"]}, lib.ContaminationConfig(n=3))
  lib.scan(index, ["the cat sat ON"], )
  assert lib.overlap_report(index)["t"]["examples"] == [0]


def test_prompt_ngrams_shared_by_most_examples_are_ignored():
  texts = ["shared instruction text here " + w for w in ("alpha beta", "gamma delta", "eps zeta")]
  index = lib.EvalIndex({"t": texts}, lib.ContaminationConfig(n=3))
  lib.scan(index, ["shared instruction text here", "here gamma delta"])
  assert lib.overlap_report(index)["t"]["examples"] == [1]


def test_cli_on_small_tasks(tmp_path, monkeypatch, capsys):
  from flan_jax.evaluation import suite_tasks
  monkeypatch.setenv("FLAN_JAX_BBH_DIR", suite_files.write_bbh(tmp_path))
  rows = [{"inputs": "Is this leaked? not not True is", "targets": "yes", "idx": "0"},
          {"inputs": "Unrelated training prompt about cats", "targets": "no", "idx": "1"}]
  suite_tasks.register_suite_task(
      "test_contamination_train", lambda split: rows, splits=("train",),
      postprocess_fn=lambda t, **kw: t, info=suite_tasks.SuiteTaskInfo("test", "train"))
  code = cli.main(["contamination", "test_contamination_train",
                   "--against", "bbh_boolean_expressions_cot", "--ngram", "3", "--show", "1"])
  out = capsys.readouterr().out
  assert code == 0
  final = json.loads(out.strip().splitlines()[-1])
  # Only example 1 ("not not True is") shares a 3-gram beyond the prompt shared by all three.
  assert final["tasks"]["bbh_boolean_expressions_cot"] == {
      "num_examples": 3, "contaminated": 1, "percent": 100 / 3}
  assert final["train_examples"] == 2
  assert 'example 1: "not not true"' in out
