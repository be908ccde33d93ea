"""docs/adding_a_task.md, run for real: the example YAML + JSONL, registered as the docs say."""

import contextlib
import importlib.util
import io
import json
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
from tests.data import doc_runner

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


def test_the_walkthrough_runs_as_written(tmp_path):
  """Every shell command and file of docs/adding_a_task.md, in an empty folder, in order; each
  sample output on the page must be what its command prints (tests/data/doc_runner.py)."""
  doc = open(os.path.join(EXAMPLES, "..", "adding_a_task.md"), encoding="utf-8").read()
  ran = doc_runner.run(doc, str(tmp_path))
  skipped = [r.block.body for r in ran if r.skipped]
  assert len(skipped) == 1 and "CheckedTfdsDataSource" in skipped[0]  # Needs TFDS data.
  assert sum(r.block.lang == "text" for r in ran) == 3  # Sample outputs compared.
  # Step 6 trained, and eval / infer found the tasks through the run's record.
  run = json.loads((tmp_path / "runs" / "gadget_reviews" / "run.json").read_text())
  assert run["train_config"]["mixture_or_task_module"] == [str(tmp_path / "gadget_reviews.py")]
  assert len((tmp_path / "predictions.jsonl").read_text().splitlines()) == 4


def test_the_readme_add_a_task_runs_as_written(tmp_path):
  readme = open(os.path.join(EXAMPLES, "..", "..", "README.md"), encoding="utf-8").read()
  ran = doc_runner.run(doc_runner.section(readme, "## Add a task"), str(tmp_path))
  assert [r.block.lang for r in ran] == ["python", "text"]
