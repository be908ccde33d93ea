"""CoT eval suite: each dataset's released file layout read back, answers scored by hand."""

import json

import pytest

from flan_jax import errors
from flan_jax.catalog import lookup as catalog
from flan_jax_tasks import cot_eval

CUE = "\nA: Let's think step by step."


@pytest.fixture
def cot_dir(tmp_path, monkeypatch):
  files = {
      "gsm8k/test.jsonl": json.dumps({"question": "Tom has 3 pens and buys 1,197 more. How many?",
                                      "answer": "3 + 1197 = 1200\n#### 1,200"}) + "\n",
      "svamp/SVAMP.json": json.dumps([{"ID": "c-1", "Body": "Jack had 8 pens.",
                                       "Question": "He lost 3. How many are left?",
                                       "Equation": "( 8.0 - 3.0 )", "Answer": 5.0}]),
      "asdiv/ASDiv.xml": ("<Machine-Reading-Corpus-File><ProblemSet><Problem ID='nluds-0001'>"
                          "<Body>Seven red apples and two green apples are in the basket."
                          "</Body><Question>How many apples are in the basket?</Question>"
                          "<Answer>9 (apples)</Answer></Problem></ProblemSet>"
                          "</Machine-Reading-Corpus-File>"),
      "strategyqa/strategyqa_train.json": json.dumps(
          [{"qid": "q1", "question": "Can a fish climb a tree?", "answer": False}]),
      "commonsense_qa/dev_rand_split.jsonl": json.dumps(
          {"id": "x", "answerKey": "B", "question": {"stem": "Where is a fork kept?", "choices": [
              {"label": "A", "text": "sky"}, {"label": "B", "text": "drawer"}]}}) + "\n",
  }
  for name, text in files.items():
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(text)
  monkeypatch.setenv("FLAN_JAX_COT_EVAL_DIR", str(tmp_path))
  return tmp_path


def test_each_layout_read(cot_dir):
  gsm = cot_eval.read_rows("gsm8k")
  assert gsm == [{"inputs": "Q: Tom has 3 pens and buys 1,197 more. How many?" + CUE,
                  "targets": "1200", "idx": "gsm8k:0"}]
  assert cot_eval.read_rows("svamp")[0]["inputs"] == (
      "Q: Jack had 8 pens. He lost 3. How many are left?" + CUE)
  assert cot_eval.read_rows("svamp")[0]["targets"] == "5"
  assert cot_eval.read_rows("asdiv")[0]["targets"] == "9"
  assert cot_eval.read_rows("strategyqa")[0]["targets"] == "no"
  csqa = cot_eval.read_rows("commonsense_qa")[0]
  assert csqa["inputs"] == ("Q: Where is a fork kept?\nAnswer Choices:\n(A) sky\n(B) drawer" + CUE)
  assert (csqa["targets"], csqa["choices"]) == ("B", ["A", "B"])


def test_postprocessing_scores_as_the_datasets_are_scored():
  import seqio
  catalog.register_names(["cot_eval"])
  gsm = seqio.TaskRegistry.get("cot_eval.gsm8k:cot")
  assert gsm.postprocess_fn("3 + 1197 = 1200. So the answer is 1,200.") == "1200"
  assert seqio.TaskRegistry.get("cot_eval.strategyqa:cot").postprocess_fn(
      "Fish have no limbs. So the answer is no.") == "no"
  assert seqio.TaskRegistry.get("cot_eval.commonsense_qa:cot").postprocess_fn(
      "Forks go in drawers. So the answer is (B).") == "B"
  assert len(seqio.MixtureRegistry.get("cot_eval").tasks) == 5


def test_missing_file_names_the_setting(tmp_path, monkeypatch):
  monkeypatch.setenv("FLAN_JAX_COT_EVAL_DIR", str(tmp_path))
  with pytest.raises(errors.FlanJaxError, match="gsm8k/test.jsonl.*FLAN_JAX_COT_EVAL_DIR"):
    cot_eval.read_rows("gsm8k")
