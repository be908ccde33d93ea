"""Coreference: WinoGrande (fill the blank), WSC (does the pronoun mean this noun?) and
the Definite Pronoun Resolution dataset (which candidate does the pronoun mean?)."""

from __future__ import annotations

from flan_jax.data.templates import Template, TemplateSet

from flan_jax_tasks.flan2021 import tfds_fields as F
from flan_jax_tasks.flan2021.adapters import Adapter

YES_NO = ("no", "yes")

BLANK = TemplateSet(
    name="blank", fields=("sentence", "options", "answer"), question_field="sentence",
    options_field="options",
    templates=(
        Template("fill", "Fill in the blank (_).\n\n{sentence}\n{options}"),
        Template("who", "{sentence}\n\nWho or what does the _ stand for?\n{options}"),
        Template("complete", "Complete the sentence: {sentence}\n{options}"),
        Template("blank_is", "In \"{sentence}\", the blank is\n{options}"),
        Template("best_fit", "Which choice fits best in the gap?\n{sentence}\n{options}"),
        Template("missing", "{sentence}\nWhat is missing where the underscore is?\n{options}"),
    ),
)

PRONOUN_CHOICE = TemplateSet(
    name="pronoun_choice", fields=("sentence", "pronoun", "options", "answer"),
    question_field="sentence", options_field="options",
    templates=(
        Template("refers", "{sentence}\n\nWho does \"{pronoun}\" refer to?\n{options}"),
        Template("resolve", "Resolve the pronoun \"{pronoun}\" in this sentence: "
                            "{sentence}\n{options}"),
        Template("means", "In the sentence \"{sentence}\", what does \"{pronoun}\" "
                          "mean?\n{options}"),
        Template("stands_for", "Sentence: {sentence}\nPronoun: {pronoun}\nWhich noun does the "
                               "pronoun stand for?\n{options}"),
        Template("who_is", "{sentence}\nHere \"{pronoun}\" is\n{options}"),
    ),
)

PRONOUN_CHECK = TemplateSet(
    name="pronoun_check", fields=("sentence", "pronoun", "noun", "options", "answer"),
    question_field="sentence", options_field="options",
    templates=(
        Template("same_thing", "{sentence}\n\nDoes \"{pronoun}\" refer to {noun}?\n{options}"),
        Template("check", "Sentence: {sentence}\nIn this sentence, is \"{pronoun}\" the same as "
                          "\"{noun}\"?\n{options}"),
        Template("reader", "A reader thinks that \"{pronoun}\" in the text below means {noun}. "
                           "Are they right?\n\n{sentence}\n{options}"),
        Template("coreference", "Coreference question. Text: {sentence}\nDo \"{noun}\" and "
                                "\"{pronoun}\" name the same thing?\n{options}"),
        Template("replace", "{sentence}\n\nCould you replace \"{pronoun}\" with \"{noun}\" "
                            "without changing the meaning?\n{options}"),
    ),
)


def _winogrande(ex):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  options = tf.stack([ex["option1"], ex["option2"]])
  return {"sentence": ex["sentence"], "options": options,
          "answer": F.pick_from(options, ex["label"])}


ADAPTERS = {
    "winogrande": Adapter(BLANK, _winogrande, keep=lambda ex: F.label_in_range(ex["label"], 0, 2)),
    "wsc": Adapter(
        PRONOUN_CHECK,
        lambda ex: {"sentence": ex["text"], "pronoun": ex["span2_text"], "noun": ex["span1_text"],
                    "options": F.choices(YES_NO), "answer": F.pick(YES_NO, ex["label"])},
        keep=lambda ex: F.label_in_range(ex["label"], 0, 2)),
    "definite_pronoun_resolution": Adapter(
        PRONOUN_CHOICE,
        lambda ex: {"sentence": ex["sentence"], "pronoun": ex["pronoun"],
                    "options": ex["candidates"],
                    "answer": F.pick_from(ex["candidates"], ex["label"])},
        keep=lambda ex: F.index_in(ex["candidates"], ex["label"])),
}
