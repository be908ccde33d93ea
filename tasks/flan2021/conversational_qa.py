"""Conversational QA: QuAC (one question about a Wikipedia section per TFDS row) and CoQA
(a story with its whole chain of questions, answered in order)."""

from __future__ import annotations

from flan_jax.data.templates import Template, TemplateSet

from flan_jax_tasks.flan2021 import tfds_fields as F
from flan_jax_tasks.flan2021.adapters import Adapter

# QuAC marks questions the section cannot answer with this answer text.
QUAC_NO_ANSWER = "CANNOTANSWER"
NO_ANSWER_TEXT = "The text does not say."

SECTION_QA = TemplateSet(
    name="section_qa", fields=("topic", "background", "context", "question", "answer"),
    templates=(
        Template("about", "{background}\n\n{context}\n\nThe text above is about {topic}. "
                          "{question}"),
        Template("topic_first", "Topic: {topic}\nBackground: {background}\n\n{context}\n\n"
                                "Q: {question}\nA:"),
        Template("answer_from_section", "Answer the question from this part of an article on "
                                        "{topic}.\n\n{context}\n\nQuestion: {question}"),
        Template("chat", "We are talking about {topic}. {background}\nHere is what the "
                         "article says:\n{context}\n\nSo, {question}"),
        Template("quote", "{context}\n\nQuote the part of the text that answers: {question}"),
        Template("section", "Section on {topic}:\n{context}\n\n{question}\nIf the text does not "
                            "say, reply \"" + NO_ANSWER_TEXT + "\""),
        Template("context_first", "Some background: {background}\n\nNow read this section on "
                                  "{topic}:\n{context}\n\nAnswer: {question}"),
    ),
    inverted=(
        Template("ask", "{context}\n\nAsk a question about {topic} that this text answers with "
                        "\"{answer}\".", "{question}"),
    ),
)

STORY_DIALOG = TemplateSet(
    name="story_dialog", fields=("story", "questions", "answer"), question_field="questions",
    templates=(
        Template("answer_in_order", "{story}\n\nAnswer these questions in order:\n{questions}"),
        Template("numbered", "Read the story, then give a numbered answer to each question.\n\n"
                             "{story}\n\n{questions}"),
        Template("conversation", "{story}\n\nA reader asked one question after another:\n"
                                 "{questions}\n\nAnswer each of them."),
        Template("story_quiz", "Story:\n{story}\n\nQuestions:\n{questions}\n\nAnswers:"),
        Template("short_answers", "{questions}\n\nAnswer the questions above briefly, using "
                                  "this story:\n{story}"),
    ),
    inverted=(
        Template("questions_for_answers", "{story}\n\nHere are numbered answers about the story:"
                                          "\n{answer}\n\nWrite the question behind each answer.",
                 "{questions}"),
    ),
)


def _quac(ex):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  answer = ex["orig_answer"]["text"]
  answer = tf.where(tf.equal(answer, QUAC_NO_ANSWER), NO_ANSWER_TEXT, answer)
  topic = tf.strings.join([ex["title"], ex["section_title"]], separator=", ")
  return {"topic": topic, "background": ex["background"], "context": ex["context"],
          "question": ex["question"], "answer": answer}


def _coqa(ex):
  return {"story": ex["story"], "questions": F.numbered(ex["questions"]),
          "answer": F.numbered(ex["answers"]["input_text"])}


ADAPTERS = {
    "quac": Adapter(SECTION_QA, _quac),
    "coqa": Adapter(STORY_DIALOG, _coqa),
}
