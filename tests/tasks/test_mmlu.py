"""MMLU tasks: 5 dev exemplars in order under the header, the documented length rule, letters."""

import pytest

from flan_jax import errors
from flan_jax.catalog import lookup as catalog
from flan_jax_tasks import mmlu
from tests.evaluation import suite_files

QUERY = ("What is 2 + 2?\nA. 3\nB. 4\nC. 5\nD. 6\nAnswer:")


def _shot(i):
  return f"Dev question {i}?\nA. a{i}\nB. b{i}\nC. c{i}\nD. d{i}\nAnswer: {'ABCDA'[i]}"


# Two spaces before the subject, as evaluate_flan.py's header has them.
HEADER = "The following are multiple choice questions (with answers) about  abstract algebra."


def test_57_subjects_in_four_categories():
  specs = mmlu.datasets()
  assert len(specs) == 57
  categories = [c for _, c in mmlu.SUBJECTS.values()]
  assert {c: categories.count(c) for c in set(categories)} == {
      "STEM": 18, "humanities": 13, "social sciences": 12, "other": 14}
  assert specs[0].tasks == ("mmlu_abstract_algebra_direct", "mmlu_abstract_algebra_cot")


def test_five_shot_prompt_in_dev_order(tmp_path, monkeypatch):
  monkeypatch.setenv("FLAN_JAX_MMLU_DIR", suite_files.write_mmlu(tmp_path))
  rows = mmlu.read_rows("abstract_algebra", "direct", "test", count_tokens=len)
  assert rows[0]["inputs"] == "\n\n".join([HEADER] + [_shot(i) for i in range(5)] + [QUERY])
  assert [r["targets"] for r in rows] == ["B", "D"]
  assert rows[0]["choices"] == ["A", "B", "C", "D"]
  cot = mmlu.read_rows("abstract_algebra", "cot", "test", count_tokens=len)
  assert cot[0]["inputs"].endswith("D. 6\nAnswer: Let's think step by step.")


def test_length_rule_drops_exemplars_from_the_end(tmp_path, monkeypatch):
  monkeypatch.setenv("FLAN_JAX_MMLU_DIR", suite_files.write_mmlu(tmp_path))
  three = "\n\n".join([HEADER, _shot(0), _shot(1), _shot(2), QUERY])
  # Counting characters: the 3-shot prompt plus EOS fits exactly; 4 shots do not.
  rows = mmlu.read_rows("abstract_algebra", "direct", "test", budget=len(three) + 1,
                        count_tokens=len)
  assert rows[0]["inputs"] == three
  rows = mmlu.read_rows("abstract_algebra", "direct", "test", budget=len(three),
                        count_tokens=len)
  assert rows[0]["inputs"] == "\n\n".join([HEADER, _shot(0), _shot(1), QUERY])
  rows = mmlu.read_rows("abstract_algebra", "direct", "test", budget=5, count_tokens=len)
  assert rows[0]["inputs"] == "\n\n".join([HEADER, QUERY])  # No exemplar fits: none kept.


def test_length_rule_counts_the_task_vocabulary(tmp_path, monkeypatch):
  from flan_jax.data import vocab
  monkeypatch.setenv("FLAN_JAX_MMLU_DIR", suite_files.write_mmlu(tmp_path))
  # The suite measures with the configured vocabulary: here the toy one (tests/conftest.py).
  tokens = lambda text: len(vocab.toy_vocabulary().encode(text))
  two = "\n\n".join([HEADER, _shot(0), _shot(1), QUERY])
  three = "\n\n".join([HEADER, _shot(0), _shot(1), _shot(2), QUERY])
  assert tokens(two) < tokens(three)
  budget = tokens(two) + 1  # Two shots and EOS fit; the third shot does not.
  rows = mmlu.read_rows("abstract_algebra", "direct", "test", budget=budget)
  assert rows[0]["inputs"] == two


def test_bad_csv_row_names_file_and_line(tmp_path, monkeypatch):
  bad = [["q", "a", "b", "c", "d", "E"]]
  monkeypatch.setenv("FLAN_JAX_MMLU_DIR", suite_files.write_mmlu(tmp_path, test=bad))
  with pytest.raises(ValueError, match="abstract_algebra_test.csv:1"):
    mmlu.read_rows("abstract_algebra", "direct", "test", count_tokens=len)


def test_missing_folder_names_the_setting(monkeypatch, tmp_path):
  monkeypatch.setenv("FLAN_JAX_MMLU_DIR", str(tmp_path / "nowhere"))
  with pytest.raises(errors.FlanJaxError, match="FLAN_JAX_MMLU_DIR.*--mmlu_dir"):
    mmlu.read_rows("anatomy", "direct", "test")


def test_generation_answer_is_the_letter():
  import seqio
  catalog.register_names(["mmlu_direct", "mmlu_cot"])
  task = seqio.TaskRegistry.get("mmlu_anatomy_direct")
  assert [task.postprocess_fn(p) for p in ("B", "(C) bone", "D. 6", "none")] == [
      "B", "C", "D", ""]
  cot = seqio.TaskRegistry.get("mmlu_anatomy_cot")
  assert cot.postprocess_fn("4 is B's text. So the answer is (B).") == "B"
  assert len(seqio.MixtureRegistry.get("mmlu_direct").tasks) == 57
