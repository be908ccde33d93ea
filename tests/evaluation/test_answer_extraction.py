"""Answers are read out of model text the way the suites were scored."""

from flan_jax.evaluation import answer_extraction as ax


def test_cot_answer_after_the_last_phrase_period_dropped():
  assert ax.cot_answer("A is red. So the answer is (B).") == "(B)"
  assert ax.cot_answer("The answer is 3, and then the answer is 5.") == "5"
  assert ax.cot_answer("So The Answer Is valid.") == "valid"
  assert ax.cot_answer("no phrase here") == "no phrase here"
  assert ax.cot_answer(b"So the answer is Yes.  ") == "Yes"
  assert ax.cot_answer("(A).", is_target=True) == "(A)."  # Targets are left alone.


def test_choice_letter():
  assert [ax.choice_letter(t) for t in ("C", "(C)", "C. bone", "C) x", "c", "none", "")] == [
      "C", "C", "C", "C", "", "", ""]
  assert ax.choice_letter("Because 4 = 2 + 2, the answer is (B).") == "B"


def test_last_number_and_yes_no():
  assert ax.last_number("She pays 3 * 400 = 1,200 dollars. So the answer is 1,200.") == "1200"
  assert ax.last_number("It is 12.50 dollars") == "12.5"
  assert ax.last_number("#### 72", is_target=True) == "72"
  assert ax.last_number("no digits") == ""
  assert [ax.yes_no(t) for t in ("Yes.", "So the answer is no.", "True", "maybe")] == [
      "yes", "no", "yes", ""]
