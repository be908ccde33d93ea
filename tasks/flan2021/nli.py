"""Natural language inference: ANLI, CB, RTE, MNLI, QNLI, WNLI, SNLI.

Labels become answer text: three-way sets answer yes / it is not possible to tell / no,
two-way sets yes / no. `relation` words the label for the inverted templates.
"""

from __future__ import annotations

from flan_jax.data.templates import Template, TemplateSet

from flan_jax_tasks.flan2021 import tfds_fields as F
from flan_jax_tasks.flan2021.adapters import Adapter

THREE_WAY = ("yes", "it is not possible to tell", "no")
TWO_WAY = ("yes", "no")
# How each answer reads in "Write a sentence that ... the text" (inverted templates).
_RELATION_3 = {"yes": "follows from", "it is not possible to tell":
               "is neither confirmed nor ruled out by", "no": "contradicts"}
_RELATION_2 = {"yes": "follows from", "no": "does not follow from"}

NLI = TemplateSet(
    name="nli", fields=("premise", "hypothesis", "relation", "options", "answer"),
    question_field="hypothesis", options_field="options",
    templates=(
        Template("does_it_follow", "{premise}\n\nDoes it follow that \"{hypothesis}\"?\n{options}"),
        Template("premise_hypothesis",
                 "Premise: {premise}\nHypothesis: {hypothesis}\n\nIs the hypothesis supported by "
                 "the premise?\n{options}"),
        Template("read_then_judge",
                 "Read the passage below and decide whether the statement after it is true.\n\n"
                 "{premise}\n\nStatement: {hypothesis}\n{options}"),
        Template("can_we_conclude",
                 "{premise}\nBased on that, can we conclude that {hypothesis}?\n{options}"),
        Template("given_that", "Given that \"{premise}\", is it true that "
                               "\"{hypothesis}\"?\n{options}"),
        Template("sentence_pair",
                 "Sentence A: {premise}\nSentence B: {hypothesis}\n\nIf A is true, is B true as "
                 "well?\n{options}"),
        Template("context_claim",
                 "Context:\n{premise}\n\nClaim: {hypothesis}\nDoes the context back up the "
                 "claim?\n{options}"),
        Template("imply", "Does the text \"{premise}\" imply \"{hypothesis}\"?\n{options}"),
        Template("entailment_task",
                 "Textual entailment. Text: {premise}\nHypothesis: {hypothesis}\nAnswer whether "
                 "the text entails the hypothesis.\n{options}"),
        Template("question_after", "{premise}\n\nQuestion: is \"{hypothesis}\" true?\n{options}"),
    ),
    inverted=(
        Template("write_hypothesis",
                 "{premise}\n\nWrite a sentence that {relation} the text above.", "{hypothesis}"),
        Template("write_statement",
                 "Here is a passage:\n{premise}\n\nGive one statement that {relation} it.",
                 "{hypothesis}"),
    ),
)

QNLI = TemplateSet(
    name="qnli", fields=("question", "sentence", "options", "answer"), options_field="options",
    templates=(
        Template("does_it_answer",
                 "Does the sentence \"{sentence}\" answer the question \"{question}\"?\n{options}"),
        Template("question_sentence",
                 "Question: {question}\nSentence: {sentence}\n\nDoes the sentence contain the "
                 "answer to the question?\n{options}"),
        Template("can_you_answer",
                 "{sentence}\n\nCan the text above be used to answer \"{question}\"?\n{options}"),
        Template("is_it_enough",
                 "Is the following sentence enough to answer "
                 "\"{question}\"?\n{sentence}\n{options}"),
        Template("answer_found",
                 "I asked \"{question}\" and was told \"{sentence}\". Was my question answered?"
                 "\n{options}"),
        Template("check", "Check whether this sentence answers the question.\nQ: {question}\n"
                          "S: {sentence}\n{options}"),
    ),
)


def _nli_record(premise, hypothesis, answer, names):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  table = _RELATION_3 if len(names) == 3 else _RELATION_2
  relation = tf.gather(tf.constant([table[n] for n in names]),
                       tf.argmax(tf.cast(tf.equal(tf.constant(names), answer), tf.int32)))
  return {"premise": premise, "hypothesis": hypothesis, "relation": relation,
          "options": F.choices(names), "answer": answer}


def _labelled(order, names, premise="premise", hypothesis="hypothesis"):
  """An NLI adapter whose TFDS label i means answer order[i] (names: the choice list)."""
  def to_record(ex):
    return _nli_record(ex[premise], ex[hypothesis], F.pick(order, ex["label"]), names)
  return Adapter(NLI, to_record, keep=lambda ex: F.label_in_range(ex["label"], 0, len(order)))


_YES, _MAYBE, _NO = THREE_WAY
# TFDS label orders (ClassLabel names): anli e/n/c; cb entailment/contradiction/neutral;
# mnli and snli entailment/neutral/contradiction; rte entailment/not_entailment;
# wnli not_entailment/entailment; qnli entailment/not_entailment.
ADAPTERS = {
    "anli_r1": _labelled((_YES, _MAYBE, _NO), THREE_WAY, premise="context"),
    "anli_r2": _labelled((_YES, _MAYBE, _NO), THREE_WAY, premise="context"),
    "anli_r3": _labelled((_YES, _MAYBE, _NO), THREE_WAY, premise="context"),
    "cb": _labelled((_YES, _NO, _MAYBE), THREE_WAY),
    "rte": _labelled(("yes", "no"), TWO_WAY),
    "mnli_matched": _labelled((_YES, _MAYBE, _NO), THREE_WAY),
    "mnli_mismatched": _labelled((_YES, _MAYBE, _NO), THREE_WAY),
    "wnli": _labelled(("no", "yes"), TWO_WAY, premise="sentence1", hypothesis="sentence2"),
    "snli": _labelled((_YES, _MAYBE, _NO), THREE_WAY),
    "qnli": Adapter(
        QNLI,
        lambda ex: {"question": ex["question"], "sentence": ex["sentence"],
                    "options": F.choices(TWO_WAY), "answer": F.pick(("yes", "no"), ex["label"])},
        keep=lambda ex: F.label_in_range(ex["label"], 0, 2)),
}
