"""CoT collection: nine datasets from TSV files (question, answer, rationale)."""

import os
import subprocess
import sys

import pytest

from flan_jax.readers import cot as cot_source
from flan_jax.readers import local_data
from flan_jax_tasks import cot
from tests.tasks.conftest import rendered, exported

CUES = ("Reason it out step by step before answering.",
        "Explain your reasoning, then give the answer.",
        "Work through it and show each step.")
ROWS = [(f"Tom has {i} apples and buys 2 more. How many now?", str(i + 2),
         f"Tom starts with {i}. Adding 2 gives {i + 2}.") for i in range(8)]


@pytest.fixture(scope="module")
def cot_dir(tmp_path_factory):
  root = tmp_path_factory.mktemp("cot")
  lines = ["question\tanswer\trationale"] + ["\t".join(r) for r in ROWS]
  (root / "gsm8k_train.tsv").write_text("\n".join(lines) + "\n")
  old = os.environ.get("FLAN_JAX_COT_DIR")
  os.environ["FLAN_JAX_COT_DIR"] = str(root)
  yield root
  if old is None:
    os.environ.pop("FLAN_JAX_COT_DIR")
  else:
    os.environ["FLAN_JAX_COT_DIR"] = old


def _spec(name):
  return next(s for s in cot.datasets() if s.name == name)


def test_nine_datasets_with_their_row_counts():
  specs = cot.datasets()
  assert [s.name for s in specs] == ["gsm8k", "strategyqa", "creak", "qasc", "esnli", "ecqa",
                                     "sensemaking", "aqua", "qed"]
  assert sum(s.num_train_examples for s in specs) == 74_771
  assert _spec("esnli").num_train_examples == 36_174
  assert _spec("gsm8k").tasks == ("cot.gsm8k:cot", "cot.gsm8k:fs_cot", "cot.gsm8k:cot_inv")
  assert "gsm8k_train.tsv" in _spec("gsm8k").data.how_to_get
  code = ("import sys; from flan_jax_tasks import cot; cot.datasets(); "
          "assert 'tensorflow' not in sys.modules and 'seqio' not in sys.modules")
  subprocess.run([sys.executable, "-c", code], check=True,
                 env=dict(os.environ, PYTHONPATH=os.getcwd()))


def test_cot_targets_are_rationale_phrase_answer(cot_dir):
  names = cot.register_dataset(_spec("gsm8k"), render_seed=0)
  assert names == list(_spec("gsm8k").tasks)
  rows = rendered("cot.gsm8k:cot")
  assert len(rows) == 8
  for (question, answer, rationale), r in zip(ROWS, rows):
    assert r["targets"] == f"{rationale} Hence the answer is {answer}"
    prompts = {question, f"Question: {question}", f"Answer the following.\n{question}",
               f"{question}\nWhat is the answer?", f"Think about this one: {question}"}
    assert any(r["inputs"] == f"{p}\n{cue}" for p in prompts for cue in CUES)


def test_few_shot_and_inverted_forms(cot_dir):
  cot.register_dataset(_spec("gsm8k"), render_seed=0)
  few = rendered("cot.gsm8k:fs_cot")
  assert len(few) == 8
  for (question, answer, rationale), r in zip(ROWS, few):
    assert r["targets"] == f"{rationale} Hence the answer is {answer}"
    assert r["inputs"].count("Hence the answer is") >= 1  # worked exemplars before the query
    assert question in r["inputs"].rsplit("Hence the answer is", 1)[1]  # the query comes last
  inverted = rendered("cot.gsm8k:cot_inv")
  assert len(inverted) == 8
  for (question, answer, rationale), r in zip(ROWS, inverted):
    parts = {question, answer, rationale}
    assert r["targets"] in parts or r["targets"].startswith(("Question: ", "Reasoning: ",
                                                              "Answer: "))
    assert r["inputs"].endswith("the above.")
  rows = exported("cot.gsm8k:cot")
  assert sorted(r["targets"] for r in rows) == sorted(
      f"{rationale} Hence the answer is {answer}" for _, answer, rationale in ROWS)
  assert {(r["task"], r["format"]) for r in rows} == {("cot.gsm8k:cot", "cot")}


def test_malformed_line_and_missing_file(cot_dir, tmp_path, monkeypatch):
  (tmp_path / "aqua_train.tsv").write_text("q\ta\tr\nonly two\tcolumns\n")
  monkeypatch.setenv("FLAN_JAX_COT_DIR", str(tmp_path))
  with pytest.raises(cot_source.CotFormatError, match="aqua_train.tsv:2: 2 tab-separated"):
    list(cot_source.records("aqua"))
  with pytest.raises(local_data.LocalDataMissingError, match="qed_train.tsv.*FLAN_JAX_COT_DIR"):
    list(cot_source.records("qed"))
