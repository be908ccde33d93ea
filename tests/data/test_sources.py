"""jsonl_source: lazy JSON-lines records in the toy sources' format, for every prompt format."""

import json
import re

import pytest
import seqio
import tensorflow as tf

from flan_jax.data import registration
from flan_jax.data import sources
from flan_jax.catalog import testing as catalog_testing
from flan_jax.data import testing
from flan_jax.data import vocab
from flan_jax.data.templates import Template, TemplateSet

COLLECTION = "mytest"
OPTIONS = ["red", "green", "blue", "yellow"]

# Ten templates of our own: eight regular (five list the choices), two inverted.
TRIVIA = TemplateSet(
    name="colors", fields=("question", "answer", "hint", "options"),
    options_field="options", rationale_field="hint",
    templates=(
        Template("ask", "{question}\n{options}"),
        Template("quiz", "Color quiz: {question}\n{options}"),
        Template("pick_one", "Pick the color that answers this.\n{question}\n{options}"),
        Template("answer_with", "{question} Answer with a single color.\n{options}"),
        Template("prefixed", "Q: {question}\n{options}\nA:"),
        Template("bare", "{question}"),
        Template("polite", "Could you tell me: {question}"),
        Template("one_word", "One word only. {question}"),
    ),
    inverted=(
        Template("ask_for", "Write a question whose answer is the color {answer}.", "{question}"),
        Template("from_hint", "Here is a clue: {hint}\nWhat question is it a clue for?",
                 "{question}"),
    ),
)


def _record(split: str, i: int) -> dict:
  color = OPTIONS[i % len(OPTIONS)]
  return {"question": f"Which color is thing {split}{i:02d}?", "answer": color,
          "hint": f"Thing {split}{i:02d} was painted {color}.", "options": OPTIONS}


def _write(path, records) -> str:
  path.write_text("".join(json.dumps(r) + "\n" for r in records))
  return str(path)


def _features():
  return {k: seqio.Feature(vocab.toy_vocabulary(), add_eos=True) for k in ("inputs", "targets")}


def _register(name, source, formats=None):
  ts = TemplateSet(**{**TRIVIA.__dict__, "name": name})
  return registration.register_template_tasks(COLLECTION, ts, source, _features(),
                                              prompt_formats=formats, pool_size=64)


@pytest.fixture(autouse=True)
def _forget_registered_tasks():
  before = set(seqio.TaskRegistry.names())
  yield
  for name in set(seqio.TaskRegistry.names()) - before:
    seqio.TaskRegistry.remove(name)


@pytest.fixture(name="files")
def _files(tmp_path):
  """train: 12 records in two files (blank lines in between); validation: 4 records."""
  train = [_record("T", i) for i in range(12)]
  _write(tmp_path / "train-0.jsonl", train[:7])
  (tmp_path / "train-1.jsonl").write_text(
      "\n".join(json.dumps(r) for r in train[7:]) + "\n\n")
  _write(tmp_path / "dev.jsonl", [_record("V", i) for i in range(4)])
  return {"train": str(tmp_path / "train-*.jsonl"), "validation": str(tmp_path / "dev.jsonl")}


def test_records_match_the_toy_source_format(files):
  ds = sources.jsonl_source(files).get_dataset("train", shuffle=False)
  assert ds.element_spec == {
      "question": tf.TensorSpec([], tf.string), "answer": tf.TensorSpec([], tf.string),
      "hint": tf.TensorSpec([], tf.string), "options": tf.TensorSpec([None], tf.string),
      "idx": tf.TensorSpec([], tf.string)}
  rows = list(ds.as_numpy_iterator())
  assert [r["question"].decode() for r in rows] == [_record("T", i)["question"] for i in range(12)]
  # The key is the record's index in the whole split (train-1.jsonl starts at record 7).
  assert [r["idx"] for r in rows] == [f"train/{i}".encode() for i in range(12)]
  assert list(rows[0]["options"]) == [o.encode() for o in OPTIONS]


def test_every_format_builds_and_renders(files):
  names = _register("colors", sources.jsonl_source(files))
  assert len(names) == 10  # zs/fs/fsmix x opt/noopt, cot, fs_cot, inv, cot_inv.
  template_names = {f"colors/{t.name}" for t in TRIVIA.templates + TRIVIA.inverted}
  for name in names:
    rows = catalog_testing.render_task(name, split="validation", num_examples=4, seed=3)
    assert len(rows) == 4, name
    for row in rows:
      testing.assert_no_placeholders(row["inputs_pretokenized"])
      assert row["targets_pretokenized"].strip(), name
      assert row["prompt_format"] == name.split(":")[1]
      assert row["template"] in template_names or "cot_inv" in name


def test_zero_shot_options_render_the_record(files):
  (name,) = _register("colors_zs", sources.jsonl_source(files), ["zs_opt"])
  for i, row in enumerate(catalog_testing.render_task(name, split="validation", num_examples=4)):
    record = _record("V", i)
    assert record["question"] in row["inputs_pretokenized"]
    assert all(o in row["inputs_pretokenized"] for o in OPTIONS)


def _questions_in(prompt: str) -> list[str]:
  return re.findall(r"thing ([TV]\d\d)", prompt)


def test_few_shot_exemplars_come_only_from_train_and_never_the_query(files):
  names = _register("colors_fs", sources.jsonl_source(files), ["fs_noopt", "fsmix_opt"])
  for name in names:
    for split, n in (("validation", 4), ("train", 12)):
      rows = catalog_testing.render_task(name, split=split, num_examples=n)
      assert len(rows) == n
      for row in rows:
        found = _questions_in(row["inputs_pretokenized"])
        query, shots = found[-1], found[:-1]
        assert query.startswith(split[0].upper())
        assert len(shots) >= 2, row["inputs_pretokenized"]
        assert all(s.startswith("T") for s in shots)  # only train exemplars
        assert query not in shots


def test_nothing_is_read_at_registration(tmp_path):
  files = {"train": str(tmp_path / "later_train.jsonl"),
           "validation": str(tmp_path / "later_dev.jsonl")}
  names = _register("colors_late", sources.jsonl_source(files), ["zs_noopt", "fs_opt"])
  _write(tmp_path / "later_train.jsonl", [_record("T", i) for i in range(6)])
  _write(tmp_path / "later_dev.jsonl", [_record("V", i) for i in range(2)])
  for name in names:
    assert len(catalog_testing.render_task(name, split="validation", num_examples=5)) == 2


def test_counts_only_when_asked_and_caches(tmp_path):
  given = sources.jsonl_source({"train": str(tmp_path / "absent.jsonl")}, {"train": 7})
  assert given.num_input_examples("train") == 7  # no file needed.
  path = _write(tmp_path / "t.jsonl", [_record("T", i) for i in range(3)])
  counted = sources.jsonl_source({"train": path})
  assert counted.num_input_examples("train") == 3
  _write(tmp_path / "t.jsonl", [_record("T", i) for i in range(5)])
  assert counted.num_input_examples("train") == 3  # cached.
  assert counted.validate() == {"train": 5}


@pytest.mark.parametrize("line, message", [
    ('{"question": "q", "answer": "red", "hint": "h", "options": ["red"]',
     r"bad\.jsonl:3: not valid JSON"),
    ('{"question": "q", "answer": "red", "hint": "h", "options": "red"}',
     r"bad\.jsonl:3: field 'options' is a string here but a list of strings in the split's "
     r"first record \(.*bad\.jsonl:1\)"),
    ('{"question": "q", "answer": "red", "options": ["red"]}',
     r"bad\.jsonl:3: record lacks field\(s\) \['hint'\]"),
    ('{"question": "q", "answer": "red", "hint": null, "options": ["red"]}',
     r"bad\.jsonl:3: field 'hint' is null"),
    ('{"question": "q", "answer": "red", "hint": "h", "options": ["red", 2]}',
     r"bad\.jsonl:3: field 'options' is a list whose element 1 is 2, not a string"),
    ('["q", "red"]', r"bad\.jsonl:3: each line must hold one JSON object"),
])
def test_malformed_record_names_file_line_and_field(tmp_path, line, message):
  good = [json.dumps(_record("T", i)) for i in range(2)]
  path = tmp_path / "bad.jsonl"
  path.write_text("\n".join(good + [line]) + "\n")
  source = sources.jsonl_source({"train": str(path), "validation": str(path)})
  with pytest.raises(sources.JsonlRecordError, match=message):
    source.validate("train")
  (name,) = _register("colors_bad", source, ["zs_opt"])
  with pytest.raises(Exception, match=message):  # Raised inside tf.data, so wrapped by TF.
    catalog_testing.render_task(name, split="validation", num_examples=5)


def test_missing_split_or_file_is_named(tmp_path):
  source = sources.jsonl_source({"validation": str(tmp_path / "nope.jsonl"),
                                 "test": str(tmp_path / "none-*.jsonl")})
  with pytest.raises(sources.JsonlSourceError, match=r"no split 'train'.*\['test', 'validation'\]"):
    source.get_dataset("train")
  with pytest.raises(sources.JsonlSourceError, match=r"'validation'.*nope\.jsonl' does not exist"):
    source.get_dataset("validation")
  with pytest.raises(sources.JsonlSourceError, match=r"none-\*\.jsonl' matches no file"):
    source.num_input_examples("test")


def test_files_are_shards_and_shuffle_reorders_files(files):
  source = sources.jsonl_source(files)
  assert len(source.list_shards("train")) == 2
  first = source.get_dataset("train", shuffle=False, shard_info=seqio.ShardInfo(0, 2))
  second = source.get_dataset("train", shuffle=False, shard_info=seqio.ShardInfo(1, 2))
  assert len(list(first)) == 7 and len(list(second)) == 5
  orders = {tuple(r["idx"] for r in source.get_dataset("train", seed=s).take(1).as_numpy_iterator())
            for s in range(8)}
  assert orders == {(b"train/0",), (b"train/7",)}  # each file's first record, same key.
  second_shard_keys = [r["idx"] for r in second.as_numpy_iterator()]
  assert second_shard_keys == [f"train/{i}".encode() for i in range(7, 12)]


def _prompts(source, formats):
  """The 8 validation prompts of each format, the tasks registered under one fixed name
  (draws key on the task name too) and removed again."""
  names = _register("colors_store", source, formats)
  out = {}
  for name in names:
    rows = catalog_testing.render_task(name, split="validation", num_examples=8)
    out[name.split(":")[1]] = [(r["inputs_pretokenized"], r["targets_pretokenized"]) for r in rows]
    seqio.TaskRegistry.remove(name)
  return out


@pytest.mark.parametrize("id_field", [None, "question"])
def test_same_records_in_other_files_give_identical_prompts(tmp_path, id_field):
  """8 validation and 12 train records, stored as one file each or split over several files
  (with blank lines): every draw keys on the record's identity, so all 8 prompts match."""
  train = [_record("T", i) for i in range(12)]
  dev = [_record("V", i) for i in range(8)]
  one = {"train": _write(tmp_path / "all_train.jsonl", train),
         "validation": _write(tmp_path / "all_dev.jsonl", dev)}
  (tmp_path / "split").mkdir()
  _write(tmp_path / "split" / "tr-a.jsonl", train[:5])
  (tmp_path / "split" / "tr-b.jsonl").write_text(
      "\n\n".join(json.dumps(r) for r in train[5:]) + "\n")
  _write(tmp_path / "split" / "dv-a.jsonl", dev[:3])
  _write(tmp_path / "split" / "dv-b.jsonl", dev[3:])
  two = {"train": str(tmp_path / "split" / "tr-*.jsonl"),
         "validation": [str(tmp_path / "split" / "dv-a.jsonl"),
                        str(tmp_path / "split" / "dv-b.jsonl")]}
  formats = ["zs_opt", "fs_noopt", "cot"]
  whole = _prompts(sources.jsonl_source(one, id_field=id_field), formats)
  parts = _prompts(sources.jsonl_source(two, id_field=id_field), formats)
  for fmt in formats:
    assert len(whole[fmt]) == 8
    assert sum(a == b for a, b in zip(whole[fmt], parts[fmt])) == 8, fmt


def test_declared_id_field_must_be_present(tmp_path):
  path = _write(tmp_path / "t.jsonl", [_record("T", 0)])
  source = sources.jsonl_source({"train": path}, id_field="record_id")
  with pytest.raises(sources.JsonlRecordError, match=r"t\.jsonl:1: record lacks its id field"):
    source.validate()
