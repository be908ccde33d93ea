"""Summarization (AESLC, CNN/DailyMail, Gigaword, Multi-News, Newsroom, SAMSum, XSum,
opinion abstracts, WikiLingua) and AG News topic classification, which the collection
groups here. The shared set's `text_kind` / `summary_kind` carry each dataset's own words
("dialogue" / "summary", ...); datasets with more to say than a text and its summary (AESLC's
email, Newsroom's title, Rotten Tomatoes' movie and reviews, IDebate's debate and claim) have
sets of their own that use those fields."""

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
        Template("short_version", "Here is a {text_kind}:\n{text}\n\nWrite its "
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

EMAIL_SUBJECT = TemplateSet(
    name="email_subject", fields=("email", "answer"), question_field="email",
    templates=(
        Template("subject_for", "What subject line would you give this email?\n\n{email}"),
        Template("email_then_ask", "{email}\n\nSuggest a subject line for the email above."),
        Template("inbox", "An email arrived with no subject:\n\n{email}\n\nWrite one for it."),
        Template("subject_colon", "Email:\n{email}\n\nSubject:"),
        Template("few_words", "Sum up this email in a few words, as its subject line "
                              "would.\n\n{email}"),
        Template("before_sending", "Before sending this email, add a subject line.\n\n{email}"),
        Template("read_and_title", "Read the message below and write its subject "
                                   "line.\n\n{email}"),
        Template("what_subject", "{email}\n\nWhat was the subject of this email likely to be?"),
    ),
    inverted=(
        Template("write_email", "Write an email whose subject line is \"{answer}\".", "{email}"),
        Template("draft", "Subject: {answer}\n\nDraft the body of this email.", "{email}"),
    ),
)

NEWS_WITH_TITLE = TemplateSet(
    name="news_with_title", fields=("title", "text", "answer"), question_field="text",
    templates=(
        Template("title_text_summary", "{title}\n\n{text}\n\nSummarize this article in one or "
                                       "two sentences."),
        Template("headline_story", "Headline: {title}\nStory: {text}\n\nWhat is the story "
                                   "about, in short?"),
        Template("brief", "Give a brief summary of the news article \"{title}\".\n\n{text}"),
        Template("main_point", "{title}\n{text}\n\nWhat is the main point of this article?"),
        Template("summary_colon", "Article: {title}\n\n{text}\n\nSummary:"),
        Template("text_only", "{text}\n\nWrite a short summary of the article above."),
        Template("newsletter", "For a newsletter, summarize this article in a sentence or "
                               "two.\n\nTitle: {title}\n{text}"),
        Template("editor", "You are an editor. Write the summary line that goes under the "
                           "headline \"{title}\".\n\n{text}"),
    ),
    inverted=(
        Template("article_for_title", "Write a news article with the headline \"{title}\".",
                 "{text}"),
        Template("title_for_article", "{text}\n\nWrite a headline for this article.", "{title}"),
    ),
)

MOVIE_REVIEWS = TemplateSet(
    name="movie_reviews", fields=("movie", "reviews", "first_review", "answer"),
    question_field="reviews",
    templates=(
        Template("consensus_of", "Here are critics' reviews of {movie}:\n{reviews}\n\nWrite "
                                 "the critics' consensus in one sentence."),
        Template("reviews_then_ask", "{reviews}\n\nThese reviews are about the movie {movie}. "
                                     "What do the critics agree on?"),
        Template("movie_colon", "Movie: {movie}\nReviews:\n{reviews}\n\nConsensus:"),
        Template("one_line", "Sum up what critics thought of {movie}, based on these "
                             "reviews.\n\n{reviews}"),
        Template("overall", "What is the overall verdict of the critics on {movie}?\n\n"
                            "{reviews}"),
        Template("aggregator", "For a review aggregator page on {movie}, write a short "
                               "consensus from these reviews:\n{reviews}"),
        Template("first_and_rest", "One critic wrote about {movie}: \"{first_review}\"\n"
                                   "All the reviews:\n{reviews}\n\nWhat is the consensus?"),
    ),
    inverted=(
        Template("write_review", "Write a short review of the movie {movie} that fits this "
                                 "consensus: {answer}", "{first_review}"),
        Template("reviews_for", "The critics' consensus on {movie} is: \"{answer}\"\n\nWrite "
                                "a review a critic might have written.", "{first_review}"),
    ),
)

DEBATE_ARGUMENT = TemplateSet(
    name="debate_argument", fields=("debate", "argument", "answer"), question_field="argument",
    templates=(
        Template("claim_of", "Debate: {debate}\n\nArgument:\n{argument}\n\nState the claim "
                             "this argument makes in one sentence."),
        Template("argument_then_ask", "{argument}\n\nThis argument is from a debate on "
                                      "\"{debate}\". What is its main claim?"),
        Template("point", "In a debate on {debate}, a speaker argued:\n{argument}\n\nWhat "
                          "point were they making?"),
        Template("claim_colon", "Topic: {debate}\n{argument}\n\nClaim:"),
        Template("summarize", "Summarize the following debate argument as a single claim."
                              "\n\n{argument}"),
        Template("thesis", "What is the thesis of this argument about {debate}?\n\n"
                           "{argument}"),
    ),
    inverted=(
        Template("argue", "In a debate on \"{debate}\", write an argument supporting the "
                          "claim: {answer}", "{argument}"),
        Template("make_case", "Claim: {answer}\nDebate: {debate}\n\nMake the case for this "
                              "claim.", "{argument}"),
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


def _rotten_tomatoes(ex):
  reviews = ex["_critics"]["value"]
  return {"movie": ex["_movie_name"], "reviews": F.join(reviews, "\n"),
          "first_review": F.first_or(reviews), "answer": ex["_critic_consensus"]}


ADAPTERS = {
    "aeslc": Adapter(EMAIL_SUBJECT,
                     lambda ex: {"email": ex["email_body"], "answer": ex["subject_line"]}),
    "cnn_dailymail": _summary("article", "highlights", "news article", "list of highlights"),
    "gigaword": _summary("document", "summary", "news sentence", "headline"),
    "multi_news": _summary("document", "summary", "set of news articles", "summary"),
    "newsroom": Adapter(NEWS_WITH_TITLE, lambda ex: {"title": ex["title"], "text": ex["text"],
                                                     "answer": ex["summary"]}),
    "samsum": _summary("dialogue", "summary", "dialogue", "summary"),
    "xsum": _summary("document", "summary", "BBC article", "one-sentence summary"),
    "opinion_abstracts_rotten_tomatoes": Adapter(MOVIE_REVIEWS, _rotten_tomatoes),
    "opinion_abstracts_idebate": Adapter(
        DEBATE_ARGUMENT,
        lambda ex: {"debate": ex["_debate_name"],
                    "argument": F.join(ex["_argument_sentences"]["value"], " "),
                    "answer": ex["_claim"]}),
    "wiki_lingua_english_en": _summary("source", "target", "how-to article", "summary"),
    "ag_news_subset": Adapter(
        TOPIC,
        lambda ex: {"title": ex["title"], "text": ex["description"],
                    "options": F.choices(TOPICS), "answer": F.pick(TOPICS, ex["label"])},
        keep=lambda ex: F.label_in_range(ex["label"], 0, 4)),
}
