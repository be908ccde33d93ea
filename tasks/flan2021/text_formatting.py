"""Text formatting tasks derived from the English side of ParaCrawl en-da: restore the
casing (true_case), the punctuation (fix_punct) or the spaces (word_segment)."""

from __future__ import annotations

from flan_jax.data.templates import Template, TemplateSet

from flan_jax_tasks.flan2021.adapters import Adapter


def _set(name, templates):
  return TemplateSet(name=name, fields=("text", "answer"), question_field="text",
                     templates=tuple(Template(n, p) for n, p in templates))


TRUE_CASE = _set("true_case", (
    ("fix_case", "Fix the capitalization of this sentence: {text}"),
    ("proper_case", "{text}\n\nRewrite the text above with proper upper and lower case letters."),
    ("capitalize", "Capitalize where needed:\n{text}"),
    ("casing", "Restore the casing.\nInput: {text}\nOutput:"),
    ("edit", "This was typed without capital letters. Please correct it.\n\n{text}"),
    ("sentence_case", "Make this read like properly written English: {text}"),
))

FIX_PUNCT = _set("fix_punct", (
    ("add_punct", "Add punctuation to this text: {text}"),
    ("missing", "{text}\n\nThe punctuation is missing from the text above. Put it back."),
    ("punctuate", "Punctuate:\n{text}"),
    ("restore", "Restore the commas, periods and other marks.\nInput: {text}\nOutput:"),
    ("edit", "Please edit this so it is correctly punctuated.\n\n{text}"),
    ("readable", "Make this readable by adding punctuation: {text}"),
))

WORD_SEGMENT = _set("word_segment", (
    ("add_spaces", "Add spaces between the words: {text}"),
    ("segment", "{text}\n\nThe spaces were removed from this text. Write it with spaces."),
    ("split_words", "Split this into words:\n{text}"),
    ("restore", "Restore the spaces.\nInput: {text}\nOutput:"),
    ("edit", "Someone typed this without the space bar. What did they mean?\n\n{text}"),
    ("separate", "Separate the words in \"{text}\"."),
))


def _lower(ex):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return {"text": tf.strings.lower(ex["en"], encoding="utf-8"), "answer": ex["en"]}


def _no_punct(ex):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  stripped = tf.strings.regex_replace(ex["en"], r"[\pP]+", "")
  return {"text": tf.strings.regex_replace(stripped, r"\s+", " "), "answer": ex["en"]}


def _no_spaces(ex):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return {"text": tf.strings.regex_replace(ex["en"], r"\s+", ""), "answer": ex["en"]}


ADAPTERS = {
    "true_case": Adapter(TRUE_CASE, _lower),
    "fix_punct": Adapter(FIX_PUNCT, _no_punct),
    "word_segment": Adapter(WORD_SEGMENT, _no_spaces),
}
