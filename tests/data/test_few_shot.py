"""Few-shot prompts on real toy tasks: same-task train exemplars, never the query, budget."""

import collections

import pytest
import seqio

from flan_jax.data import catalog
from flan_jax.data import few_shot
from flan_jax.data import formats
from flan_jax.data import rendering
from flan_jax.data import vocab
from flan_jax.data.toy import source as toy_source

LENGTHS = {"inputs": 1 << 20, "targets": 1 << 20}


@pytest.fixture(scope="module", autouse=True)
def _catalog():
  catalog.register_catalog()


def _rows(name, split="validation", n=120):
  ds = seqio.get_mixture_or_task(name).get_dataset(LENGTHS, split=split, shuffle=False)
  return list(ds.take(n).as_numpy_iterator())


def _exemplars(prompt: str, query: str) -> list[str]:
  assert prompt.endswith(query)
  return [e for e in prompt[: -len(query)].split("\n\n") if e.strip()]


def test_prompts_fit_the_budget_and_end_with_the_query():
  toy_vocab = vocab.toy_vocabulary()
  for name in ("toy.arithmetic:fs_opt", "toy.entailment:fsmix_noopt"):
    for row in _rows(name, n=60):
      text = row["inputs_pretokenized"].decode()
      assert len(toy_vocab.encode(text)) <= 240
      assert len(row["inputs"]) <= 241  # + EOS.


def _unique_question_task(name, size):
  """A task whose train records each have a unique question, so copies are easy to count."""
  from flan_jax.data import registration
  from flan_jax.data import testing
  from flan_jax.data.templates import Template, TemplateSet
  records = [{"question": f"question number {i} here", "answer": f"answer {i}",
              "idx": f"train/{i}"} for i in range(size)]
  ts = TemplateSet(name=name, fields=("question", "answer"),
                   templates=(Template("q", "Q: {question}"), Template("r", "{question}?")))
  source = seqio.FunctionDataSource(
      lambda split, shuffle_files: testing.records_dataset(records), splits=("train",))
  features = {k: seqio.Feature(vocab.toy_vocabulary(), add_eos=True) for k in ("inputs", "targets")}
  registration.register_template_tasks("unit", ts, source, features,
                                       prompt_formats=["fs_noopt", "fsmix_noopt"], pool_size=size)
  return records


def test_never_the_query_itself_even_when_it_is_in_the_pool():
  records = _unique_question_task("uniq", size=6)  # pool of 6: every draw risks the query.
  for name in ("unit.uniq:fs_noopt", "unit.uniq:fsmix_noopt"):
    rows = _rows(name, split="train", n=6)
    assert len(rows) == 6
    for record, row in zip(records, rows):
      prompt = row["inputs_pretokenized"].decode()
      assert prompt.count(record["question"]) == 1  # "... here" ends each question.
      assert prompt.rstrip().endswith((record["question"], record["question"] + "?"))
      assert prompt.count("question number") >= 3  # query + at least 2 exemplars.


def test_exemplars_come_from_the_same_tasks_train_split():
  """Every exemplar of a list_ops prompt is a list_ops train record (input, then its answer)."""
  train = {(r["items"], r["answer"]) for r in toy_source.records("list_ops", "train")}
  for row in _rows("toy.list_ops:fs_noopt", n=40):
    lines = row["inputs_pretokenized"].decode().split("\n")
    shots = 0
    for i, line in enumerate(lines[:-1]):
      items = _items_of(line)
      if items is None or i + 2 >= len(lines):
        continue
      answer = lines[i + 2] if line.startswith("List:") else lines[i + 1]
      assert (items, answer) in train
      shots += 1
    assert shots >= 1


def _items_of(line: str):
  for prefix, end in (("List: ", None), ("Here are some words: ", ". Write"),
                      ("What is ", "?")):
    if line.startswith(prefix):
      body = line[len(prefix):]
      if prefix == "What is ":
        body = body.split("for this list: ", 1)[-1]
      return body.split(end)[0] if end else body
  return None


def test_shot_counts_and_separators_vary():
  counts, seps = collections.Counter(), collections.Counter()
  for row in _rows("toy.compare_numbers:fs_noopt", n=80):
    prompt = row["inputs_pretokenized"].decode()
    counts[prompt.count("?") + prompt.count("Name the") + prompt.count("Pick the") - 1] += 1
    for sep in ("\n\n\n\n", "\n\n\n", "\n\n"):
      if sep in prompt:
        seps[sep] += 1
        break
    else:
      seps["\n"] += 1
  assert len(seps) == 3
  assert set(counts) <= {1, 2, 3, 4, 5}
  assert len(counts) >= 2


def test_template_mix_uses_several_templates_in_one_prompt():
  mixed = 0
  for row in _rows("toy.category:fsmix_noopt", n=30):
    prompt = row["inputs_pretokenized"].decode()
    used = sum(marker in prompt for marker in ("Which of these is", "Find the", "Words:"))
    mixed += used >= 2
  assert mixed >= 20


def test_examples_that_cannot_fit_are_dropped_and_counted():
  name = "toy.arithmetic:fs_cot"
  spec_budget = 60  # smaller than any query with one exemplar.
  task = seqio.get_mixture_or_task(name)
  step = [p for p in task.preprocessors if getattr(p, "func", None) is few_shot.render_few_shot][0]
  spec = step.keywords["spec"]
  tight = rendering.RenderSpec(**{**spec.__dict__, "token_budget": spec_budget,
                                  "task_name": "test.tight:fs_cot"})
  ds = task.source.get_dataset("validation", shuffle=False).take(20)
  out = few_shot.render_few_shot(ds, task.output_features, spec=tight, source=task.source)
  assert list(out) == []
  assert few_shot.dropped_examples("test.tight:fs_cot") == 20
  assert formats.FORMATS["fs_cot"].shots == (2, 3)


def test_same_seed_same_prompts_across_shards():
  name = "toy.entailment:fs_opt"
  task = seqio.get_mixture_or_task(name)
  whole = {(r["inputs_pretokenized"], r["targets_pretokenized"])
           for r in task.get_dataset(LENGTHS, split="validation", shuffle=False).as_numpy_iterator()}
  sharded = set()
  for index in range(2):
    ds = task.get_dataset(LENGTHS, split="validation", shuffle=False,
                          shard_info=seqio.ShardInfo(index=index, num_shards=2))
    sharded |= {(r["inputs_pretokenized"], r["targets_pretokenized"]) for r in ds.as_numpy_iterator()}
  assert sharded == whole
  reseeded = catalog.get_mixture_or_task(name, render_seed=7)
  try:
    other = {(r["inputs_pretokenized"], r["targets_pretokenized"]) for r in
             reseeded.get_dataset(LENGTHS, split="validation", shuffle=False).as_numpy_iterator()}
  finally:
    catalog.get_mixture_or_task(name, render_seed=rendering.DEFAULT_RENDER_SEED)
  assert other != whole
