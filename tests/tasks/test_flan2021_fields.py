"""Our flan2021 templates read every informative field FLAN's templates read, and read
naturally on a real-looking record.

FLAN_FIELDS lists, for the datasets where FLAN's templates (google-research/FLAN
flan/v2/templates.py) use more than a text and its label, the TFDS features they read; the
records are hand-written in each TFDS builder's feature layout. Each listed feature's text
must show up in the rendered prompt or target of at least one of our templates.
"""

import pytest
import tensorflow as tf

from flan_jax.data import formats
from flan_jax.data import templates as templates_lib
from flan_jax.data import testing
import flan_jax_tasks.flan2021 as flan2021

SQUAD = {"id": "5733be284776f41900661182", "title": "University_of_Notre_Dame",
         "context": "Architecturally, the school has a Catholic character. Atop the Main "
                    "Building's gold dome is a golden statue of the Virgin Mary.",
         "question": "What sits on top of the Main Building?",
         "answers": {"text": ["a golden statue of the Virgin Mary"], "answer_start": [92]}}
RECORDS = {
    "squad_v1": SQUAD,
    "squad_v2": dict(SQUAD, is_impossible=False, plausible_answers={
        "text": tf.constant([], tf.string), "answer_start": tf.constant([], tf.int32)}),
    "bool_q": {"title": "Persian language",
               "passage": "Persian is a western Iranian language belonging to the Iranian "
                          "branch of the Indo-Iranian subdivision.",
               "question": "do iran and afghanistan speak the same language",
               "answer": True},
    "newsroom": {"title": "City council approves new bike lanes",
                 "text": "The council voted 7-2 on Tuesday to add protected bike lanes on "
                         "three downtown streets.",
                 "summary": "Protected lanes are coming to three downtown streets.",
                 "url": "http://example.com/a", "date": "20160101",
                 "density": 1.5, "coverage": 0.8, "compression": 12.0,
                 "density_bin": "medium", "coverage_bin": "high", "compression_bin": "low"},
    "quac": {"title": "Frankie Valli", "section_title": "1960s",
             "background": "Frankie Valli is an American singer, known as the frontman of "
                           "the Four Seasons.",
             "context": "In 1962 the Four Seasons released Sherry, which reached number one.",
             "question": "What did they release in 1962?",
             "orig_answer": {"text": "Sherry", "answer_start": 36},
             "answers": {"texts": ["Sherry"], "answer_starts": [36]},
             "followup": "y", "yesno": "x", "dialogue_id": "C_1", "turn_id": "C_1_q#0"},
    "openbookqa": {"question": {"stem": "Which of these would let the most heat travel "
                                        "through?",
                                "choice_A": "a new pair of jeans", "choice_B": "a steel spoon",
                                "choice_C": "a cotton candy", "choice_D": "a calvin klein "
                                                                          "cotton hat"},
                   "fact1": "Metal is a thermal conductor.", "answerKey": 1,
                   "humanScore": 1.0, "clarity": 2.0, "turkIdAnonymized": "b356d338b7"},
    "opinion_abstracts_rotten_tomatoes": {
        "_movie_name": "Toy Story", "_movie_id": "toy_story",
        "_critics": {"key": ["c1", "c2"],
                     "value": ["A funny, clever film for all ages.",
                               "Pixar's first feature is a landmark."]},
        "_critic_consensus": "Entertaining and groundbreaking."},
    "opinion_abstracts_idebate": {
        "_debate_name": "This house would ban smoking in public places",
        "_debate_id": "d1", "_claim": "Second-hand smoke harms bystanders.", "_claim_id": "c1",
        "_argument_sentences": {"key": ["s1", "s2"],
                                "value": ["Passive smoking causes disease.",
                                          "Non-smokers cannot avoid it in bars."]}},
    "aeslc": {"email_body": "Hi team, the quarterly review moves to Friday at 10am.\n",
              "subject_line": "Quarterly review rescheduled"},
}
# (record path -> text) that FLAN's templates read for each dataset.
FLAN_FIELDS = {
    "squad_v1": ("title", "context", "question", "answers.text"),
    "squad_v2": ("title", "context", "question", "answers.text"),
    "bool_q": ("title", "passage", "question"),
    "newsroom": ("title", "text", "summary"),
    "quac": ("title", "background", "context", "question", "orig_answer.text"),
    "openbookqa": ("fact1", "question.stem", "question.choice_B"),
    "opinion_abstracts_rotten_tomatoes": ("_movie_name", "_critics.value",
                                          "_critic_consensus"),
    "opinion_abstracts_idebate": ("_debate_name", "_argument_sentences.value", "_claim"),
    "aeslc": ("email_body", "subject_line"),
}


def _lookup(record, path):
  value = record
  for part in path.split("."):
    value = value[part]
  return value


def _tensors(value):
  if isinstance(value, dict):
    return {k: _tensors(v) for k, v in value.items()}
  return value if isinstance(value, tf.Tensor) else tf.constant(value)


def _rendered(name):
  """Every template's (inputs, targets) on the dataset's record, in its zero-shot formats."""
  adapter = flan2021.adapter_for(name)
  ts = adapter.template_set_for(name)
  record = adapter.to_record(_tensors(RECORDS[name]))
  py = {k: ([x.decode() for x in v.numpy()] if v.shape.rank == 1 else v.numpy().decode())
        for k, v in record.items()}
  supported = {f.name for f in formats.formats_for(ts)}
  out = []
  for fmt in ("zs_opt", "zs_noopt", "inv"):
    if fmt not in supported:
      continue
    for t in formats.templates_for(ts, formats.FORMATS[fmt]):
      out += testing.render_records(ts, [py], fmt, template=t.name)
  return out


@pytest.mark.parametrize("name", sorted(FLAN_FIELDS))
def test_templates_use_every_field_flan_uses(name):
  rows = _rendered(name)
  text = "\n".join(r["inputs"] + "\n" + r["targets"] for r in rows)
  for path in FLAN_FIELDS[name]:
    value = _lookup(RECORDS[name], path)
    values = value if isinstance(value, list) else [value]
    for v in values:
      v = v.strip().replace("_", " ") if path == "title" else v.strip()
      assert v in text, f"{name}: no template shows {path} ({v!r})"
  for r in rows:
    testing.assert_no_placeholders(r["inputs"] + r["targets"])
    assert " a email" not in r["inputs"].lower(), r["inputs"]
    assert "sum it up as a" not in r["inputs"].lower(), r["inputs"]


def test_squad_title_reads_as_words():
  rows = _rendered("squad_v1")
  assert any("University of Notre Dame" in r["inputs"] for r in rows)
  assert not any("University_of" in r["inputs"] for r in rows)


def test_no_template_set_drops_a_field():
  """For all 71 datasets: every text field a record carries is read by some template
  (regular or inverted), so no field is mapped only to be dropped."""
  for name, adapter in sorted(flan2021.all_adapters().items()):
    ts = adapter.template_set
    used = set()
    for t in ts.templates + ts.inverted:
      used |= set(templates_lib.placeholders(t.input)) | set(templates_lib.placeholders(t.target))
    unused = set(ts.text_fields()) - used - {ts.answer_field}
    assert not unused, f"{name}: fields {sorted(unused)} are mapped but no template reads them"
