"""Suite figures: macro averages over tasks and categories, with example counts."""

from flan_jax.evaluation import suite_report

RESULTS = {
    "mmlu_a_direct": {"accuracy": 50.0, "rank_accuracy": 60.0, "num_examples": 10.0},
    "mmlu_b_direct": {"accuracy": 20.0, "rank_accuracy": 30.0, "num_examples": 100.0},
    "mmlu_c_direct": {"accuracy": 80.0, "rank_accuracy": 90.0, "num_examples": 4.0},
}
CATEGORY = {"mmlu_a_direct": "STEM", "mmlu_b_direct": "STEM", "mmlu_c_direct": "other"}


def test_macro_averages_by_hand():
  report = suite_report.build_report(RESULTS, CATEGORY.get)
  # Average over subjects, not over questions: (50 + 20 + 80) / 3 = 50.
  assert report["average"] == {"accuracy": 50.0, "rank_accuracy": 60.0, "num_examples": 114.0,
                               "num_tasks": 3.0}
  assert report["categories"]["STEM"] == {"accuracy": 35.0, "rank_accuracy": 45.0,
                                          "num_examples": 110.0, "num_tasks": 2.0}
  assert report["categories"]["other"]["accuracy"] == 80.0


def test_table_rows_then_categories_then_average_last():
  report = suite_report.build_report(RESULTS, CATEGORY.get)
  lines = suite_report.format_table(report).splitlines()
  assert lines[0].split() == ["task", "n", "accuracy", "rank_accuracy"]
  assert lines[1].split() == ["mmlu_a_direct", "10", "50.00", "60.00"]
  assert lines[4].split() == ["[STEM]", "110", "35.00", "45.00"]
  assert lines[-2].split() == ["average", "(3", "tasks)", "114", "50.00", "60.00"]
  # Over questions: (50 * 10 + 20 * 100 + 80 * 4) / 114 = 24.74; (60*10+30*100+90*4)/114 = 34.74.
  assert lines[-1].split() == ["average", "over", "questions", "114", "24.74", "34.74"]


def test_average_over_questions_by_hand():
  report = suite_report.build_report(RESULTS, CATEGORY.get)
  over = report["average_over_questions"]
  assert over["accuracy"] == (500 + 2000 + 320) / 114
  assert over["rank_accuracy"] == (600 + 3000 + 360) / 114
  assert over["num_examples"] == 114.0 and over["num_tasks"] == 3.0


def test_single_task_has_no_average():
  report = suite_report.build_report({"t": {"accuracy": 1.0, "num_examples": 2.0}})
  assert "average" not in report and "categories" not in report
