"""The single-dataset clusters: math (linear equations), word sense (WiC), linguistic
acceptability (CoLA), question classification (TREC) and language modelling (LAMBADA)."""

from __future__ import annotations

from flan_jax.data.templates import Template, TemplateSet

from flan_jax_tasks.flan2021 import tfds_fields as F
from flan_jax_tasks.flan2021.adapters import Adapter

YES_NO = ("no", "yes")
ACCEPTABILITY = ("unacceptable", "acceptable")
# TREC coarse labels in TFDS order (DESC, ENTY, ABBR, HUM, NUM, LOC), as words.
QUESTION_TYPES = ("description", "entity", "abbreviation", "person", "number", "location")

MATH = TemplateSet(
    name="math", fields=("question", "answer"),
    templates=(
        Template("solve", "{question}"),
        Template("math_problem", "Math problem: {question}\nAnswer:"),
        Template("what_is", "{question}\nWhat is the solution?"),
        Template("algebra", "Solve this algebra problem.\n\n{question}"),
        Template("find", "Find the value. {question}"),
        Template("homework", "Homework question: {question}\nGive only the number."),
    ),
    inverted=(
        Template("make_problem", "Write a linear equation problem whose solution is {answer}.",
                 "{question}"),
    ),
)

WORD_SENSE = TemplateSet(
    name="word_sense", fields=("word", "first", "second", "sense", "options", "answer"),
    question_field="word", options_field="options",
    templates=(
        Template("same_sense", "{first}\n{second}\n\nIs \"{word}\" used with the same meaning in "
                               "both sentences?\n{options}"),
        Template("meaning", "Does the word \"{word}\" mean the same thing in \"{first}\" and "
                            "\"{second}\"?\n{options}"),
        Template("sense_check", "Word: {word}\nSentence 1: {first}\nSentence 2: {second}\nSame "
                                "sense?\n{options}"),
        Template("compare", "Compare how \"{word}\" is used here.\nA: {first}\nB: {second}\n"
                            "Is it the same meaning?\n{options}"),
        Template("dictionary", "Would one dictionary definition of \"{word}\" cover both of "
                               "these uses?\n{first}\n{second}\n{options}"),
    ),
    inverted=(
        Template("write_pair", "Write two sentences that use the word \"{word}\" {sense}.",
                 "{first}\n{second}"),
    ),
)

ACCEPTABLE = TemplateSet(
    name="acceptable", fields=("sentence", "options", "answer"), question_field="sentence",
    options_field="options",
    templates=(
        Template("grammatical", "Is this sentence grammatically "
                                "acceptable?\n{sentence}\n{options}"),
        Template("judge", "{sentence}\n\nWould a native speaker accept the sentence "
                          "above?\n{options}"),
        Template("linguist", "As a linguist, judge this sentence: \"{sentence}\"\n{options}"),
        Template("well_formed", "Sentence: {sentence}\nIs it well formed?\n{options}"),
        Template("check", "Check the grammar of the following sentence.\n\n{sentence}\n{options}"),
        Template("correct_english", "\"{sentence}\" - is this correct English?\n{options}"),
    ),
    inverted=(
        Template("write", "Write a sentence that a linguist would call grammatically {answer}.",
                 "{sentence}"),
    ),
)

QUESTION_TYPE = TemplateSet(
    name="question_type", fields=("question", "options", "answer"), options_field="options",
    templates=(
        Template("what_kind", "What kind of thing does this question ask "
                              "for?\n\n{question}\n{options}"),
        Template("answer_type", "{question}\n\nWhat type of answer would this question "
                                "need?\n{options}"),
        Template("classify", "Classify the question by the type of its answer.\nQuestion: "
                             "{question}\n{options}"),
        Template("is_about", "Is the question \"{question}\" asking about a person, a place, a "
                             "number, a thing, an abbreviation or a description?\n{options}"),
        Template("category", "Question: {question}\nAnswer category:\n{options}"),
        Template("expect", "Someone asks: {question}\nWhat would the reply be?\n{options}"),
    ),
    inverted=(
        Template("ask", "Write a question whose answer is a {answer}.", "{question}"),
    ),
)

LAST_WORD = TemplateSet(
    name="last_word", fields=("context", "answer"), question_field="context",
    templates=(
        Template("next_word", "{context}\n\nWhat is the next word?"),
        Template("complete", "Complete the passage with one word.\n\n{context}"),
        Template("finish", "Finish the last sentence of this text:\n{context}"),
        Template("predict", "Predict the final word.\n{context} ..."),
        Template("missing", "The last word of this passage is missing. What is it?\n\n{context}"),
        Template("continue", "{context}"),
    ),
)


def _math(ex):
  """Unwraps the b'...\\n' bytes-literal form some math_dataset exports carry."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  def clean(s):
    s = tf.strings.regex_replace(tf.strings.strip(s), r"^b(['\"])(.*?)(?:\\n)?['\"]$", r"\2")
    return tf.strings.strip(s)
  return {"question": clean(ex["question"]), "answer": clean(ex["answer"])}


def _wic(ex):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  label = tf.cast(ex["label"], tf.int32)
  sense = tf.gather(tf.constant(["with two different meanings", "with the same meaning"]), label)
  return {"word": ex["word"], "first": ex["sentence1"], "second": ex["sentence2"],
          "sense": sense, "options": F.choices(YES_NO), "answer": F.pick(YES_NO, label)}


def _lambada(ex):
  """The passage without its last word, and that word."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  words = tf.strings.split(tf.strings.strip(ex["passage"]))
  return {"context": tf.strings.reduce_join(words[:-1], separator=" "),
          "answer": F.first_or(words[-1:])}


def _two_words(ex):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return tf.size(tf.strings.split(tf.strings.strip(ex["passage"]))) > 1


ADAPTERS = {
    "math_dataset": Adapter(MATH, _math),
    "wic": Adapter(WORD_SENSE, _wic, keep=lambda ex: F.label_in_range(ex["label"], 0, 2)),
    "cola": Adapter(
        ACCEPTABLE,
        lambda ex: {"sentence": ex["sentence"], "options": F.choices(ACCEPTABILITY),
                    "answer": F.pick(ACCEPTABILITY, ex["label"])},
        keep=lambda ex: F.label_in_range(ex["label"], 0, 2)),
    "trec": Adapter(
        QUESTION_TYPE,
        lambda ex: {"question": ex["text"], "options": F.choices(QUESTION_TYPES),
                    "answer": F.pick(QUESTION_TYPES, ex["label-coarse"])},
        keep=lambda ex: F.label_in_range(ex["label-coarse"], 0, 6)),
    "lambada": Adapter(LAST_WORD, _lambada, keep=_two_words),
}
