"""flan2021: the 71 datasets, their field mappings and templates, on data the tests make.

Every dataset's mapping runs on fake examples built from its real TFDS features (offline
`builder.info.features`); one dataset per cluster renders every format it registers through
the SeqIO task pipeline under `tfds.testing.mock_data`.
"""

import functools
import os
import re
import subprocess
import sys

import pytest
import seqio
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow_datasets.testing import mocking

from flan_jax.catalog import spec as catalog_spec
from flan_jax.data import formats
from flan_jax.data import templates as templates_lib
from flan_jax.data import testing
from flan_jax.readers import tfds_check
import flan_jax_tasks.flan2021 as flan2021
from flan_jax_tasks.flan2021 import adapters
from flan_jax_tasks.flan2021 import datasets_table

ROWS = datasets_table.ROWS
# huggingface:xsum is not shipped with tensorflow_datasets; these are the features its
# dataset card documents.
XSUM_FEATURES = tfds.features.FeaturesDict({
    "document": tfds.features.Text(), "summary": tfds.features.Text(),
    "id": tfds.features.Text()})
ZERO_SHOT = ("zs_opt", "zs_noopt", "inv")


def _features(row):
  if not row.offline_info:
    assert row.name == "xsum"
    return XSUM_FEATURES
  return tfds.builder(row.tfds_name).info.features


def _fake_generator(features, n):
  """Random examples with the dataset's feature structure: ints in [0, 3), every list 10
  long (the options renderer labels at most 26 choices; real choice lists are short)."""
  return mocking.RandomFakeGenerator(features, num_examples=n, max_value=3,
                                     constant_dynamic_shape=True)


def _fake_examples(features, n=8):
  return [tf.nest.map_structure(tf.constant, ex) for ex in _fake_generator(features, n)]


def _fake_as_dataset(builder, *args, **kwargs):
  """tfds.testing.mock_data's `as_dataset_fn`: 4 fake examples of the builder's features."""
  del args, kwargs
  features = builder.info.features
  specs = features.get_tensor_info()
  return tf.data.Dataset.from_generator(
      functools.partial(_fake_generator, features, 4),
      output_types=tf.nest.map_structure(lambda t: t.dtype, specs),
      output_shapes=tf.nest.map_structure(lambda t: t.shape, specs))


def _py(record):
  return {k: ([x.decode() for x in v.numpy()] if v.shape.rank == 1 else v.numpy().decode())
          for k, v in record.items()}


def _option_lines(inputs):
  return inputs.split("\n")


def _answer_is_listed(inputs, target, choices):
  """The target is a choice, or the marker of the line listing a choice (compared without
  surrounding spaces: the fake texts have some and prompts trim trailing ones)."""
  choices = {c.strip() for c in choices}
  if target.strip() in choices:
    return True
  return any(line.startswith(target + " ") and line[len(target) + 1:].strip() in choices
             for line in _option_lines(inputs))


# ---- the collection as plain data ----

def test_datasets_are_71_distinct_names_with_hand_counted_clusters():
  specs = flan2021.datasets()
  assert len(specs) == 71
  assert len({s.name for s in specs}) == 71
  assert all(s.collection == "flan2021" for s in specs)
  clusters = {}
  for row in ROWS:
    clusters[row.cluster] = clusters.get(row.cluster, 0) + 1
  # Counted by hand from the flan2021 list.
  assert clusters == {
      "nli": 10, "reading_comprehension": 6, "reading_comprehension_commonsense": 2,
      "closed_book_qa": 5, "conversational_qa": 2, "commonsense": 4, "coreference": 3,
      "sentiment": 4, "paraphrase": 4, "summarization": 11, "struct_to_text": 4,
      "translation": 8, "text_formatting": 3, "math": 1, "word_sense": 1,
      "linguistic_acceptability": 1, "question_classification": 1, "language_modeling": 1}


def test_task_names_and_data_requirements():
  specs = {s.name: s for s in flan2021.datasets()}
  assert specs["rte"].tasks == tuple(f"flan2021.rte:{f}" for f in (
      "zs_opt", "zs_noopt", "fs_opt", "fs_noopt", "fsmix_opt", "fsmix_noopt", "inv"))
  assert specs["squad_v1"].tasks == tuple(f"flan2021.squad_v1:{f}" for f in (
      "zs_noopt", "fs_noopt", "fsmix_noopt", "inv"))
  assert specs["wmt16_translate_de_en"].data.name == "wmt16_translate/de-en:1.0.0"
  # Nothing to do before `tfds build` (preflight prints the command itself).
  assert specs["mnli_mismatched"].data == catalog_spec.DataRequirement(
      kind="tfds", name="glue/mnli:2.0.0", how_to_get="")
  # samsum (corpus.7z) and WMT16 cs-en / ru-en (CzEng 1.6pre, the Yandex corpus: their
  # builders' MANUAL_DOWNLOAD_INSTRUCTIONS) need manual downloads too.
  manual = sorted(s.name for s in specs.values() if s.data.manual)
  assert manual == ["newsroom", "samsum", "story_cloze", "wmt16_translate_cs_en",
                    "wmt16_translate_ru_en"]
  for name in manual:
    assert "MANUAL_DIR" in specs[name].data.how_to_get
    assert "downloads/manual" not in specs[name].data.how_to_get
    assert "tfds build" not in specs[name].data.how_to_get  # preflight adds the command once
  assert "corpus.7z" in specs["samsum"].data.how_to_get
  assert "czeng16pre" in specs["wmt16_translate_cs_en"].data.how_to_get
  assert "1mcorpus.zip" in specs["wmt16_translate_ru_en"].data.how_to_get
  assert specs["rte"].num_train_examples == 2490
  assert specs["rte"].has_options and not specs["cnn_dailymail"].has_options
  assert not any(s.held_out for s in specs.values())  # wsc273 (no train split) is not listed.


def test_every_dataset_has_a_train_and_a_validation_split():
  for row in ROWS:
    assert row.train and row.validation and row.train != row.validation, row.name


def test_listing_does_not_import_tensorflow_or_seqio():
  code = ("import sys, flan_jax_tasks.flan2021 as m; n = len(m.datasets()); "
          "print(n, 'tensorflow' in sys.modules, 'seqio' in sys.modules)")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       check=True)
  assert out.stdout.split() == ["71", "False", "False"]


# ---- every dataset: mapping onto its real TFDS features, zero-shot rendering ----

@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_mapping_fits_tfds_features_and_renders(row):
  adapter = flan2021.adapter_for(row.name)
  ts = adapter.template_set_for(row.name)
  ts.validate()
  kept = [ex for ex in _fake_examples(_features(row))
          if adapter.keep is None or bool(adapter.keep(ex))]
  assert kept, f"{row.name}: every fake example was filtered out"
  records = [adapter.to_record(ex) for ex in kept[:3]]
  for record in records:
    assert set(record) == set(ts.record_fields())
    for field in ts.text_fields():
      assert record[field].dtype == tf.string and record[field].shape.rank == 0, field
    if ts.options_field:
      choices = record[ts.options_field]
      assert choices.dtype == tf.string and choices.shape.rank == 1
      assert _py(record)[ts.answer_field] in _py(record)[ts.options_field]
  supported = {f.name for f in formats.formats_for(ts)}
  for fmt in ZERO_SHOT:
    if fmt not in supported:
      continue
    for rec, out in zip(records, testing.render_records(ts, [_py(r) for r in records], fmt)):
      assert out["inputs"].strip() and out["targets"].strip(), (fmt, out)
      testing.assert_no_placeholders(out["inputs"] + out["targets"])
      if fmt == "zs_opt":
        choices = _py(rec)[ts.options_field]
        assert all(c in out["inputs"] for c in choices)
        assert _answer_is_listed(out["inputs"], out["targets"], choices), out


# ---- hand-computed mappings ----

def _tensors(value):
  if isinstance(value, dict):
    return {k: _tensors(v) for k, v in value.items()}
  return value if isinstance(value, tf.Tensor) else tf.constant(value)


def _record(name, **features):
  return _py(flan2021.adapter_for(name).to_record(_tensors(features)))


def test_label_orders_follow_each_builder():
  nli = {"premise": "p", "hypothesis": "h"}
  assert _record("rte", label=0, **nli)["answer"] == "yes"              # entailment
  assert _record("cb", label=1, **nli)["answer"] == "no"                # contradiction
  assert _record("cb", label=2, **nli)["answer"] == "it is not possible to tell"
  assert _record("mnli_matched", label=2, **nli)["relation"] == "contradicts"
  assert _record("wnli", label=0, sentence1="a", sentence2="b")["answer"] == "no"
  assert _record("anli_r1", label=1, context="c", hypothesis="h")["options"] == [
      "yes", "it is not possible to tell", "no"]
  assert _record("sentiment140", polarity=4, text="t")["answer"] == "positive"
  assert _record("yelp_polarity_reviews", label=0, text="t")["answer"] == "negative"
  assert _record("ag_news_subset", label=3, title="t", description="d")["answer"] == \
      "Science/Tech"
  assert _record("trec", **{"label-coarse": 3, "label-fine": 0, "text": "Who?"})["answer"] == \
      "person"


def test_choices_and_indices():
  story = _record("story_cloze", context="c", endings=["first", "second"], label=2)
  assert story["answer"] == "second" and story["options"] == ["first", "second"]
  arc = _record("arc_easy", question="q", id="x", answerKey=2,
                choices={"text": ["red", "blue", "green"], "label": [0, 1, 2]})
  assert arc["answer"] == "green"
  copa = _record("copa", premise="It rained.", question="effect", choice1="wet",
                 choice2="dry", label=0, idx=0)
  assert copa["ask"] == "What happened as a result?" and copa["answer"] == "wet"
  assert _record("stsb", sentence1="a", sentence2="b", label=3.6, idx=0)["answer"] == "4"


def test_derived_and_parsed_fields():
  en = {"en": "Hello, big World!", "da": "Hej"}
  assert _record("true_case", **en) == {"text": "hello, big world!", "answer": "Hello, big World!"}
  assert _record("fix_punct", **en)["text"] == "Hello big World"
  assert _record("word_segment", **en)["text"] == "Hello,bigWorld!"
  assert _record("math_dataset", question="b'Solve 2*x = 4 for x.\\n'", answer="b'2\\n'") == {
      "question": "Solve 2*x = 4 for x.", "answer": "2"}
  assert _record("math_dataset", question="Solve 3*k = 9 for k.", answer="3") == {
      "question": "Solve 3*k = 9 for k.", "answer": "3"}
  assert _record("lambada", passage="she opened the door\n") == {
      "context": "she opened the", "answer": "door"}
  science = _record("unified_qa_science_inst",
                    input="which is a gas? \\n (A) rock (B) air (C) wood", output="air")
  assert science == {"question": "which is a gas?", "options": ["rock", "air", "wood"],
                     "answer": "air"}
  squad2 = _record("squad_v2", context="c", question="q", id="i", title="t",
                   is_impossible=True, answers={"text": tf.constant([], tf.string),
                                                "answer_start": tf.constant([], tf.int32)},
                   plausible_answers={"text": ["x"], "answer_start": [0]})
  assert squad2["answer"] == "unanswerable"
  pair = _record("wmt16_translate_de_en", de="Hallo", en="Hello")
  assert pair == {"source_language": "German", "target_language": "English",
                  "source": "Hallo", "target": "Hello"}
  coqa = _record("coqa", story="s", source="x", questions=["Who?", "Where?"],
                 answers={"input_text": ["Ann", "home"], "answer_start": [0, 1],
                          "answer_end": [1, 2]})
  assert coqa["questions"] == "1. Who?\n2. Where?" and coqa["answer"] == "1. Ann\n2. home"


def test_unlabelled_rows_are_dropped():
  keep = flan2021.adapter_for("snli").keep
  assert not bool(keep({"label": tf.constant(-1, tf.int64)}))
  assert bool(keep({"label": tf.constant(2, tf.int64)}))
  assert not bool(flan2021.adapter_for("sentiment140").keep({"polarity": tf.constant(2)}))


# ---- representatives through the SeqIO task pipeline ----

# One dataset per cluster renders through the real task pipeline (graph-mode mapping,
# batching, tokenizing). Few-shot pipelines cost seconds each on this 2-core machine, so
# only FULL representatives render every format they register; the others render their
# zero-shot and inverted formats. FLAN2021_TEST_ALL=1 renders every format of the 70
# datasets whose builder ships with tensorflow_datasets (not huggingface:xsum).
REPRESENTATIVES = ("anli_r1", "squad_v2", "cosmos_qa", "unified_qa_science_inst", "coqa",
                   "story_cloze", "definite_pronoun_resolution", "sst2", "stsb",
                   "opinion_abstracts_rotten_tomatoes", "dart", "wmt16_translate_de_en",
                   "word_segment", "math_dataset", "wic", "cola", "trec", "lambada")
FULL = ("anli_r1", "squad_v2", "story_cloze", "wmt16_translate_de_en")
TEST_ALL = os.environ.get("FLAN2021_TEST_ALL") == "1"
PIPELINE_DATASETS = (tuple(r.name for r in ROWS if r.offline_info) if TEST_ALL
                     else REPRESENTATIVES)


def test_representatives_cover_every_cluster():
  assert {datasets_table.BY_NAME[n].cluster for n in REPRESENTATIVES} == {r.cluster for r in ROWS}
  assert {"zs_opt", "zs_noopt", "fs_opt", "fs_noopt", "fsmix_opt", "fsmix_noopt", "inv"} == {
      formats.parse_task_name(t)[2] for n in FULL for t in _spec(n).tasks}


def _spec(name):
  return {s.name: s for s in flan2021.datasets()}[name]


@pytest.fixture
def mocked_tfds(monkeypatch):
  # Mocked data is never "prepared"; the prepared check has its own tests (tests/data).
  monkeypatch.setattr(tfds_check, "require_prepared", lambda *a, **k: None)
  before = set(seqio.TaskRegistry.names())
  with tfds.testing.mock_data(as_dataset_fn=_fake_as_dataset):
    yield
  for name in set(seqio.TaskRegistry.names()) - before:
    seqio.TaskRegistry.remove(name)


def _check_rendered(task, fmt, row):
  inputs = row["inputs_pretokenized"].decode()
  target = row["targets_pretokenized"].decode()
  assert inputs.strip() and target.strip(), task
  assert row["prompt_format"].decode() == fmt.name
  testing.assert_no_placeholders(inputs)
  if fmt.options:
    assert re.search(r"^(Choices|Options|Pick one of these|Possible answers|Select from "
                     r"the list below|The candidates are)", inputs, re.M), task
    # Few-shot prompts trim trailing spaces inside the prompt, so compare stripped text.
    listed = [line.split(" ", 1)[-1].strip() for line in inputs.split("\n")]
    assert _answer_is_listed(inputs, target.strip(), listed), (task, target)


def _longest_literal(template_set, template_name):
  (template,) = [t for t in template_set.templates if t.name == template_name]
  pieces = templates_lib.split_pattern(templates_lib.strip_options(template.input))
  return max((literal.strip() for literal, _ in pieces), key=len)


@pytest.mark.parametrize("name", PIPELINE_DATASETS)
def test_representative_renders_through_the_task_pipeline(name, mocked_tfds):
  del mocked_tfds
  spec = _spec(name)
  tasks = flan2021.register_dataset(spec, render_seed=0)
  assert tasks == list(spec.tasks)
  template_set = flan2021.adapter_for(name).template_set
  for task in tasks:
    fmt = formats.FORMATS[formats.parse_task_name(task)[2]]
    registered = [p.keywords["spec"].fmt for p in seqio.get_mixture_or_task(task).preprocessors
                  if "spec" in getattr(p, "keywords", {})][0]
    assert registered.x_shot_candidates == (25 if fmt.few_shot and not fmt.template_mix else 0)
    if fmt.few_shot and not (TEST_ALL or name in FULL):
      continue
    ds = seqio.get_mixture_or_task(task).get_dataset(
        None, split="validation", shuffle=False, try_in_mem_cache=False)
    rows = list(ds.take(2).as_numpy_iterator())
    assert rows, task
    for row in rows:
      _check_rendered(task, fmt, row)
      if fmt.few_shot and not fmt.template_mix:
        # Exemplars use the query's template. Its wording shows at least once: once per
        # exemplar and query, or once in all when the template's opening instruction is
        # placed before or after the exemplars (the layout varies that per prompt).
        wording = _longest_literal(template_set, row["template"].decode().split("/")[1])
        if len(wording) >= 3:
          assert row["inputs_pretokenized"].decode().count(wording) >= 1, (task, wording)
        # The recipe's collections build few-shot prompts as FLAN's code does by default:
        # x-shot keeps 1-8 exemplars (those of 25 candidates in the query's template),
        # the template mix asks for 5; the budget may keep fewer.
        allowed = range(1, 6) if fmt.template_mix else range(1, 9)
        assert row["num_exemplars"] in allowed, task


def test_register_dataset_is_idempotent_and_rejects_other_collections(mocked_tfds):
  del mocked_tfds
  spec = _spec("cola")
  first = flan2021.register_dataset(spec, render_seed=0)
  assert flan2021.register_dataset(spec, render_seed=0) == first
  alien = catalog_spec.DatasetSpec(collection="t0", name="cola", tasks=(),
                                   data=spec.data)
  with pytest.raises(KeyError, match="not a flan2021 dataset"):
    flan2021.register_dataset(alien, render_seed=0)


def test_map_records_keeps_only_template_fields():
  adapter = flan2021.adapter_for("rte")
  ds = tf.data.Dataset.from_tensors({"premise": "p", "hypothesis": "h",
                                     "label": tf.constant(1, tf.int64), "idx": 7})
  (record,) = list(adapters.map_records(ds, adapter=adapter).as_numpy_iterator())
  assert sorted(record) == ["answer", "hypothesis", "options", "premise", "relation"]
  assert record["answer"] == b"no" and record["relation"] == b"does not follow from"
