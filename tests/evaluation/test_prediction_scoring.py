"""`flan-jax evaluate-predictions`: any system's outputs, scored with the task's own rules."""

import json

import pytest

from tests.cli import cli_runs


def _write(path, rows):
  path.write_text("".join(json.dumps(r) + "\n" for r in rows))
  return str(path)


def test_bbh_cot_file_without_any_suite_data(tmp_path, monkeypatch, capsys):
  monkeypatch.delenv("FLAN_JAX_BBH_DIR", raising=False)
  rows = [{"prediction": "x. So the answer is (A).", "target": "(A)"},
          {"prediction": "So the answer is (B)", "target": "(A)"},
          {"prediction": "(C)", "target": "(C)"},   # No phrase: the whole text is the answer.
          {"prediction": "the answer is True.", "target": "True"}]
  path = _write(tmp_path / "p.jsonl", rows)
  code, out, err = cli_runs.run(["evaluate-predictions", "--task", "bbh_date_understanding_cot",
                                 "--predictions", path], capsys)
  assert code == 0, err
  final = json.loads(out.strip().splitlines()[-1])
  assert final["accuracy"] == 75.0 and final["num_examples"] == 4.0


def test_mixture_rows_name_their_task_and_average_is_macro(tmp_path, capsys):
  rows = [{"task": "bbh_navigate_direct", "prediction": "Yes", "target": "Yes"},
          {"task": "bbh_navigate_direct", "prediction": "No", "target": "Yes"},
          {"task": "bbh_snarks_direct", "prediction": "(A)", "targets": "(A)"}]
  path = _write(tmp_path / "p.jsonl", rows)
  code, out, err = cli_runs.run(
      ["evaluate-predictions", "--task", "bbh_direct", "--predictions", path], capsys)
  assert code == 0, err
  final = json.loads(out.strip().splitlines()[-1])
  assert final["accuracy"] == 75.0  # (50 + 100) / 2 over the two subtasks present.
  assert final["num_examples"] == 3.0 and final["num_tasks"] == 2.0
  assert ["bbh_navigate_direct", "2", "50.00"] in [line.split() for line in out.splitlines()]


def test_mmlu_generation_letters(tmp_path, capsys):
  rows = [{"prediction": "B", "target": "B"}, {"prediction": "(D) 7", "target": "D"},
          {"prediction": "A. 3", "target": "B"}]
  path = _write(tmp_path / "p.jsonl", rows)
  code, out, _ = cli_runs.run(["evaluate-predictions", "--task", "mmlu_anatomy_direct",
                               "--predictions", path], capsys)
  assert code == 0
  assert json.loads(out.strip().splitlines()[-1])["accuracy"] == pytest.approx(200 / 3)


def test_bad_rows_name_file_and_line(tmp_path, capsys):
  path = _write(tmp_path / "p.jsonl", [{"prediction": "x", "target": "x"}, {"pred": "y"}])
  code, _, err = cli_runs.run(["evaluate-predictions", "--task", "bbh_navigate_direct",
                               "--predictions", path], capsys)
  assert code == 2 and "p.jsonl:2" in err and "'prediction' and 'target'" in err
  path = _write(tmp_path / "q.jsonl", [{"prediction": "x", "target": "x"}])
  code, _, err = cli_runs.run(
      ["evaluate-predictions", "--task", "bbh_direct", "--predictions", path], capsys)
  assert code == 2 and "q.jsonl:1" in err and "'task'" in err


def test_unreadable_predictions_files_are_one_line_errors(tmp_path, capsys):
  bad = tmp_path / "latin1.jsonl"
  bad.write_bytes(b'{"prediction": "caf\xe9", "target": "x"}\n')
  for path, says in ((tmp_path / "absent.jsonl", "does not exist"), (tmp_path, "is a folder"),
                     (bad, "latin1.jsonl:1: not UTF-8")):
    code, _, err = cli_runs.run(["evaluate-predictions", "--task", "bbh_navigate_direct",
                                 "--predictions", str(path)], capsys)
    assert code == 2 and says in err and "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("flan-jax: error: ")


def test_row_of_another_task_is_refused(tmp_path, capsys):
  path = _write(tmp_path / "p.jsonl", [{"prediction": "Yes", "target": "Yes"},
                                       {"task": "bbh_snarks_direct", "prediction": "(A)",
                                        "target": "(A)"}])
  code, _, err = cli_runs.run(["evaluate-predictions", "--task", "bbh_navigate_direct",
                               "--predictions", path], capsys)
  assert code == 2 and "p.jsonl:2" in err and "'bbh_snarks_direct'" in err


def test_mixture_with_some_tasks_says_how_many_are_missing(tmp_path, capsys):
  rows = [{"task": "bbh_navigate_direct", "prediction": "Yes", "target": "Yes"}]
  path = _write(tmp_path / "p.jsonl", rows)
  code, out, err = cli_runs.run(
      ["evaluate-predictions", "--task", "bbh_direct", "--predictions", path], capsys)
  assert code == 0
  assert "holds predictions for 1 of the 27 tasks of bbh_direct" in err
  assert json.loads(out.strip().splitlines()[-1])["num_tasks_missing"] == 26.0
