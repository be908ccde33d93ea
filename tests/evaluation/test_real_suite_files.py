"""The held-out suites on their publishers' real files (../shared/real_data, see its README).

Expected values were checked by hand against the files: the BBH authors' own prompts (their
code-davinci-002-outputs `input` fields), MMLU's evaluate_flan.py prompt format as pandas
reads the CSVs, and each CoT eval file's rows.
"""

import csv
import json
import os

import pytest

from flan_jax.cli import main as cli
from flan_jax_tasks import bbh, cot_eval, mmlu

REAL = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "real_data")


def _real(folder: str) -> str:
  path = os.path.abspath(os.path.join(REAL, folder))
  if not os.path.isdir(path):
    pytest.skip(f"{path} is absent (the publishers' files; CI has them, see its README.md)")
  return path


@pytest.fixture
def bbh_dir(monkeypatch):
  path = _real("bbh")
  monkeypatch.setenv("FLAN_JAX_BBH_DIR", path)
  return path


@pytest.fixture
def mmlu_dir(monkeypatch):
  path = os.path.join(_real("mmlu"), "data")
  monkeypatch.setenv("FLAN_JAX_MMLU_DIR", path)
  return path


@pytest.fixture
def cot_eval_dir(tmp_path, monkeypatch):
  """The real files in the suite's layout; CommonsenseQA from its Hugging Face layout copy."""
  real = _real("cot_eval")
  for name in ("gsm8k", "svamp", "asdiv", "strategyqa"):
    os.symlink(os.path.join(real, name), tmp_path / name)
  os.symlink(os.path.join(real, "commonsense_qa_hf_layout"), tmp_path / "commonsense_qa")
  monkeypatch.setenv("FLAN_JAX_COT_EVAL_DIR", str(tmp_path))
  return tmp_path


SNARKS_SHOTS_DIRECT = (
    "Determine which of two sentences is sarcastic.\n\n"
    "Q: Which statement is sarcastic?\nOptions:\n"
    "(A) Yes, because having interests and actively researching them is a huge waste\n"
    "(B) Yes, because having interests and actively researching them is a huge deal\nA: (A)\n\n"
    "Q: Which statement is sarcastic?\nOptions:\n"
    "(A) No one is going to disagree with you on this. Avoiding ad hominem attacks really help "
    "your case\n(B) No one is going to disagree with you on this. Ad hominem attacks really "
    "help your case\nA: (B)\n\n"
    "Q: Which statement is sarcastic?\nOptions:\n"
    "(A) Consistency in the league's punishments? What do you think this is supposed to be, "
    "politics?\n(B) Consistency in the league's punishments? What do you think this is supposed "
    "to be, moral?\nA: (A)\n\n")
SNARKS_QUERY_0 = (
    "Q: Which statement is sarcastic?\nOptions:\n"
    "(A) He's a generous person, trying to promote a charity stream that has raised millions to "
    "help kids in need\n(B) He's a terrible person, trying to promote a charity stream that has "
    "raised millions to help kids in need\nA:")


def test_bbh_snarks_two_paragraph_description(bbh_dir):
  cot = bbh.read_rows("snarks", "cot")
  direct = bbh.read_rows("snarks", "direct")
  assert len(cot) == len(direct) == 178
  # The authors' CoT prompt keeps both paragraphs; their direct prompt only the first.
  assert cot[0]["inputs"].startswith(
      "Determine which of two sentences is sarcastic.\n\nAccording to Cambridge University "
      "Dictionary, sarcasm is \"the use of remarks that clearly mean the opposite of what they "
      "say,")
  assert cot[0]["inputs"].count("\n\nQ: ") == 4
  assert cot[0]["inputs"].endswith(SNARKS_QUERY_0 + " Let's think step by step.")
  assert direct[0]["inputs"] == SNARKS_SHOTS_DIRECT + SNARKS_QUERY_0
  assert (cot[0]["targets"], direct[0]["targets"]) == ("(B)", "(B)")


def test_bbh_every_cot_prompt_is_the_authors(bbh_dir):
  """The authors' prompt: the prompt file after its `-----` line, then `Q: {input}` and the cue."""
  total = 0
  for subtask in bbh.SUBTASKS:
    with open(os.path.join(bbh_dir, "cot-prompts", f"{subtask}.txt"), encoding="utf-8") as f:
      shots = f.read().split("-----\n", 1)[1].strip()
    with open(os.path.join(bbh_dir, "bbh", f"{subtask}.json"), encoding="utf-8") as f:
      examples = json.load(f)["examples"]
    rows = bbh.read_rows(subtask, "cot")
    assert [r["inputs"] for r in rows] == [
        f"{shots}\n\nQ: {e['input']}\nA: Let's think step by step." for e in examples], subtask
    total += len(rows)
  assert total == 6511


def test_tasks_show_and_export_a_bbh_task(bbh_dir, tmp_path, capsys):
  assert cli.main(["tasks", "show", "bbh_snarks_direct", "-n", "1"]) == 0  # Split: test.
  out = capsys.readouterr().out
  assert "### 1  task=bbh_snarks_direct  idx=snarks:0" in out
  assert SNARKS_SHOTS_DIRECT + SNARKS_QUERY_0 + "\n--- targets" in out
  out_file = tmp_path / "snarks.jsonl"
  assert cli.main(["export", "bbh_snarks_cot", "--out", str(out_file), "--no-progress"]) == 0
  rows = [json.loads(line) for line in out_file.read_text().splitlines()]
  assert len(rows) == 178 and rows[0]["targets"] == "(B)"  # Every row, in file order.
  assert rows[0]["inputs"].endswith(SNARKS_QUERY_0 + " Let's think step by step.")


MMLU_ALGEBRA_0 = (
    "The following are multiple choice questions (with answers) about  abstract algebra.\n\n"
    "Find all c in Z_3 such that Z_3[x]/(x^2 + c) is a field.\nA. 0\nB. 1\nC. 2\nD. 3\n"
    "Answer: B\n\n"
    "Statement 1 | If aH is an element of a factor group, then |aH| divides |a|. Statement 2 | "
    "If H and K are subgroups of G then HK is a subgroup of G.\nA. True, True\nB. False, False\n"
    "C. True, False\nD. False, True\nAnswer: B\n\n"
    "Statement 1 | Every element of a group generates a cyclic subgroup of the group. "
    "Statement 2 | The symmetric group S_10 has 10 elements.\nA. True, True\nB. False, False\n"
    "C. True, False\nD. False, True\nAnswer: C\n\n"
    "Statement 1| Every function from a finite set onto itself must be one to one. Statement 2 | "
    "Every subgroup of an abelian group is abelian.\nA. True, True\nB. False, False\n"
    "C. True, False\nD. False, True\nAnswer: A\n\n"
    "Find the characteristic of the ring 2Z.\nA. 0\nB. 3\nC. 12\nD. 30\nAnswer: A\n\n"
    "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\n"
    "A. 0\nB. 4\nC. 2\nD. 6\nAnswer:")


def test_mmlu_prompts_as_evaluate_flan(mmlu_dir):
  count = lambda text: len(text) // 4  # Every prompt here is far below 2,048 tokens.
  rows = {s: mmlu.read_rows(s, "direct", "test", count_tokens=count)
          for s in ("abstract_algebra", "college_computer_science", "college_physics")}
  assert {s: len(r) for s, r in rows.items()} == {
      "abstract_algebra": 100, "college_computer_science": 100, "college_physics": 102}
  assert rows["abstract_algebra"][0]["inputs"] == MMLU_ALGEBRA_0
  assert rows["abstract_algebra"][0]["targets"] == "B"
  # Row 10's choice A is the literal None, which pandas (so evaluate_flan.py) reads as nan.
  mergesort = rows["college_computer_science"][10]["inputs"]
  assert mergesort.endswith("III. An array\nA. nan\nB. III only\nC. I and II only\n"
                            "D. I, II, and III\nAnswer:")
  assert rows["college_computer_science"][10]["targets"] == "D"
  assert len(mmlu.read_rows("anatomy", "direct", "validation", count_tokens=count)) == 14


def test_mmlu_suite_defaults_to_test(mmlu_dir, capsys):
  assert cli.main(["tasks", "show", "mmlu_abstract_algebra_direct", "-n", "1"]) == 0
  out = capsys.readouterr().out
  assert "Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\nA. 0\nB. 4\nC. 2\nD. 6\nAnswer:\n" in out


def test_cot_eval_row_counts_and_prompts(cot_eval_dir):
  rows = {d: cot_eval.read_rows(d) for d in cot_eval.DATASETS}
  assert {d: len(r) for d, r in rows.items()} == {
      "gsm8k": 200, "svamp": 150, "asdiv": 160, "strategyqa": 150, "commonsense_qa": 150}
  assert rows["gsm8k"][0]["targets"] == "18"
  assert rows["svamp"][0]["inputs"] == (
      "Q: Each pack of dvds costs 76 dollars. If there is a discount of 25 dollars on each pack "
      "How much do you have to pay to buy each pack?\nA: Let's think step by step.")
  assert rows["svamp"][0]["targets"] == "51"
  assert rows["strategyqa"][0]["inputs"] == (
      "Q: Are more people today related to Genghis Khan than Julius Caesar?\n"
      "Answer yes or no.\nA: Let's think step by step.")
  assert rows["strategyqa"][0]["targets"] == "yes"
  csqa = rows["commonsense_qa"][0]
  assert csqa["inputs"] == (
      "Q: A revolving door is convenient for two direction travel, but it also serves as a "
      "security measure at a what?\nAnswer Choices:\n(A) bank\n(B) library\n"
      "(C) department store\n(D) mall\n(E) new york\nA: Let's think step by step.")
  assert (csqa["targets"], csqa["choices"]) == ("A", ["A", "B", "C", "D", "E"])
  asdiv = rows["asdiv"]
  assert [asdiv[i]["targets"] for i in (0, 29, 75, 120, 127, 142)] == [
      "9", "Mrs. Hilt", "Yes", "Purple", "Cesar's toothbrush", "They are equal"]
  assert all(r["targets"] for r in asdiv)  # No answer is left empty.


def test_commonsense_qa_original_layout_reads_the_same(cot_eval_dir, tmp_path, monkeypatch):
  """The same rows rewritten in the original release's nested layout give the same prompts."""
  hf_rows = cot_eval.read_rows("commonsense_qa")
  nested = tmp_path / "nested"
  (nested / "commonsense_qa").mkdir(parents=True)
  with open(cot_eval_dir / "commonsense_qa" / "dev_rand_split.jsonl", encoding="utf-8") as f:
    records = [json.loads(line) for line in f if line.strip()]
  with open(nested / "commonsense_qa" / "dev_rand_split.jsonl", "w", encoding="utf-8") as f:
    for r in records:
      choices = [{"label": l, "text": t} for l, t in zip(r["choices"]["label"],
                                                          r["choices"]["text"])]
      f.write(json.dumps({"answerKey": r["answerKey"], "id": r["id"], "question": {
          "question_concept": r["question_concept"], "choices": choices,
          "stem": r["question"]}}) + "\n")
  monkeypatch.setenv("FLAN_JAX_COT_EVAL_DIR", str(nested))
  assert cot_eval.read_rows("commonsense_qa") == hf_rows


def _score(task, rows, tmp_path, capsys):
  path = tmp_path / "predictions.jsonl"
  path.write_text("".join(json.dumps(r) + "\n" for r in rows))
  assert cli.main(["evaluate-predictions", "--task", task, "--predictions", str(path)]) == 0
  return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_asdiv_hand_made_predictions(cot_eval_dir, tmp_path, capsys):
  targets = {r["idx"]: r["targets"] for r in cot_eval.read_rows("asdiv")}
  rows = [  # (prediction, target as the file gives it): 4 of 7 right.
      ("7 + 2 = 9. So the answer is 9 apples.", targets["asdiv:0"]),         # right
      ("So the answer is mrs. hilt.", targets["asdiv:29"]),                  # right
      ("Two dimes are more. So the answer is yes.", targets["asdiv:75"]),    # right
      ("So the answer is Purple.", targets["asdiv:120"]),                    # right
      ("I cannot tell.", targets["asdiv:75"]),             # no number, text target: wrong
      ("So the answer is 3.", targets["asdiv:142"]),       # 'They are equal': wrong
      ("So the answer is 16.", targets["asdiv:1"]),        # 15: wrong
  ]
  final = _score("cot_eval.asdiv:cot", [{"prediction": p, "target": t} for p, t in rows],
                 tmp_path, capsys)
  assert final["accuracy"] == pytest.approx(400 / 7) and final["num_examples"] == 7.0


def test_asdiv_time_answer_is_text_not_its_last_number():
  assert cot_eval.asdiv_target("3:30 p.m.", "nluds-x") == "3:30 p.m."
  assert cot_eval.asdiv_target("2 (hours) 30 (minutes)", "nluds-x") == "2 hours 30 minutes"
  assert cot_eval.asdiv_target("1,200 (dollars)", "nluds-x") == "1200"
  from flan_jax.evaluation import answer_extraction as ae
  predictions = [ae.answer_text(p) for p in ("So the answer is 30.", "The answer is 3:30 p.m.")]
  assert ae.number_or_text_accuracy(["3:30 p.m."] * 2, predictions)["accuracy"] == 50.0
  with pytest.raises(ValueError, match="nluds-9"):
    cot_eval.asdiv_target("  ", "nluds-9")


def test_bbh_predictions_scored_per_subtask(bbh_dir, tmp_path, capsys):
  """Predictions for two real BBH files; the mixture says the other 25 are missing."""
  with open(os.path.join(bbh_dir, "bbh", "navigate.json"), encoding="utf-8") as f:
    navigate = json.load(f)["examples"][:4]
  rows = [{"task": "bbh_navigate_cot", "prediction": f"So the answer is {e['target']}.",
           "target": e["target"]} for e in navigate]
  rows[0]["prediction"] = "So the answer is Maybe."
  rows.append({"task": "bbh_snarks_cot", "prediction": "So the answer is (B).", "target": "(B)"})
  final = _score("bbh_cot", rows, tmp_path, capsys)
  assert final["accuracy"] == pytest.approx((75.0 + 100.0) / 2)
  assert final["accuracy_over_questions"] == pytest.approx(80.0)
  assert final["num_tasks_missing"] == 25.0


def test_mmlu_csv_reading_as_pandas_by_hand(tmp_path, monkeypatch):
  """Cells as pandas.read_csv types them: None/NA/empty -> nan; numeric columns typed."""
  rows = [["Q1?", "None", "007", "1", "x", "A"], ["Q2?", "NA", "3", "2.5", "", "B"]]
  path = tmp_path / "t.csv"
  with open(path, "w", newline="") as f:
    csv.writer(f).writerows(rows)
  assert mmlu.read_csv(str(path)) == [["Q1?", "nan", "7", "1.0", "x", "A"],
                                      ["Q2?", "nan", "3", "2.5", "nan", "B"]]


def test_mmlu_2048_token_rule_on_long_prompts(mmlu_dir):
  """high_school_european_history's passages are long: under T5's vocabulary and the 2,048
  token rule, 118 of its 165 test prompts keep 3 exemplars and 47 keep 2 (as evaluate_flan.py's
  loop gives them, checked with pandas and the same vocabulary)."""
  import seqio
  path = os.path.abspath(os.path.join(REAL, "..", "vocab", "t5_spiece.model"))
  if not os.path.isfile(path):
    pytest.skip(f"{path} (T5's SentencePiece vocabulary, beside the project) is absent")
  vocab = seqio.SentencePieceVocabulary(path)
  rows = mmlu.read_rows("high_school_european_history", "direct", "test",
                        count_tokens=lambda text: len(vocab.encode(text)))
  shots = [r["inputs"].count("\nAnswer: ") for r in rows]
  assert (len(rows), shots.count(3), shots.count(2)) == (165, 118, 47)


def test_preflight_names_the_missing_mmlu_test_files(mmlu_dir):
  """The copy holds dev and val of all 57 subjects but test files of 4: preflight says so."""
  from flan_jax.catalog import preflight
  rows = {r.dataset: r for r in preflight.check_name("mmlu_direct")}
  assert len(rows) == 57
  assert sorted(name for name, r in rows.items() if r.ok) == [
      "mmlu.abstract_algebra", "mmlu.college_computer_science", "mmlu.college_physics",
      "mmlu.high_school_european_history"]
  assert "lacks test/virology_test.csv" in rows["mmlu.virology"].detail
