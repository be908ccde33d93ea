"""Summarization (AESLC, CNN/DailyMail, Gigaword, Multi-News, Newsroom, SAMSum, XSum,
opinion abstracts, WikiLingua) and AG News topic classification, which the collection
groups here. `text_kind` / `summary_kind` carry each dataset's own words ("email" /
"subject line", "dialogue" / "summary", ...)."""

from __future__ import annotations

from flan_jax.data.templates import Template, TemplateSet

from flan_jax_tasks.flan2021 import tfds_fields as F
from flan_jax_tasks.flan2021.adapters import Adapter

SUMMARIZE = TemplateSet(
    name="summarize", fields=("text", "text_kind", "summary_kind", "answer"),
    question_field="text",
    templates=(
        Template("write_for", "Write a {summary_kind} for this {text_kind}:\n\n{text}"),
        Template("text_then_ask", "{text}\n\nWhat is a good {summary_kind} for the {text_kind} "
                                  "above?"),
        Template("short_version", "Here is a {text_kind}.\n{text}\n\nSum it up as a "
                                  "{summary_kind}."),
        Template("tldr", "{text}\n\nTL;DR ({summary_kind}):"),
        Template("brief", "Give a brief {summary_kind} of the following {text_kind}.\n\n{text}"),
        Template("condense", "Condense this {text_kind} into a {summary_kind}.\n\n{text}"),
        Template("main_points", "{text_kind}:\n{text}\n\n{summary_kind}:"),
        Template("what_is_it_about", "Read the {text_kind} and write its "
                                     "{summary_kind}.\n\n{text}"),
        Template("summary_please", "{text}\n\nCould you write a {summary_kind} of that "
                                   "{text_kind}?"),
        Template("key_idea", "Capture the key idea of this {text_kind} in a "
                             "{summary_kind}.\n\n{text}"),
    ),
    inverted=(
        Template("expand", "Write a {text_kind} that fits this {summary_kind}:\n\n{answer}",
                 "{text}"),
        Template("from_summary", "{summary_kind}: {answer}\n\nNow write the {text_kind} it "
                                 "came from.", "{text}"),
    ),
)

TOPIC = TemplateSet(
    name="topic", fields=("title", "text", "options", "answer"), question_field="text",
    options_field="options",
    templates=(
        Template("section", "{title}\n\n{text}\n\nWhich section of a newspaper is this article "
                            "from?\n{options}"),
        Template("topic_of", "What is this news story about?\n\n{title}. {text}\n{options}"),
        Template("classify", "Classify the news article by topic.\nTitle: {title}\nText: "
                             "{text}\n{options}"),
        Template("headline", "Headline: {title}\n{text}\n\nTopic:\n{options}"),
        Template("category", "{text}\n\nPick the category of this article.\n{options}"),
        Template("desk", "Which news desk would cover this story?\n\"{title}\" - "
                         "{text}\n{options}"),
        Template("label", "{title}: {text}\nLabel the topic.\n{options}"),
        Template("subject", "Read the article and say which subject it "
                            "covers.\n\n{title}\n{text}\n{options}"),
    ),
    inverted=(
        Template("write_headline", "Write a headline for a {answer} news story.", "{title}"),
        Template("write_article", "Write a short {answer} news article titled \"{title}\".",
                 "{text}"),
    ),
)

# AG News label order (TFDS ClassLabel names World, Sports, Business, Sci/Tech).
TOPICS = ("World", "Sports", "Business", "Science/Tech")


def _summary(text, summary, text_kind, summary_kind):
  def to_record(ex):
    return {"text": ex[text], "text_kind": F.const(text_kind),
            "summary_kind": F.const(summary_kind), "answer": ex[summary]}
  return Adapter(SUMMARIZE, to_record)


def _values(field, summary, text_kind, summary_kind):
  """Opinion abstracts: a list of (key, value) texts joined into one document."""
  def to_record(ex):
    return {"text": F.join(ex[field]["value"], "\n"), "text_kind": F.const(text_kind),
            "summary_kind": F.const(summary_kind), "answer": ex[summary]}
  return Adapter(SUMMARIZE, to_record)


ADAPTERS = {
    "aeslc": _summary("email_body", "subject_line", "email", "subject line"),
    "cnn_dailymail": _summary("article", "highlights", "news article", "list of highlights"),
    "gigaword": _summary("document", "summary", "news sentence", "headline"),
    "multi_news": _summary("document", "summary", "set of news articles", "summary"),
    "newsroom": _summary("text", "summary", "news article", "summary"),
    "samsum": _summary("dialogue", "summary", "dialogue", "summary"),
    "xsum": _summary("document", "summary", "BBC article", "one-sentence summary"),
    "opinion_abstracts_rotten_tomatoes": _values("_critics", "_critic_consensus",
                                                 "set of movie reviews", "critics' consensus"),
    "opinion_abstracts_idebate": _values("_argument_sentences", "_claim", "debate argument",
                                         "one-sentence claim"),
    "wiki_lingua_english_en": _summary("source", "target", "how-to article", "summary"),
    "ag_news_subset": Adapter(
        TOPIC,
        lambda ex: {"title": ex["title"], "text": ex["description"],
                    "options": F.choices(TOPICS), "answer": F.pick(TOPICS, ex["label"])},
        keep=lambda ex: F.label_in_range(ex["label"], 0, 4)),
}
