"""The tf.data render step: options, no-options, CoT, inversion, dialog, seeding."""

import pytest

from flan_jax.data import formats
from flan_jax.data import options
from flan_jax.data import rendering
from flan_jax.data import testing
from flan_jax.data.templates import Template, TemplateSet

QA = TemplateSet(
    name="qa", fields=("question", "answer", "options", "why"), options_field="options",
    rationale_field="why",
    templates=(Template("plain", "Q: {question}\n{options}"),
               Template("ask", "Please answer: {question}\n{options}\nThanks.")),
    inverted=(Template("back", "Answer: {answer}\nWhat was asked?", "{question}"),),
)
RECORD = {"question": "Which is red?", "answer": "apple", "options": ["sky", "apple", "grass"],
          "why": "Apples are red."}


def test_no_options_format_drops_the_block():
  testing.assert_renders(QA, RECORD, "ask", inputs="Please answer: Which is red?\nThanks.",
                         targets="apple")


def test_fixed_options_form(monkeypatch):
  fmt = formats.PromptFormat("fixed_opt", "test", options=True, random_options=False)
  monkeypatch.setitem(formats.FORMATS, "fixed_opt", fmt)
  testing.assert_renders(QA, RECORD, "plain", prompt_format="fixed_opt",
                         inputs="Q: Which is red?\nChoices:\n- sky\n- apple\n- grass",
                         targets="apple")


def test_random_options_target_is_the_answer_marker():
  rows = testing.render_records(QA, [dict(RECORD, idx=str(i)) for i in range(40)], "zs_opt")
  styles = set()
  for row in rows:
    lines = row["inputs"].split("\n")
    marked = {ln.split(" ", 1)[1]: ln.split(" ", 1)[0] for ln in lines
              if " " in ln and ln.split(" ", 1)[1] in RECORD["options"]}
    assert set(marked) == set(RECORD["options"])
    marker = marked["apple"]
    styles.add(marker)
    assert row["targets"] == ("apple" if marker == "-" else marker)
  assert len(styles) >= 4  # several list styles are drawn.


def test_cot_target_is_rationale_phrase_answer():
  row = testing.render_records(QA, [RECORD], "cot", "plain")[0]
  assert row["targets"] == f"Apples are red. {formats.COT_ANSWER_PHRASE} apple"
  assert row["inputs"].split("\n")[-1] in formats.COT_CUES
  assert "Choices" not in row["inputs"]


def test_inverted_templates():
  row = testing.render_records(QA, [RECORD], "inv")[0]
  assert row == {"inputs": "Answer: apple\nWhat was asked?", "targets": "Which is red?",
                 "template": "qa/back", "prompt_format": "inv"}


def test_cot_inversion_uses_every_arrangement():
  rows = testing.render_records(QA, [dict(RECORD, idx=str(i)) for i in range(200)], "cot_inv")
  assert len({r["template"] for r in rows}) == 11
  for r in rows:
    testing.assert_no_placeholders(r["inputs"] + r["targets"])


def test_dialog_inversion_gives_the_earlier_turns():
  chat = TemplateSet(name="chat", fields=("turns",), turns_field="turns", answer_field="turn",
                     templates=(Template("next", "{context}\nNext?", "{turn}"),),
                     inverted=(Template("before", "{turn}\nBefore?", "{context}"),))
  turns = ["A: hi", "B: hello", "A: how are you?", "B: fine"]
  rows = testing.render_records(chat, [{"turns": turns, "idx": str(i)} for i in range(30)], "inv")
  for r in rows:
    turn = r["inputs"].split("\n")[0]
    cut = turns.index(turn)
    assert cut >= 1 and r["targets"] == "\n".join(turns[:cut])
  assert len({r["inputs"] for r in rows}) > 1  # the cut varies by example.


def test_same_seed_same_bytes_other_seed_differs():
  records = [dict(RECORD, idx=str(i)) for i in range(30)]
  a = testing.render_records(QA, records, "zs_opt", seed=1)
  b = testing.render_records(QA, records[::-1], "zs_opt", seed=1)[::-1]  # order-independent.
  c = testing.render_records(QA, records, "zs_opt", seed=2)
  assert a == b
  assert a != c


def test_options_tables_are_consistent():
  for style in options.MARKER_STYLES:
    assert len(style.markers) >= 26
    assert style.distinct == (len(set(style.markers)) == len(style.markers))


def test_templates_cover_fields_helper():
  testing.assert_templates_cover_fields(QA)
  lonely = TemplateSet(name="x", fields=("question", "answer", "extra"),
                       templates=(Template("t", "{question}"),))
  with pytest.raises(AssertionError, match="extra"):
    testing.assert_templates_cover_fields(lonely)


BAD = {"question": "Which is red?", "answer": "cherry", "options": ["sky", "apple", "grass"],
       "why": "Cherries are red.", "idx": "rec-7"}


def test_answer_not_among_options_is_refused_naming_task_record_and_options():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  with pytest.raises(tf.errors.InvalidArgumentError) as e:
    testing.render_records(QA, [dict(RECORD, idx="ok"), BAD], "zs_opt", task_name="mine.qa:zs_opt")
  # TensorFlow wraps the error; the CLI prints the one it was noted as (flan_jax.errors).
  from flan_jax import errors  # pylint: disable=g-import-not-at-top
  noted = errors.take_pipeline_error()
  expected = ("record 'rec-7' of task mine.qa:zs_opt has answer 'cherry', which is not among "
              "its options ['sky', 'apple', 'grass']. Fix the record (the answer must equal "
              "one option exactly), or register with answer_not_in_options='drop' to skip and "
              "count such records.")
  assert str(noted) == expected and expected in str(e.value)
  assert testing.render_records(QA, [BAD], "zs_noopt")  # No options listed: nothing to check.


def test_answer_not_among_options_can_be_dropped_and_counted():
  import seqio  # pylint: disable=g-import-not-at-top
  from flan_jax.data import registration  # pylint: disable=g-import-not-at-top
  from tests.data import byte_tokens  # pylint: disable=g-import-not-at-top
  records = [dict(RECORD, idx=str(i)) for i in range(5)] + [BAD]
  source = seqio.FunctionDataSource(
      lambda split, shuffle_files: testing.records_dataset(records), splits=("train",))
  (name,) = registration.register_template_tasks(
      "dropping", QA, source, byte_tokens.features(), prompt_formats=["zs_opt"],
      answer_not_in_options="drop")
  try:
    ds = seqio.get_mixture_or_task(name).get_dataset(
        {"inputs": 1 << 20, "targets": 1 << 20}, split="train", shuffle=False)
    assert len(list(ds)) == 5
    assert rendering.answers_not_in_options(name) == 1
  finally:
    seqio.TaskRegistry.remove(name)
  with pytest.raises(ValueError, match="answer_not_in_options='skip'"):
    registration.register_template_tasks("dropping", QA, source, byte_tokens.features(),
                                         prompt_formats=["zs_opt"], answer_not_in_options="skip")


def test_few_shot_pool_refuses_a_train_record_whose_answer_is_not_an_option():
  import seqio  # pylint: disable=g-import-not-at-top
  from flan_jax.data import few_shot, registration  # pylint: disable=g-import-not-at-top
  from tests.data import byte_tokens  # pylint: disable=g-import-not-at-top
  records = [dict(RECORD, idx=str(i)) for i in range(5)] + [BAD]
  source = seqio.FunctionDataSource(
      lambda split, shuffle_files: testing.records_dataset(records), splits=("train",))
  (name,) = registration.register_template_tasks(
      "pool_bad", QA, source, byte_tokens.features(), prompt_formats=["fs_opt"])
  try:
    with pytest.raises(few_shot.AnswerNotInOptionsError,
                       match=r"'rec-7' of task pool_bad\.qa:fs_opt has answer 'cherry'"):
      seqio.get_mixture_or_task(name).get_dataset({"inputs": 1 << 20, "targets": 1 << 20},
                                                  split="train", shuffle=False)
  finally:
    seqio.TaskRegistry.remove(name)
