"""Sentiment: IMDB, Sentiment140, Yelp polarity, SST-2; `text_kind` names the kind of text
(movie review, tweet, ...) so one template set reads right for each."""

from __future__ import annotations

from flan_jax.data.templates import Template, TemplateSet

from flan_jax_tasks.flan2021 import tfds_fields as F
from flan_jax_tasks.flan2021.adapters import Adapter

POLARITY = ("negative", "positive")

SENTIMENT = TemplateSet(
    name="sentiment", fields=("text", "text_kind", "options", "answer"), question_field="text",
    options_field="options",
    templates=(
        Template("how_feel", "{text}\n\nHow does the writer of this {text_kind} feel?\n{options}"),
        Template("sentiment_of", "What is the sentiment of this {text_kind}?\n\n{text}\n{options}"),
        Template("label", "{text_kind}: {text}\nSentiment:\n{options}"),
        Template("positive_or_negative", "Is this {text_kind} positive or "
                                         "negative?\n{text}\n{options}"),
        Template("tone", "Describe the tone of the following "
                         "{text_kind}.\n\n\"{text}\"\n{options}"),
        Template("liked_it", "{text}\n\nDid the author of this {text_kind} like what they "
                             "wrote about?\n{options}"),
        Template("classify", "Classify the {text_kind} below by sentiment.\n{text}\n{options}"),
        Template("mood", "Here is a {text_kind}:\n{text}\n\nWhat mood does it express?\n{options}"),
        Template("opinion", "Read this {text_kind} and say whether the opinion in it is good or "
                            "bad.\n\n{text}\n{options}"),
        Template("quick", "{text}\nSentiment of this {text_kind}?\n{options}"),
    ),
    inverted=(
        Template("write", "Write a {answer} {text_kind}.", "{text}"),
        Template("example", "Give an example of a {text_kind} with a {answer} sentiment.",
                 "{text}"),
    ),
)


def _labelled(kind, names=POLARITY, field="text"):
  def to_record(ex):
    return {"text": ex[field], "text_kind": F.const(kind), "options": F.choices(POLARITY),
            "answer": F.pick(names, ex["label"])}
  return Adapter(SENTIMENT, to_record, keep=lambda ex: F.label_in_range(ex["label"], 0, 2))


def _tweet(ex):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  answer = tf.where(ex["polarity"] > 2, "positive", "negative")
  return {"text": ex["text"], "text_kind": F.const("tweet"), "options": F.choices(POLARITY),
          "answer": answer}


ADAPTERS = {
    "imdb_reviews": _labelled("movie review"),
    # Sentiment140 polarity: 0 negative, 4 positive, 2 neutral (test split only; dropped).
    "sentiment140": Adapter(SENTIMENT, _tweet, keep=lambda ex: ex["polarity"] != 2),
    "yelp_polarity_reviews": _labelled("Yelp review"),
    "sst2": _labelled("movie review sentence", field="sentence"),
}
