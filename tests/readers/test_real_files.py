"""The Flan 2022 sources read the publishers' own files (../shared/real_data, see its README):
FLAN's CoT TSVs and Super-Natural Instructions task files in both formats. Expected values
were read by hand from those files (row counts, fields, the exact rendered bytes)."""

import contextlib
import csv
import io
import json
import os
import pathlib
import shutil

import pytest

from flan_jax.catalog import lookup as catalog
from flan_jax.catalog import preflight
from flan_jax.cli import export as export_cli
from flan_jax.cli import mixtures as mixtures_cli
from flan_jax.cli import tasks as tasks_cli
from flan_jax.readers import cot as cot_reader
from flan_jax.readers import lazy_source
from flan_jax.readers import niv2 as niv2_reader
from flan_jax_tasks import niv2
from flan_jax_tasks.tables import niv2_tasks

SHARED = pathlib.Path(__file__).resolve().parents[2].parent / "shared"
REAL = SHARED / "real_data"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} (the publishers' files) "
                                "is absent; CI has it")

EDIBLE = "task1149_item_check_edible"
ANALOGY = "task1152_bard_analogical_reasoning_causation"
EDIBLE_DEFINITION = ("In this task, you are given an item and you need to check whether it is "
                     "edible or not, return 1 if it is edible, else return 2.")
COT_FILES = ("aqua", "creak", "ecqa", "gsm8k", "qasc", "sensemaking", "strategyqa")


@pytest.fixture
def real_env(monkeypatch):
  """The real files as the user's folders; T5's vocabulary from ../shared/vocab; a fresh
  catalog index (NIv2 specs count the files found under FLAN_JAX_NIV2_DIR)."""
  monkeypatch.setenv("FLAN_JAX_COT_DIR", str(REAL / "cot"))
  monkeypatch.setenv("FLAN_JAX_NIV2_DIR", str(REAL / "niv2"))
  vocab = SHARED / "vocab" / "t5_spiece.model"
  if not vocab.is_file():
    pytest.skip(f"{vocab} (T5's SentencePiece model) is absent")
  monkeypatch.setenv("FLAN_JAX_VOCABULARY", str(vocab))
  monkeypatch.setitem(catalog._STATE, "index", None)  # pylint: disable=protected-access
  yield


def _first(task: str, split: str = "train", n: int = 1) -> list[tuple[str, str]]:
  provider = catalog.get_mixture_or_task(task, render_seed=0)
  ds = provider.get_dataset(None, split=split, shuffle=False)
  return [(r["inputs_pretokenized"].decode(), r["targets_pretokenized"].decode())
          for r in ds.take(n).as_numpy_iterator()]


# --- CoT: google-research/FLAN flan/v2/cot_data/*_train.tsv (first 300 lines) ---------------


def test_cot_files_read_every_row_with_escaped_newlines_as_newlines(real_env):
  with_newline = {}
  for name in COT_FILES:
    rows = list(cot_reader.records(name))
    assert len(rows) == 300, name
    assert not any("\\n" in r["question"] or "\\n" in r["rationale"] for r in rows), name
    with_newline[name] = sum("\n" in r["question"] + r["rationale"] for r in rows)
  # Every line of five files holds the two characters `\n` (grep -c); none of gsm8k's or
  # strategyqa's does.
  assert with_newline == {"aqua": 300, "creak": 300, "ecqa": 300, "gsm8k": 0, "qasc": 300,
                          "sensemaking": 300, "strategyqa": 0}
  aqua = next(cot_reader.records("aqua"))
  assert aqua["answer"] == "(C)"
  assert aqua["rationale"] == "1/7:1/7:1/14 = 2:2:1\n1/5*5600 = 1120\n2240-1120 = 1120"


def test_cot_prompts_and_targets_byte_for_byte(real_env):
  assert _first("cot.aqua:cot") == [(
      "Question: Rs. 5600 is divided into three parts A, B and C. How much A is more than C "
      "if their ratio is 1/7:1/7:1/14?\nOptions:\n(A) 300\n(B) 992\n(C) 1120\n(D) 552\n"
      "(E) 312\nWork through it and show each step.",
      "1/7:1/7:1/14 = 2:2:1\n1/5*5600 = 1120\n2240-1120 = 1120 Hence the answer is (C)")]
  assert _first("cot.creak:cot") == [(
      "Answer the following.\nClaim: \"Only people named Floyd wearing pink are allowed to "
      "attend Pink Floyd concerts.\"\nIs the claim above correct, and can it be verified by "
      "human common sense and without a web search?\nOptions:\n- yes\n- no\n"
      "Work through it and show each step.",
      "The rock group would not be as popular is they had such requirements for their "
      "concerts. Hence the answer is no")]


def test_tasks_show_reads_cots_only_split(real_env):
  out = io.StringIO()
  with contextlib.redirect_stdout(out):
    assert tasks_cli.main(["show", "cot.gsm8k:cot", "-n", "1"]) == 0
  assert "Natalia sold clips to 48 of her friends in April" in out.getvalue()
  assert ("Natalia sold 48 / 2 = 24 clips in May. Natalia sold 48 + 24 = 72 clips altogether "
          "in April and May. Hence the answer is 72") in out.getvalue()


def test_asking_cot_for_a_split_it_lacks_is_one_error(real_env):
  with pytest.raises(lazy_source.UnknownSplitError,
                     match=r"cot/gsm8k has no split 'validation'; it has \['train'\]: pass "
                           "--split train"):
    tasks_cli.main(["show", "cot.gsm8k:cot", "--split", "validation"])


def test_show_skip_missing_notes_the_absent_cot_files(real_env):
  out = io.StringIO()
  with contextlib.redirect_stdout(out):
    assert tasks_cli.main(["show", "cot.esnli:cot", "--skip_missing"]) == 0
  assert out.getvalue().startswith("# skipped cot.esnli: ")
  assert "esnli_train.tsv" in out.getvalue()


def test_export_skip_missing_leaves_out_the_absent_cot_files(real_env, tmp_path):
  out, err = tmp_path / "cot.jsonl", io.StringIO()
  with contextlib.redirect_stderr(err):
    assert export_cli.main(["flan2022_cot", "--out", str(out), "--num-examples", "6",
                            "--skip_missing", "--no-progress"]) == 0
  notes = [l for l in err.getvalue().splitlines() if l.startswith("flan-jax: note: skipped")]
  assert [n.split()[3] for n in notes] == ["cot.esnli:", "cot.qed:"]  # not in the snapshot
  rows = [json.loads(l) for l in out.read_text().splitlines()]
  assert len(rows) == 6
  assert all(r["task"].split(":")[0] not in ("cot.esnli", "cot.qed") for r in rows)
  assert not any("\\n" in r["inputs"] + r["targets"] for r in rows)


def test_a_cot_file_that_is_not_utf8_is_one_error(tmp_path, monkeypatch):
  (tmp_path / "qasc_train.tsv").write_bytes(b"caf\xe9\tyes\tbecause\n")
  monkeypatch.setenv("FLAN_JAX_COT_DIR", str(tmp_path))
  with pytest.raises(cot_reader.CotFormatError, match="qasc_train.tsv: not UTF-8 text"):
    list(cot_reader.records("qasc"))


# --- NIv2: allenai/natural-instructions tasks/*.json, current and older format -------------


def test_file_stems_are_the_repositorys_names():
  with open(SHARED / "flan_catalog" / "niv2_tasks.tsv", encoding="utf-8") as f:
    table = {row["task"]: row["file_stem"] for row in csv.DictReader(f, delimiter="\t")}
  assert len(table) == 1556
  assert {t: niv2_tasks.file_stem(t) for t in table} == table
  assert sum(t != s for t, s in table.items()) == 41
  assert niv2_tasks.file_stem("task137_detoxifying_lms_classification_toxicity") == \
      "task137_detoxifying-lms_classification_toxicity"


def test_a_hyphenated_file_is_found_by_preflight_and_read(tmp_path, monkeypatch):
  stem = "task137_detoxifying-lms_classification_toxicity"
  (tmp_path / "tasks").mkdir()
  shutil.copy(REAL / "niv2" / "tasks" / f"{EDIBLE}.json", tmp_path / "tasks" / f"{stem}.json")
  monkeypatch.setenv("FLAN_JAX_NIV2_DIR", str(tmp_path))
  spec = next(s for s in niv2.datasets() if s.name == "task137")
  assert spec.data.files == (f"tasks/{stem}.json",)
  assert preflight.check_spec(spec).ok
  assert (spec.num_train_examples, spec.num_train_examples_estimated) == (110, False)
  task = "task137_detoxifying_lms_classification_toxicity"
  assert len(list(niv2_reader.records(task, "train", stem))) == 110


def test_niv2_counts_both_formats_and_the_definition_string(real_env, monkeypatch):
  # 119 instances, each with an output; validation holds those whose id's CRC32 % 20 == 0.
  assert len(list(niv2_reader.records(EDIBLE, "train"))) == 110
  assert len(list(niv2_reader.records(EDIBLE, "validation"))) == 9
  assert len(list(niv2_reader.records(ANALOGY, "train"))) == 196
  assert len(list(niv2_reader.records(ANALOGY, "validation"))) == 8
  specs = {s.name: s for s in niv2.datasets()}
  assert (specs["task1149"].num_train_examples, specs["task1152"].num_train_examples) == (110, 196)
  assert not specs["task1149"].num_train_examples_estimated
  assert (specs["task067"].num_train_examples, specs["task067"].num_train_examples_estimated) \
      == (5000, True)
  # The older file: Definition is one string, instances have no id (their position stands in).
  monkeypatch.setenv("FLAN_JAX_NIV2_DIR", str(REAL / "niv2_old_format"))
  old = list(niv2_reader.records(EDIBLE, "train"))
  assert len(old) == 110
  assert old[0] == {"definition": EDIBLE_DEFINITION, "input": "sink", "answer": "2",
                    "ex_input": "Ice Cream", "ex_output": "1",
                    "ex_explanation": "Ice Cream is edible.", "idx": f"{EDIBLE}-0"}


def test_niv2_prompts_byte_for_byte(real_env):
  assert _first(f"niv2.{EDIBLE}:zs_noopt") == [
      (f"Instruction: {EDIBLE_DEFINITION}\nsink\nResponse:", "2")]
  # FLAN's NIv2 few-shot form: the definition once, a positive example with its explanation.
  assert _first(f"niv2.{EDIBLE}:fs_noopt") == [(
      f"Task: {EDIBLE_DEFINITION}\nA worked example.\nInput: Ice Cream\nOutput: 1\n"
      "Explanation: Ice Cream is edible.\n\nInput: sink\nOutput:", "2")]
  with open(REAL / "niv2" / "tasks" / f"{ANALOGY}.json", encoding="utf-8") as f:
    definition = json.load(f)["Definition"][0]
  assert _first(f"niv2.{ANALOGY}:fs_noopt") == [(
      "Read the task and the solved example, then solve the new case.\n"
      f"{definition}\n\nlisten : hear. drop : ?\nSolved: fall\nReason: Hear is a causation of "
      "listen. Hence, the inferred analogy being causation, the causation of drop is fall.\n\n"
      "New case: throw : fly. cut : ?\nSolved:", "bleed")]
  for inputs, _ in _first(f"niv2.{ANALOGY}:fs_noopt", n=40):
    assert inputs.count(definition) == 1


def test_stats_mark_estimated_niv2_counts(real_env):
  out = io.StringIO()
  with contextlib.redirect_stdout(out):
    assert mixtures_cli.main(["stats", "flan2022_niv2"]) == 0
  lines = {l.split()[0]: l.split()[1] for l in out.getvalue().splitlines()
           if l.startswith("niv2.")}
  assert lines[f"niv2.{EDIBLE}:zs_noopt"] == "110"
  assert lines[f"niv2.{ANALOGY}:fs_noopt"] == "196"
  assert lines["niv2.task067_abductivenli_answer_generation:zs_noopt"].startswith("~")
  assert "rated on an estimated train count" in out.getvalue()
