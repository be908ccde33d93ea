"""Structured data to text: CommonGen (concepts), DART and WebNLG (triples), E2E (attribute
list). `data_kind` names the input so one template set reads right for each."""

from __future__ import annotations

from flan_jax.data.templates import Template, TemplateSet

from flan_jax_tasks.flan2021 import tfds_fields as F
from flan_jax_tasks.flan2021.adapters import Adapter

DATA_TO_TEXT = TemplateSet(
    name="data_to_text", fields=("data", "data_kind", "answer"), question_field="data",
    templates=(
        Template("describe", "Write a sentence that uses these {data_kind}:\n{data}"),
        Template("verbalize", "{data_kind}: {data}\n\nTurn them into fluent text."),
        Template("sentence", "Here are some {data_kind}.\n{data}\nWrite one sentence about them."),
        Template("put_into_words", "Put the following {data_kind} into words.\n\n{data}"),
        Template("generate", "Generate a short description from the {data_kind} below.\n{data}"),
        Template("natural", "{data}\n\nExpress the {data_kind} above as natural English."),
        Template("caption", "Given the {data_kind} \"{data}\", write a sentence that covers all of "
                            "them."),
        Template("summarize_data", "Data ({data_kind}): {data}\nText:"),
        Template("restaurant", "Using every item of these {data_kind}, write a sentence.\n{data}"),
        Template("story_line", "Compose a line of text from these {data_kind}: {data}"),
    ),
    inverted=(
        Template("extract", "List the {data_kind} that this sentence expresses.\n\n{answer}",
                 "{data}"),
        Template("structure", "{answer}\n\nWhat {data_kind} describe the sentence above?",
                 "{data}"),
    ),
)


def _adapter(field, kind, separator):
  def to_record(ex):
    value = ex[field]
    data = value if separator is None else F.join(value, separator)
    return {"data": data, "data_kind": F.const(kind), "answer": ex["target"]}
  return Adapter(DATA_TO_TEXT, to_record)


ADAPTERS = {
    "common_gen": _adapter("concepts", "concepts", ", "),
    "dart": _adapter("tripleset", "subject | relation | object triples", "; "),
    "e2e_nlg": _adapter("meaning_representation", "restaurant attributes", None),
    "web_nlg_en": _adapter("input", "subject | relation | object triples", "; "),
}
