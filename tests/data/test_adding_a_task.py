"""docs/adding_a_task.md, run for real: the example YAML + JSONL, registered as the docs say."""

import contextlib
import importlib.util
import io
import os
import re
import sys

import pytest
import seqio

from flan_jax.cli import tasks as tasks_cli
from flan_jax.catalog import lookup as catalog
from flan_jax.data import few_shot
from flan_jax.data import formats
from flan_jax.data import sources
from flan_jax.data import templates
from flan_jax.catalog import testing as catalog_testing
from flan_jax.data import testing

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "examples")
MODULE = "flan_jax_tasks.gadget_reviews"
ALL_FORMATS = ("zs_opt", "zs_noopt", "fs_opt", "fs_noopt", "fsmix_opt", "fsmix_noopt", "inv")


@pytest.fixture(scope="module", name="example")
def _example():
  """The example catalog module, installed as the docs' step 4 describes."""
  spec = importlib.util.spec_from_file_location(MODULE, os.path.join(EXAMPLES, "gadget_reviews.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  before_tasks = set(seqio.TaskRegistry.names())
  before_mixtures = set(seqio.MixtureRegistry.names())
  with pytest.MonkeyPatch.context() as mp:
    mp.setenv("GADGET_REVIEWS_DIR", EXAMPLES)
    mp.setitem(sys.modules, MODULE, module)
    mp.setattr(catalog, "CATALOG_MODULES", catalog.CATALOG_MODULES + (MODULE,))
    yield module
  for name in set(seqio.MixtureRegistry.names()) - before_mixtures:
    seqio.MixtureRegistry.remove(name)
  for name in set(seqio.TaskRegistry.names()) - before_tasks:
    seqio.TaskRegistry.remove(name)


def test_example_records_are_well_formed():
  source = sources.jsonl_source({
      "train": os.path.join(EXAMPLES, "gadget_reviews.train.jsonl"),
      "validation": os.path.join(EXAMPLES, "gadget_reviews.validation.jsonl")})
  assert source.validate() == {"train": 24, "validation": 8}


def test_example_template_set():
  """The test the docs suggest a researcher writes for their own template set."""
  ts = templates.load_template_set(os.path.join(EXAMPLES, "gadget_reviews.yaml"))
  assert len(ts.templates) + len(ts.inverted) == 10
  testing.assert_templates_cover_fields(ts)
  record = {"product": "kettle", "review": "Boils fast.", "answer": "positive",
            "options": ["positive", "negative"]}
  testing.assert_renders(ts, record, "label_it", inputs="Product: kettle\nReview: Boils fast.\n"
                         "Sentiment label:", targets="positive")
  testing.assert_renders(ts, record, "write_a_review", prompt_format="inv",
                         inputs="Write a short positive review of a kettle.", targets="Boils fast.")
  for row in testing.render_records(ts, [record] * 3, "zs_opt", seed=3):
    assert "positive" in row["inputs"] and "negative" in row["inputs"]


def test_catalog_registers_every_format(example):
  names = catalog.register_catalog()
  ours = [n for n in names if n.startswith("mine.gadget_reviews:")]
  assert sorted(formats.parse_task_name(n)[2] for n in ours) == sorted(ALL_FORMATS)
  assert example.MIXTURE in names
  for name in ours:
    dropped_before = few_shot.dropped_examples(name)
    rows = catalog_testing.render_task(name, split="validation", num_examples=8, seed=3)
    # Few-shot queries where two exemplars do not fit the 240-token budget (long reviews in
    # the toy vocabulary) are dropped and counted; every other query renders.
    assert rows and len(rows) + few_shot.dropped_examples(name) - dropped_before == 8, name
    for row in rows:
      testing.assert_no_placeholders(row["inputs_pretokenized"])
      assert row["targets_pretokenized"]


def test_tasks_show_prints_the_prompts(example):
  del example
  out = io.StringIO()
  with contextlib.redirect_stdout(out):
    assert tasks_cli.main(["show", "mine.gadget_reviews:fs_opt", "-n", "5", "--seed", "3",
                           "--split", "train"]) == 0
  text = out.getvalue()
  assert text.count("### ") == 5 and "task=mine.gadget_reviews:fs_opt" in text
  # Each row's header states how many exemplars its prompt really holds.
  counts = re.findall(r"; (\d) exemplars\)", text)
  assert len(counts) == 5 and set(counts) <= {"2", "3", "5"}
  assert "template=gadget_reviews/" in text


def test_the_walkthrough_says_what_the_files_hold():
  """The excerpts in docs/adding_a_task.md match the example files they quote."""
  doc = open(os.path.join(EXAMPLES, "..", "adding_a_task.md"), encoding="utf-8").read()
  ts = templates.load_template_set(os.path.join(EXAMPLES, "gadget_reviews.yaml"))
  words = {8: "eight", 9: "nine", 10: "ten"}
  assert f"# ... {words[len(ts.templates)]} in all" in doc
  module = open(os.path.join(EXAMPLES, "gadget_reviews.py"), encoding="utf-8").read()
  for text in (doc, module):
    assert 'INVERTED = (":inv", ":cot_inv")' in text and "n.endswith(INVERTED)" in text
  snippet = doc[doc.index("## 3. Register it"):doc.index("Then either pass it")]
  assert "output_features()" in snippet and "def output_features()" in snippet
