"""Held-in suite: each record mapping written out by hand, and one TFDS read on mock data."""

import numpy as np

from flan_jax_tasks import held_in


def test_eight_datasets_on_the_flan2021_tfds_sources():
  specs = held_in.datasets()
  assert [s.name for s in specs] == ["bool_q", "arc_easy", "arc_challenge",
                                     "ai2_science_middle", "anli_r1", "anli_r2", "anli_r3", "rte"]
  assert specs[3].data.name == "unified_qa/ai2_science_middle:1.0.0"
  assert specs[0].data.how_to_get == ""  # preflight prints `tfds build bool_q:1.0.0 ...`
  assert held_in.task_name("rte") == "held_in.rte:zs_opt"


def test_record_mappings():
  row = held_in.arc_row({"question": b"Which is a gas?", "answerKey": b"B",
                         "choices": {"label": np.array([b"A", b"B"]),
                                     "text": np.array([b"ice", b"steam"])}})
  assert row == {"inputs": "Question: Which is a gas?\nOPTIONS:\n- ice\n- steam\nAnswer:",
                 "targets": "steam", "choices": ["ice", "steam"]}
  row = held_in.anli_row({"context": b"A cat sleeps.", "hypothesis": b"An animal rests.",
                          "label": 0})
  assert row["targets"] == "yes" and row["choices"] == ["yes", "it is not possible to tell", "no"]
  assert held_in.rte_row({"premise": b"p", "hypothesis": b"h", "label": 1})["targets"] == "no"
  row = held_in.bool_q_row({"passage": b"Water is wet.", "question": b"is water wet",
                            "answer": True})
  assert row["inputs"].startswith("Water is wet.\n\nQuestion: is water wet?\n")
  assert row["targets"] == "yes"
  assert held_in.ai2_science_row({"input": b"q (A) x (B) y", "output": b"y"}) == {
      "inputs": "q (A) x (B) y\nAnswer:", "targets": "y"}


def test_reads_tfds_when_built(monkeypatch):
  import seqio
  import tensorflow_datasets as tfds
  spec = next(s for s in held_in.datasets() if s.name == "rte")
  seqio.TaskRegistry.remove(held_in.task_name("rte"))
  held_in.register_dataset(spec, check_prepared=False)
  task = seqio.TaskRegistry.get("held_in.rte:zs_opt")
  with tfds.testing.mock_data(num_examples=3):
    rows = list(task.get_dataset({"inputs": 128, "targets": 8}, split="validation",
                                 shuffle=False).as_numpy_iterator())
  assert len(rows) == 3
  assert {r["targets_pretokenized"].decode() for r in rows} <= {"yes", "no"}
  assert all(list(r["choices"]) == [b"yes", b"no"] for r in rows)
