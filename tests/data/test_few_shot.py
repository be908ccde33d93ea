"""Few-shot prompts: 2, 3 or 5 exemplars (cut and counted, never 1 or 4), a seeded pool from
the whole train split, exemplars apart from option lines, instruction placement.

Byte vocabularies make token counts hand-computable: one token per byte.
"""

import collections
import dataclasses
import re

import pytest
import seqio

from flan_jax.data import few_shot
from flan_jax.data import formats
from flan_jax.data import layout
from flan_jax.data import registration
from flan_jax.data import testing
from flan_jax.data.templates import Template, TemplateSet
from tests.data import byte_tokens

LENGTHS = {"inputs": 1 << 20, "targets": 1 << 20}


FEATURES = byte_tokens.features()


@pytest.fixture(autouse=True)
def _forget_registered_tasks():
  before = set(seqio.TaskRegistry.names())
  yield
  for name in set(seqio.TaskRegistry.names()) - before:
    seqio.TaskRegistry.remove(name)


def _records(n, split="train"):
  """Question q{split}{i:04d} (6 bytes), answer a{i:04d} (5 bytes), two options."""
  tag = split[0]
  return [{"question": f"q{tag}{i:04d}", "answer": f"a{i:04d}", "options": [f"a{i:04d}", "zzzzz"],
           "idx": f"{split}/{i}"} for i in range(n)]


def _source(train, validation):
  data = {"train": train, "validation": validation}
  return seqio.FunctionDataSource(
      lambda split, shuffle_files: testing.records_dataset(data[split]),
      splits=("train", "validation"))


def _task(name, templates, fmts, train, validation, **kwargs):
  ts = TemplateSet(name=name, fields=("question", "answer", "options"), options_field="options",
                   templates=templates)
  names = registration.register_template_tasks("fs", ts, _source(train, validation), FEATURES,
                                               prompt_formats=fmts, **kwargs)
  return [seqio.get_mixture_or_task(n) for n in names]


def _rows(task, split="validation"):
  ds = task.get_dataset(LENGTHS, split=split, shuffle=False, use_cached=False)
  return [{k: (v.decode() if isinstance(v, bytes) else v) for k, v in r.items()
           if k in ("inputs_pretokenized", "targets_pretokenized", "num_exemplars", "template")}
          for r in ds.as_numpy_iterator()]


def _train_ids(prompt):
  return re.findall(r"qt(\d{4})", prompt)


QA_CUE = (Template("qa", "Q: {question}\nA:"),)


def test_counts_are_2_3_or_5_and_the_prompt_holds_that_many():
  (task,) = _task("counts", QA_CUE, ["fs_noopt"], _records(300), _records(60, "validation"))
  rows = _rows(task)
  assert len(rows) == 60
  seen = collections.Counter(r["num_exemplars"] for r in rows)
  assert set(seen) == {2, 3, 5}
  for r in rows:
    prompt = r["inputs_pretokenized"]
    assert len(_train_ids(prompt)) == r["num_exemplars"]
    assert prompt.endswith("A:") and prompt.count("Q: qv") == 1
    for i in _train_ids(prompt):  # Each exemplar answers with its own record's answer.
      assert f"Q: qt{i}\nA: a{i}" in prompt


def test_budget_cuts_to_an_allowed_count_and_counts_it():
  """Exemplar "Q: qtNNNN\\nA: aNNNN" = 18 bytes, query "Q: qvNNNN\\nA:" = 12, separator s in
  1..3 bytes after each exemplar: j exemplars take j * (18 + s) + 12 tokens. Budget 56: two
  fit (50 to 54), three never (69 to 75)."""
  validation = _records(40, "validation")
  (roomy,) = _task("budget", QA_CUE, ["fs_noopt"], _records(200), validation)
  wanted = [r["num_exemplars"] for r in _rows(roomy)]
  assert set(wanted) == {2, 3, 5}
  step = [p for p in roomy.preprocessors if getattr(p, "func", None) is few_shot.render_few_shot][0]
  spec = step.keywords["spec"]
  out = few_shot.render_few_shot(
      roomy.source.get_dataset("validation", shuffle=False), FEATURES,
      spec=dataclasses.replace(spec, token_budget=56), source=roomy.source)
  rows = list(out.as_numpy_iterator())
  assert [int(r["num_exemplars"]) for r in rows] == [2] * 40
  assert all(len(r["inputs"]) <= 56 for r in rows)
  assert few_shot.cut_examples(spec.task_name) == sum(k > 2 for k in wanted)
  assert few_shot.dropped_examples(spec.task_name) == 0


def test_below_two_exemplars_the_query_is_dropped_and_counted():
  """Budget 45: two exemplars need at least 2 * 19 + 12 = 50 tokens, so every query is dropped
  (a 1-shot prompt, 31 to 33 tokens, would have fit)."""
  (task,) = _task("tight", QA_CUE, ["fs_noopt"], _records(50), _records(20, "validation"),
                  token_budget=45)
  assert _rows(task) == []
  assert few_shot.dropped_examples(task.name) == 20


def test_pool_is_a_seeded_sample_of_the_whole_split_whatever_the_order():
  train = _records(3000)
  validation = _records(40, "validation")
  (task,) = _task("pool", QA_CUE, ["fs_noopt"], train, validation, pool_size=64)
  rows = _rows(task)
  used = {int(i) for r in rows for i in _train_ids(r["inputs_pretokenized"])}
  assert len(used) <= 64
  assert max(used) >= 1000  # Not the first records of the split.
  seqio.TaskRegistry.remove(task.name)
  (reordered,) = _task("pool", QA_CUE, ["fs_noopt"], train[::-1], validation, pool_size=64)
  assert _rows(reordered) == rows  # Same records in another order: same pool, same prompts.


def _option_and_lead_lines(prompt):
  """Checks that every line right after an option line is another option, a blank line, or
  an answer lead; returns the number of answered exemplars."""
  lines = prompt.split("\n")
  leads = tuple(lead + " " for lead in layout.ANSWER_LEADS)
  answered = 0
  for before, line in zip(lines, lines[1:]):
    if before.startswith("- "):
      assert line.startswith("- ") or line.startswith(leads) or line in layout.ANSWER_LEADS, prompt
    answered += line.startswith(leads)
  return answered


def test_exemplars_stay_apart_from_option_lines_with_every_separator():
  tasks = _task("apart", (Template("ask", "{question}\n{options}"),), ["fs_opt", "fsmix_opt"],
                _records(100), _records(50, "validation"))
  separators = collections.Counter()
  for task in tasks:
    for r in _rows(task):
      prompt = r["inputs_pretokenized"]
      assert _option_and_lead_lines(prompt) == r["num_exemplars"]
      separators["\n\n\n" if "\n\n\n" in prompt else "\n\n" if "\n\n" in prompt else "\n"] += 1
  assert set(separators) == {"\n", "\n\n", "\n\n\n"}


def test_instruction_sits_inline_before_or_after_the_exemplars():
  (task,) = _task("placed", (Template("solve", "Solve this.\nQ: {question}\nA:"),), ["fs_noopt"],
                  _records(100), _records(90, "validation"))
  where = collections.Counter()
  for r in _rows(task):
    prompt, k = r["inputs_pretokenized"], r["num_exemplars"]
    n = prompt.count("Solve this.")
    if n == k + 1:
      where["inline"] += 1
      continue
    assert n == 1, prompt
    at = prompt.index("Solve this.")
    if at == 0:
      where["before"] += 1
    else:  # Once, after every exemplar, right above the query.
      where["after"] += 1
      assert at > prompt.rindex("Q: qt")
      assert prompt[at:].startswith("Solve this.\nQ: qv")
  assert set(where) == {"inline", "before", "after"}


def test_fs_cot_draws_five_too_and_puts_the_cue_before_the_answer_cue():
  ts = TemplateSet(name="cotfs", fields=("question", "answer", "why"), rationale_field="why",
                   templates=(Template("qa", "Q: {question}\nA:"),))
  train = [{"question": f"qt{i:04d}", "answer": f"a{i}", "why": f"because {i}."} for i in range(80)]
  validation = [dict(r, question=r["question"].replace("qt", "qv")) for r in train[:40]]
  (name,) = registration.register_template_tasks("fs", ts, _source(train, validation), FEATURES,
                                                 prompt_formats=["fs_cot"])
  rows = _rows(seqio.get_mixture_or_task(name))
  assert {r["num_exemplars"] for r in rows} == {2, 3, 5}
  for r in rows:
    prompt = r["inputs_pretokenized"]
    last = prompt.split("\n")
    assert last[-1] == "A:" and last[-2] in formats.COT_CUES
    assert prompt.count(f"{formats.COT_ANSWER_PHRASE} a") == r["num_exemplars"]


def test_the_format_description_states_the_real_count():
  assert formats.describe("fsmix_opt", 2).endswith("; 2 exemplars")
  assert "5 exemplars" not in formats.describe("fsmix_opt", 2)
  assert formats.describe("fs_noopt").endswith("2, 3 or 5 exemplars")
  assert all(formats.FORMATS[f].shots == (2, 3, 5) for f in formats.FORMATS
             if formats.FORMATS[f].few_shot)


def test_pool_is_drawn_from_the_first_pool_scan_limit_train_records():
  """A huge split is not scanned whole: exemplars come from its first N records only."""
  (task,) = _task("scan", QA_CUE, ["fs_noopt"], _records(400), _records(30, "validation"),
                  pool_scan_limit=12, pool_size=8)
  used = {int(i) for r in _rows(task) for i in _train_ids(r["inputs_pretokenized"])}
  assert used and max(used) < 12 and len(used) <= 8


def test_formats_of_a_dataset_share_one_scan_of_the_train_split_and_keep_their_pools(
    monkeypatch):
  """Inside shared_pool_scans, fs_opt and fs_noopt of one dataset read its train split once
  (counted at the source) and render exactly the prompts they render one by one; a scan
  larger than MAX_SHARED_SCAN_BYTES is not kept."""
  train, validation = _records(300), _records(20, "validation")
  reads = collections.Counter()

  def dataset_fn(split, shuffle_files):
    reads[split] += 1
    return testing.records_dataset({"train": train, "validation": validation}[split])

  ts = TemplateSet(name="shared", fields=("question", "answer", "options"),
                   options_field="options", templates=QA_CUE)
  source = seqio.FunctionDataSource(dataset_fn, splits=("train", "validation"))
  names = registration.register_template_tasks("fs", ts, source, FEATURES,
                                               prompt_formats=["fs_opt", "fs_noopt"], pool_size=32)
  tasks = [seqio.get_mixture_or_task(n) for n in names]
  alone = [_rows(t) for t in tasks]
  assert reads["train"] == 2
  reads.clear()
  with few_shot.shared_pool_scans():
    shared = [_rows(t) for t in tasks]
  assert reads["train"] == 1
  assert shared == alone
  assert {int(i) for r in alone[0] for i in _train_ids(r["inputs_pretokenized"])} != \
      {int(i) for r in alone[1] for i in _train_ids(r["inputs_pretokenized"])}  # Own pools.
  reads.clear()
  _rows(tasks[0])
  assert reads["train"] == 1  # Outside the block nothing is kept.
  scans, carried = few_shot.SharedScans(), []
  reads.clear()
  for task in tasks:  # One block per task, the scans carried from one to the next.
    with few_shot.shared_pool_scans(scans):
      carried.append(_rows(task))
  assert reads["train"] == 1 and carried == alone
  # The scan's text: 300 questions of 6 bytes, answers of 5, options "a0000" + "zzzzz" (10),
  # and ids "train/0" .. "train/299" (10 x 7 + 90 x 8 + 200 x 9 = 2,590 bytes).
  scan_bytes = 300 * (6 + 5 + 10) + 2590
  monkeypatch.setattr(few_shot, "MAX_SHARED_SCAN_BYTES", scan_bytes - 1)
  reads.clear()
  with few_shot.shared_pool_scans():
    assert [_rows(t) for t in tasks] == alone
  assert reads["train"] == 2
  monkeypatch.setattr(few_shot, "MAX_SHARED_SCAN_BYTES", scan_bytes)
  reads.clear()
  with few_shot.shared_pool_scans():
    assert [_rows(t) for t in tasks] == alone
  assert reads["train"] == 1
