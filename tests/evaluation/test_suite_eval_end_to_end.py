"""A tiny trained model runs `flan-jax eval` on bbh_cot and an MMLU subject, end to end."""

import json
import os

import gin
import pytest

from flan_jax.cli import main as cli
from flan_jax_tasks import bbh
from tests.cli.cli_runs import SMALL_RUN
from tests.evaluation import suite_files


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
  gin.clear_config()
  path = tmp_path_factory.mktemp("suite_eval") / "run"
  assert cli.main(["train", f"--gin.MODEL_DIR='{path}'"] + SMALL_RUN) == 0
  gin.clear_config()
  return path


def test_eval_bbh_cot_prints_table_json_and_tensorboard(model_dir, tmp_path, capsys):
  for subtask in bbh.SUBTASKS:
    suite_files.write_bbh(tmp_path / "BBH", subtask, suite_files.BBH_EXAMPLES[:1])
  metrics_json = tmp_path / "bbh.json"
  code = cli.main(["eval", f"--model_dir={model_dir}", "--task=bbh_cot",
                   f"--bbh_dir={tmp_path / 'BBH'}", "--batch_size=8",
                   f"--metrics_json={metrics_json}"])
  out, err = capsys.readouterr()
  assert code == 0, err
  lines = out.splitlines()
  header = next(i for i, l in enumerate(lines) if l.split()[:3] == ["task", "n", "accuracy"])
  rows = lines[header + 1:header + 28]
  assert [r.split()[0] for r in rows] == sorted(bbh.task_name(s, "cot") for s in bbh.SUBTASKS)
  assert all(r.split()[1] == "1" for r in rows)  # Every line says how many it scored.
  assert lines[header + 28].split()[:5] == ["average", "(27", "tasks)", "27",
                                            lines[header + 28].split()[4]]
  saved = json.loads(metrics_json.read_text())
  assert saved["split"] == "test" and len(saved["metrics"]) == 27
  accuracies = [m["accuracy"] for m in saved["metrics"].values()]
  assert saved["average"]["accuracy"] == pytest.approx(sum(accuracies) / 27)
  assert all(m["num_examples"] == 1.0 for m in saved["metrics"].values())
  events = os.listdir(model_dir / "eval")
  assert any(name.startswith("events.out.tfevents") for name in events)


def test_eval_mmlu_subject_adds_rank_classification(model_dir, tmp_path, capsys):
  mmlu_dir = suite_files.write_mmlu(tmp_path / "data", "anatomy")
  code = cli.main(["eval", f"--model_dir={model_dir}", "--task=mmlu_anatomy_direct",
                   f"--mmlu_dir={mmlu_dir}", "--batch_size=8",
                   f"--metrics_json={tmp_path / 'm.json'}"])
  out, err = capsys.readouterr()
  assert code == 0, err
  metrics = json.loads((tmp_path / "m.json").read_text())["metrics"]["mmlu_anatomy_direct"]
  assert metrics["num_examples"] == 2.0
  assert metrics["rank_accuracy"] in (0.0, 50.0, 100.0)
  assert "rank_accuracy" in out


def test_prompt_longer_than_the_run_input_length_warns(model_dir, tmp_path, capsys):
  """The run trained at 96 input tokens; the 3-shot BBH prompt is longer: eval says so."""
  root = suite_files.write_bbh(tmp_path / "BBH", "navigate", suite_files.BBH_EXAMPLES[:2])
  argv = ["eval", f"--model_dir={model_dir}", "--task=bbh_navigate_cot", f"--bbh_dir={root}",
          "--batch_size=8", f"--metrics_json={tmp_path / 'm.json'}"]
  assert cli.main(argv) == 0
  err = capsys.readouterr().err
  assert "warning: 2 of 2 prompts of bbh_navigate_cot are longer than the run's input length" in err
  assert "> 96 tokens" in err and "--inputs_length" in err
  assert cli.main(argv + ["--inputs_length=4096"]) == 0
  assert "warning" not in capsys.readouterr().err


def test_infer_reads_the_suite_test_split_by_default(model_dir, tmp_path, capsys):
  root = suite_files.write_bbh(tmp_path / "BBH", "navigate", suite_files.BBH_EXAMPLES[:2])
  out = tmp_path / "preds.jsonl"
  assert cli.main(["infer", f"--model_dir={model_dir}", "--task=bbh_navigate_direct",
                   f"--bbh_dir={root}", "--batch_size=8", "--inputs_length=512",
                   f"--out={out}"]) == 0
  rows = [json.loads(line) for line in out.read_text().splitlines()]
  assert [r["targets"] for r in rows] == ["False", "True"]  # The file's two examples.
  assert "warning" not in capsys.readouterr().err  # 512 tokens hold these prompts whole.
