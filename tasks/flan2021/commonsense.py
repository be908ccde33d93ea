"""Commonsense: COPA, HellaSwag, StoryCloze, PIQA, all "pick the right continuation".

`ask` carries the dataset's own question (what happens next, how does the story end,
what was the cause ...), so one template set serves the four datasets.
"""

from __future__ import annotations

from flan_jax.data.templates import Template, TemplateSet

from flan_jax_tasks.flan2021 import tfds_fields as F
from flan_jax_tasks.flan2021.adapters import Adapter

CONTINUATION = TemplateSet(
    name="continuation", fields=("context", "ask", "options", "answer"), question_field="context",
    options_field="options",
    templates=(
        Template("plain", "{context}\n\n{ask}\n{options}"),
        Template("choose", "{ask}\n\n{context}\n{options}"),
        Template("most_likely", "{context}\n{ask} Pick the most sensible choice.\n{options}"),
        Template("common_sense", "Use common sense.\n\n{context}\n\n{ask}\n{options}"),
        Template("situation", "Situation: {context}\nQuestion: {ask}\n{options}\nAnswer:"),
        Template("which_fits", "Which option fits best?\n{context}\n{ask}\n{options}"),
        Template("reasonable", "{context}\n\n{ask} Choose the most reasonable answer.\n{options}"),
        Template("everyday", "An everyday scene: {context}\n{ask}\n{options}"),
        Template("pick_one", "{context}\n\n{options}\n\n{ask} Pick one."),
        Template("think", "Think about what normally happens.\n{context}\n{ask}\n{options}"),
    ),
    inverted=(
        Template("write_setup", "Write a short text for which \"{answer}\" is the natural "
                                "answer to the question \"{ask}\"", "{context}"),
    ),
)


def _copa(ex):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  ask = tf.where(tf.equal(ex["question"], "cause"), "What was the cause?",
                 "What happened as a result?")
  options = tf.stack([ex["choice1"], ex["choice2"]])
  return {"context": ex["premise"], "ask": ask, "options": options,
          "answer": F.pick_from(options, ex["label"])}


def _endings(ask, offset):
  """HellaSwag / StoryCloze: endings list and an index (StoryCloze counts from 1)."""
  def to_record(ex):
    return {"context": ex["context"], "ask": F.const(ask), "options": ex["endings"],
            "answer": F.pick_from(ex["endings"], ex["label"], offset)}
  return Adapter(CONTINUATION, to_record,
                 keep=lambda ex: F.index_in(ex["endings"], ex["label"], offset))


def _piqa(ex):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  options = tf.stack([ex["sol1"], ex["sol2"]])
  return {"context": ex["goal"], "ask": F.const("How would you do it?"), "options": options,
          "answer": F.pick_from(options, ex["label"])}


ADAPTERS = {
    "copa": Adapter(CONTINUATION, _copa, keep=lambda ex: F.label_in_range(ex["label"], 0, 2)),
    "hellaswag": _endings("What happens next?", 0),
    "story_cloze": _endings("How does the story end?", 1),
    "piqa": Adapter(CONTINUATION, _piqa, keep=lambda ex: F.label_in_range(ex["label"], 0, 2)),
}
