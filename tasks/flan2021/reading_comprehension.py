"""Reading comprehension (SQuAD v1/v2, DROP, MultiRC, OpenBookQA, BoolQ) and reading
comprehension with commonsense (ReCoRD, CosmosQA)."""

from __future__ import annotations

from flan_jax.data.templates import Template, TemplateSet

from flan_jax_tasks.flan2021 import tfds_fields as F
from flan_jax_tasks.flan2021.adapters import Adapter

UNANSWERABLE = "unanswerable"
# The options renderer labels at most 26 choices; ReCoRD passages can name more entities.
MAX_CHOICES = 26
YES_NO = ("no", "yes")

EXTRACTIVE_QA = TemplateSet(
    name="extractive_qa", fields=("context", "question", "answer"),
    templates=(
        Template("read_answer", "Read this and answer the question.\n\n{context}\n\n{question}"),
        Template("passage_question", "Passage: {context}\n\nQuestion: {question}\nAnswer:"),
        Template("question_first", "{question}\n\nFind the answer in the text below.\n\n{context}"),
        Template("using_the_text",
                 "Using only the text below, answer: {question}\n\nText:\n{context}"),
        Template("article", "Here is an article:\n{context}\n\nBased on it, {question}"),
        Template("short_answer",
                 "{context}\n\nGive a short answer to this question about the passage: {question}"),
        Template("quiz", "Reading quiz.\n\n{context}\n\nQ: {question}\nA:"),
        Template("look_up", "Look up the answer in the passage.\nQuestion: {question}\n"
                            "Passage: {context}"),
        Template("answer_from_context", "Context: {context}\nQ: {question}\nReply with the "
                                        "answer from the context."),
        Template("what_does_it_say", "{context}\n\nWhat does the passage say? {question}"),
    ),
    inverted=(
        Template("ask_for_answer",
                 "{context}\n\nWrite a question about the passage whose answer is \"{answer}\".",
                 "{question}"),
        Template("question_writer", "Answer: {answer}\n\nRead the text and write the question "
                                    "this answer responds to.\n\n{context}", "{question}"),
    ),
)

# SQuAD: a Wikipedia paragraph under its article's title.
TITLED_EXTRACTIVE_QA = TemplateSet(
    name="titled_extractive_qa", fields=("title", "context", "question", "answer"),
    templates=(
        Template("read_answer", "Read this passage about {title} and answer the "
                                "question.\n\n{context}\n\n{question}"),
        Template("title_passage", "Title: {title}\n\n{context}\n\nQuestion: {question}\n"
                                  "Answer:"),
        Template("question_first", "{question}\n\nFind the answer in this paragraph from the "
                                   "article \"{title}\".\n\n{context}"),
        Template("using_the_text", "Using only the text below, answer: {question}\n\nText:\n"
                                   "{context}"),
        Template("topic", "Here is a paragraph on {title}:\n{context}\n\nBased on it, "
                          "{question}"),
        Template("short_answer", "{context}\n\nGive a short answer to this question about "
                                 "the passage: {question}"),
        Template("quiz", "Reading quiz on {title}.\n\n{context}\n\nQ: {question}\nA:"),
        Template("look_up", "Look up the answer in the passage.\nQuestion: {question}\n"
                            "Passage ({title}): {context}"),
        Template("answer_from_context", "Context: {context}\nQ: {question}\nReply with the "
                                        "answer from the context."),
        Template("encyclopedia", "From an encyclopedia article on {title}:\n\n{context}\n\n"
                                 "{question}"),
    ),
    inverted=(
        Template("ask_for_answer", "{context}\n\nWrite a question about {title} that this "
                                   "passage answers with \"{answer}\".", "{question}"),
        Template("question_writer", "Answer: {answer}\n\nRead the text and write the question "
                                    "this answer responds to.\n\n{context}", "{question}"),
    ),
)

# BoolQ: a Wikipedia passage with its page title, a yes/no question.
TITLED_YES_NO = TemplateSet(
    name="titled_yes_no", fields=("title", "context", "question", "options", "answer"),
    options_field="options",
    templates=(
        Template("read_choose", "{title}\n\n{context}\n\nQuestion: {question}?\n{options}"),
        Template("passage_then_q", "Passage about {title}:\n{context}\n\nBased on the "
                                   "passage, {question}?\n{options}"),
        Template("q_first", "{question}?\n\nUse this text on {title} to answer:\n{context}\n"
                            "{options}"),
        Template("true_or_not", "{context}\n\nIs it true that {question}?\n{options}"),
        Template("answer_this", "Read the text and answer the question.\n\n{title}: "
                                "{context}\n\n{question}?\n{options}"),
        Template("can_we_conclude", "{context}\n\nCan we conclude that {question}?\n"
                                    "{options}"),
        Template("yes_or_no", "Article: {title}\n{context}\nQuestion: {question}? Answer yes "
                              "or no.\n{options}"),
        Template("check", "Check the passage, then answer.\n{context}\n{question}?\n"
                          "{options}"),
    ),
    inverted=(
        Template("write_question", "{title}\n\n{context}\n\nWrite a yes/no question about "
                                   "this text whose answer is \"{answer}\".", "{question}"),
    ),
)

PASSAGE_CHOICE_QA = TemplateSet(
    name="passage_choice_qa", fields=("context", "question", "options", "answer"),
    options_field="options",
    templates=(
        Template("read_choose", "{context}\n\nQuestion: {question}\n{options}"),
        Template("passage_then_q", "Passage:\n{context}\n\nBased on the passage, "
                                   "{question}\n{options}"),
        Template("q_first", "{question}\n\nUse this text to answer:\n{context}\n{options}"),
        Template("background", "Background: {context}\nQ: {question}\n{options}\nA:"),
        Template("answer_this", "Read the text and answer the question.\n\n{context}\n\n"
                                "{question}\n{options}"),
        Template("consider", "Consider the following.\n{context}\n\nNow answer: "
                             "{question}\n{options}"),
        Template("test_item", "Test item.\nText: {context}\nQuestion: {question}\n{options}"),
        Template("pick_best", "{context}\n{question}\nPick the best answer.\n{options}"),
    ),
    inverted=(
        Template("write_question", "{context}\n\nWrite a question about the text whose answer "
                                   "is \"{answer}\".", "{question}"),
        Template("what_was_asked", "Text: {context}\nAnswer: {answer}\n\nWhat was the question?",
                 "{question}"),
    ),
)

ANSWER_CHECK = TemplateSet(
    name="answer_check", fields=("context", "question", "response", "options", "answer"),
    options_field="options",
    templates=(
        Template("is_it_correct", "{context}\n\nQuestion: {question}\nResponse: {response}\n\n"
                                  "Is the response correct?\n{options}"),
        Template("grade", "Grade this answer.\nText: {context}\nQ: {question}\nProposed answer: "
                          "{response}\nIs it right?\n{options}"),
        Template("would_you_accept", "{context}\n\nSomeone answered \"{question}\" with "
                                     "\"{response}\". Is that accurate?\n{options}"),
        Template("true_or_not", "Read the paragraph, then say whether the answer fits the "
                                "question.\n\n{context}\n\n{question} -> {response}\n{options}"),
        Template("verify", "Paragraph: {context}\nQuestion: {question}\nCandidate answer: "
                           "{response}\nDoes the paragraph support the candidate "
                           "answer?\n{options}"),
    ),
)

CLOZE = TemplateSet(
    name="cloze", fields=("context", "question", "options", "answer"), options_field="options",
    templates=(
        Template("fill", "{context}\n\nIn the sentence below, what does @placeholder stand for?"
                         "\n{question}\n{options}"),
        Template("complete", "Read the news story and fill in @placeholder.\n\n{context}\n\n"
                             "{question}\n{options}"),
        Template("which_entity", "{context}\n\nWhich entity goes where @placeholder is?\n"
                                 "{question}\n{options}"),
        Template("missing_name", "Story:\n{context}\n\nSentence with a missing name: {question}\n"
                                 "What is the missing name?\n{options}"),
        Template("continue", "{context}\n\nNext sentence: {question}\nReplace @placeholder with "
                             "the right entity.\n{options}"),
    ),
)


def _squad(unanswerable_text=None):
  """SQuAD: the first gold answer; v2's unanswerable questions answer `unanswerable_text`,
  v1 rows without an answer are dropped."""
  def to_record(ex):
    answer = F.first_or(ex["answers"]["text"], unanswerable_text or "")
    return {"title": _wiki_title(ex["title"]), "context": ex["context"], "question": ex["question"],
            "answer": answer}
  keep = None if unanswerable_text else (lambda ex: _has_items(ex["answers"]["text"]))
  return Adapter(TITLED_EXTRACTIVE_QA, to_record, keep=keep)


def _wiki_title(title):
  """SQuAD titles are page names (`University_of_Notre_Dame`): underscores become spaces."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return tf.strings.regex_replace(title, "_", " ")


def _has_items(seq):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return tf.size(seq) > 0


def _openbookqa(ex):
  q = ex["question"]
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  choices = tf.stack([q["choice_A"], q["choice_B"], q["choice_C"], q["choice_D"]])
  return {"context": ex["fact1"], "question": q["stem"], "options": choices,
          "answer": F.pick_from(choices, ex["answerKey"])}


def _cosmos(ex):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  choices = tf.stack([ex["answer0"], ex["answer1"], ex["answer2"], ex["answer3"]])
  return {"context": ex["context"], "question": ex["question"], "options": choices,
          "answer": F.pick_from(choices, ex["label"])}


def _record(ex):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  answer = F.first_or(ex["answers"])
  passage = tf.strings.regex_replace(ex["passage"], r"@highlight\n", "- ")
  return {"context": passage, "question": ex["query"],
          "options": F.at_most(F.with_answer(F.unique(ex["entities"]), answer), answer,
                               MAX_CHOICES),
          "answer": answer}


ADAPTERS = {
    "squad_v1": _squad(),
    "squad_v2": _squad(UNANSWERABLE),
    "drop": Adapter(EXTRACTIVE_QA, lambda ex: {"context": ex["passage"],
                                               "question": ex["question"],
                                               "answer": ex["answer"]}),
    "multirc": Adapter(
        ANSWER_CHECK,
        lambda ex: {"context": ex["paragraph"], "question": ex["question"],
                    "response": ex["answer"], "options": F.choices(YES_NO),
                    "answer": F.pick(YES_NO, ex["label"])},
        keep=lambda ex: F.label_in_range(ex["label"], 0, 2)),
    "openbookqa": Adapter(PASSAGE_CHOICE_QA, _openbookqa),
    "bool_q": Adapter(
        TITLED_YES_NO,
        lambda ex: {"title": ex["title"], "context": ex["passage"], "question": ex["question"],
                    "options": F.choices(YES_NO), "answer": F.pick(YES_NO, ex["answer"])}),
    "record": Adapter(CLOZE, _record, keep=lambda ex: _has_items(ex["answers"])),
    "cosmos_qa": Adapter(PASSAGE_CHOICE_QA, _cosmos,
                         keep=lambda ex: F.label_in_range(ex["label"], 0, 4)),
}
