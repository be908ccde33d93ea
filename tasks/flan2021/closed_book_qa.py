"""Closed-book QA: TriviaQA, Natural Questions (open), ARC easy/challenge and the AI2
middle-school science questions of UnifiedQA."""

from __future__ import annotations

from flan_jax.data.templates import Template, TemplateSet

from flan_jax_tasks.flan2021 import tfds_fields as F
from flan_jax_tasks.flan2021.adapters import Adapter

OPEN_QA = TemplateSet(
    name="open_qa", fields=("question", "answer"),
    templates=(
        Template("plain", "{question}"),
        Template("answer_this", "Answer this question.\n\n{question}"),
        Template("qa", "Q: {question}\nA:"),
        Template("trivia", "Trivia time: {question}"),
        Template("short", "Give a short answer: {question}"),
        Template("know", "Do you know the answer? {question}"),
        Template("question_label", "Question: {question}\nAnswer:"),
        Template("one_phrase", "{question}\nReply with a name, a number or a short phrase."),
        Template("from_memory", "Without looking anything up, answer: {question}"),
        Template("quiz_master", "The quiz master asks: \"{question}\" What is the right answer?"),
    ),
    inverted=(
        Template("make_question", "Write a trivia question whose answer is \"{answer}\".",
                 "{question}"),
        Template("jeopardy", "The answer is: {answer}. What is the question?", "{question}"),
    ),
)

CHOICE_QA = TemplateSet(
    name="choice_qa", fields=("question", "options", "answer"), options_field="options",
    templates=(
        Template("plain", "{question}\n{options}"),
        Template("pick", "Pick the correct answer.\n\n{question}\n{options}"),
        Template("exam", "Exam question: {question}\n{options}\nAnswer:"),
        Template("science", "A science question. {question}\n{options}"),
        Template("q_a", "Q: {question}\n{options}\nA:"),
        Template("which", "Which choice answers the question best?\n{question}\n{options}"),
        Template("test", "{question}\n\nChoose the right option.\n{options}"),
        Template("student", "A student is asked: \"{question}\" What should they "
                            "answer?\n{options}"),
        Template("think", "Think about this question: {question}\n{options}"),
        Template("solve", "Solve this multiple-choice question.\n{question}\n{options}"),
    ),
    inverted=(
        Template("question_for", "Write a school quiz question whose answer is \"{answer}\".",
                 "{question}"),
    ),
)


def _arc(ex):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  choices = ex["choices"]
  hits = tf.cast(tf.equal(choices["label"], ex["answerKey"]), tf.int32)
  answer = F.first_or(tf.gather(choices["text"], tf.argmax(hits)[None]))
  return {"question": ex["question"], "options": choices["text"], "answer": answer}


def _has_choices(ex):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return tf.reduce_any(tf.equal(ex["choices"]["label"], ex["answerKey"]))


def _science(ex):
  """UnifiedQA rows: 'question \\n (A) x (B) y ...' -> question and choices; the output is
  the answer text (added to the choices when the parse misses it)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  source = tf.strings.regex_replace(ex["input"], r"\\n", "\n")
  parts = tf.strings.split(source, sep="(A)", maxsplit=1)
  question = tf.strings.strip(tf.strings.regex_replace(parts[0], r"\s+", " "))
  rest = tf.concat([parts[1:], [""]], axis=0)[0]
  pieces = tf.strings.strip(tf.strings.split(
      tf.strings.regex_replace(rest, r"\([B-H]\)", "\x1f"), sep="\x1f"))
  pieces = tf.boolean_mask(pieces, tf.strings.length(pieces) > 0)
  answer = tf.strings.strip(ex["output"])
  return {"question": question, "options": F.with_answer(pieces, answer), "answer": answer}


ADAPTERS = {
    "trivia_qa": Adapter(OPEN_QA, lambda ex: {"question": ex["question"],
                                              "answer": ex["answer"]["value"]}),
    "natural_questions": Adapter(
        OPEN_QA, lambda ex: {"question": ex["question"], "answer": F.first_or(ex["answer"])},
        keep=lambda ex: F.index_in(ex["answer"], 0)),
    "arc_challenge": Adapter(CHOICE_QA, _arc, keep=_has_choices),
    "arc_easy": Adapter(CHOICE_QA, _arc, keep=_has_choices),
    "unified_qa_science_inst": Adapter(CHOICE_QA, _science),
}
