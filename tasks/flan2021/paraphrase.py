"""Paraphrase: MRPC, QQP, PAWS-Wiki (same meaning or not) and STS-B (similarity 0-5)."""

from __future__ import annotations

from flan_jax.data.templates import Template, TemplateSet

from flan_jax_tasks.flan2021 import tfds_fields as F
from flan_jax_tasks.flan2021.adapters import Adapter

YES_NO = ("no", "yes")
SCORES = ("0", "1", "2", "3", "4", "5")

SAME_MEANING = TemplateSet(
    name="same_meaning",
    fields=("first", "second", "pair_kind", "relation", "options", "answer"),
    question_field="first", options_field="options",
    templates=(
        Template("same", "{first}\n{second}\n\nDo these two {pair_kind} mean the same "
                         "thing?\n{options}"),
        Template("paraphrase", "Is the second one a paraphrase of the first?\n1: {first}\n"
                               "2: {second}\n{options}"),
        Template("equivalent", "Are these {pair_kind} "
                               "equivalent?\n\"{first}\"\n\"{second}\"\n{options}"),
        Template("rephrase", "{first}\n\nIs \"{second}\" a rewording of the text "
                             "above?\n{options}"),
        Template("same_info", "Do the following {pair_kind} say the same thing?\nA) {first}\n"
                              "B) {second}\n{options}"),
        Template("duplicate", "Here are two {pair_kind}.\n{first}\n{second}\nAre they "
                              "duplicates?\n{options}"),
        Template("meaning_check", "First: {first}\nSecond: {second}\nSame meaning?\n{options}"),
        Template("one_idea", "Check whether these {pair_kind} express one idea.\n\n{first}\n"
                             "{second}\n{options}"),
    ),
    inverted=(
        Template("write_pair", "Write a sentence that {relation} this one: {first}", "{second}"),
    ),
)

SIMILARITY = TemplateSet(
    name="similarity", fields=("first", "second", "options", "answer"), question_field="first",
    options_field="options",
    templates=(
        Template("rate", "{first}\n{second}\n\nRate how similar these sentences are from 0 "
                         "(unrelated) to 5 (same meaning).\n{options}"),
        Template("score", "Sentence 1: {first}\nSentence 2: {second}\nSimilarity score "
                          "(0-5):\n{options}"),
        Template("how_close", "How close in meaning are \"{first}\" and \"{second}\"? Answer "
                              "on a scale from 0 to 5.\n{options}"),
        Template("grade", "Give a similarity grade between 0 and 5.\nA: {first}\nB: "
                          "{second}\n{options}"),
        Template("compare", "Compare the two sentences and say how much they overlap in "
                            "meaning, 0 to 5.\n{first}\n{second}\n{options}"),
    ),
    inverted=(
        Template("write_similar", "Write a sentence whose similarity to the one below is "
                                  "{answer} out of 5.\n{first}", "{second}"),
    ),
)


def _pair(first, second, kind):
  def to_record(ex):
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    label = tf.cast(ex["label"], tf.int32)
    relation = tf.gather(tf.constant(["means something different from", "means the same as"]),
                         label)
    return {"first": ex[first], "second": ex[second], "pair_kind": F.const(kind),
            "relation": relation, "options": F.choices(YES_NO), "answer": F.pick(YES_NO, label)}
  return Adapter(SAME_MEANING, to_record, keep=lambda ex: F.label_in_range(ex["label"], 0, 2))


def _stsb(ex):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  score = tf.clip_by_value(tf.cast(tf.round(ex["label"]), tf.int32), 0, 5)
  return {"first": ex["sentence1"], "second": ex["sentence2"], "options": F.choices(SCORES),
          "answer": tf.strings.as_string(score)}


ADAPTERS = {
    "glue_mrpc": _pair("sentence1", "sentence2", "sentences"),
    "glue_qqp": _pair("question1", "question2", "questions"),
    "stsb": Adapter(SIMILARITY, _stsb),
    "paws_wiki": _pair("sentence1", "sentence2", "sentences"),
}
