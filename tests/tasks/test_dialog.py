"""Dialog collection: wiki_dialog and qrecc through TFDS (mocked), turns after the sixth."""

import os
import subprocess
import sys

import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from flan_jax.readers import tfds_check
from flan_jax_tasks import dialog
from tests.tasks.conftest import rendered, exported


def utterances(d, n):
  return [f"d{d} line {k}" for k in range(n)]


WIKI_LENGTHS = (5, 7, 10, 6, 9, 8, 12, 7)  # dialogs of 5 and 6 turns have no turn after the sixth
WIKI_KEPT = (1, 2, 4, 5, 6, 7)
QRECC_CONTEXTS = (3, 5, 8, 4, 6, 7, 9, 5)  # an answer is turn len(context) + 2
QRECC_KEPT = (1, 2, 4, 5, 6, 7)


def fake_tfds(builder, split, **unused):
  """Records in each builder's real feature layout (see the TFDS builders)."""
  del unused
  if builder.name == "wiki_dialog":
    dialogs = [utterances(d, n) for d, n in enumerate(WIKI_LENGTHS)]
    return tf.data.Dataset.from_tensor_slices({
        "title": [f"Topic {d}" for d in range(len(dialogs))],
        "pid": [str(d) for d in range(len(dialogs))],
        "passage": ["p"] * len(dialogs),
        "sentences": tf.ragged.constant([["s"]] * len(dialogs)),
        "utterances": tf.ragged.constant(dialogs),
        "author_num": tf.ragged.constant([[k % 2 for k in range(n)] for n in WIKI_LENGTHS]),
    }).map(lambda ex: {k: v.to_tensor() if isinstance(v, tf.RaggedTensor) else v
                       for k, v in ex.items()})
  assert builder.name == "q_re_cc" and split in ("train", "test"), (builder.name, split)
  rows = list(enumerate(QRECC_CONTEXTS))
  return tf.data.Dataset.from_tensor_slices({
      "context": tf.ragged.constant([utterances(d, n) for d, n in rows]),
      "question": [f"q{d}?" for d, _ in rows], "question_rewrite": ["r"] * len(rows),
      "answer": [f"a{d}." for d, _ in rows], "answer_url": ["u"] * len(rows),
      "conversation_id": [d for d, _ in rows], "turn_id": [n // 2 + 1 for _, n in rows],
      "source": ["QuAC"] * len(rows),
  }).map(lambda ex: {k: v.to_tensor() if isinstance(v, tf.RaggedTensor) else v
                     for k, v in ex.items()})


@pytest.fixture
def mocked_tfds(monkeypatch):
  # mock_data does not mark the builders prepared; the prepared check has its own tests.
  monkeypatch.setattr(tfds_check, "require_prepared", lambda *a, **k: None)
  with tfds.testing.mock_data(as_dataset_fn=fake_tfds):
    yield


def _spec(name):
  return next(s for s in dialog.datasets() if s.name == name)


def test_two_datasets_from_tfds():
  specs = dialog.datasets()
  assert [s.name for s in specs] == ["wiki_dialog", "qrecc"]
  assert [s.data.name for s in specs] == ["wiki_dialog/OQ:1.0.0", "q_re_cc:1.0.0"]
  assert all(s.data.kind == "tfds" and not s.data.manual for s in specs)
  assert all(s.data.how_to_get == "" for s in specs)  # preflight prints `tfds build` itself
  assert _spec("qrecc").tasks == ("dialog.qrecc:zs_noopt", "dialog.qrecc:fs_noopt",
                                  "dialog.qrecc:inv")
  code = ("import sys; from flan_jax_tasks import dialog; dialog.datasets(); "
          "assert 'tensorflow' not in sys.modules and 'seqio' not in sys.modules")
  subprocess.run([sys.executable, "-c", code], check=True,
                 env=dict(os.environ, PYTHONPATH=os.getcwd()))


def _next_turn_prompts(context, title=None):
  out = {f"Continue this conversation with the next turn.\n\n{context}",
         f"{context}\n\nWhat is the next line of the conversation?",
         f"Dialog so far:\n{context}\n\nNext turn:",
         f"Here is a conversation.\n{context}\nWrite the reply that comes next."}
  if title:
    out.add(f"A conversation about {title}.\n{context}\nNext turn:")
  return out


def test_wiki_dialog_predicts_a_turn_after_the_sixth(mocked_tfds):
  assert dialog.register_dataset(_spec("wiki_dialog"), render_seed=0) == list(
      _spec("wiki_dialog").tasks)
  rows = rendered("dialog.wiki_dialog:zs_noopt")
  assert len(rows) == len(WIKI_KEPT)  # the 5- and 6-turn dialogs are dropped
  for d, r in zip(WIKI_KEPT, rows):
    lines = utterances(d, WIKI_LENGTHS[d])
    k = lines.index(r["targets"])
    assert k >= 6  # the seventh turn or later
    assert r["inputs"] in _next_turn_prompts("\n".join(lines[:k]), f"Topic {d}")
  # A 7-turn dialog can only end at its last turn.
  assert [rows[0]["targets"], rows[-1]["targets"]] == ["d1 line 6", "d7 line 6"]
  inverted = rendered("dialog.wiki_dialog:inv")
  assert len(inverted) == len(WIKI_KEPT)
  for d, r in zip(WIKI_KEPT, inverted):
    lines = utterances(d, WIKI_LENGTHS[d])
    k = r["targets"].count("\n") + 1
    assert r["targets"] == "\n".join(lines[:k]) and k >= 6
    assert lines[k] in r["inputs"]
  few = rendered("dialog.wiki_dialog:fs_noopt")
  assert len(few) == len(WIKI_KEPT) and all(r["inputs"].count("line 0") >= 2 for r in few)


def test_qrecc_predicts_the_answer(mocked_tfds):
  dialog.register_dataset(_spec("qrecc"), render_seed=0)
  for split in ("train", "validation"):  # validation reads TFDS's test split
    rows = rendered("dialog.qrecc:zs_noopt", split)
    assert [r["targets"] for r in rows] == [f"a{d}." for d in QRECC_KEPT]  # turn 7 or later
    for d, r in zip(QRECC_KEPT, rows):
      context = "\n".join(utterances(d, QRECC_CONTEXTS[d]) + [f"q{d}?"])
      assert r["inputs"] in _next_turn_prompts(context)
  inverted = rendered("dialog.qrecc:inv")
  assert [r["targets"] for r in inverted] == [
      "\n".join(utterances(d, QRECC_CONTEXTS[d]) + [f"q{d}?"]) for d in QRECC_KEPT]
  assert len(rendered("dialog.qrecc:fs_noopt")) == len(QRECC_KEPT)
  assert sorted(r["targets"] for r in exported("dialog.qrecc:zs_noopt")) == sorted(
      f"a{d}." for d in QRECC_KEPT)


def test_counts_fall_back_to_the_catalog_when_not_prepared(mocked_tfds):
  import seqio  # pylint: disable=g-import-not-at-top
  dialog.register_dataset(_spec("qrecc"), render_seed=0)
  source = seqio.get_mixture_or_task("dialog.qrecc:zs_noopt").source
  assert source.num_input_examples("train") == 63_501
  assert source.num_input_examples("validation") == 16_451
