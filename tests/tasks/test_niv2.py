"""NIv2 collection: one task per task file, the task's own definition and exemplars."""

import json
import os
import subprocess
import sys
import zlib

import pytest

from flan_jax.readers import local_data
from flan_jax.readers import niv2 as niv2_source
from flan_jax.readers import niv2_files
from flan_jax_tasks import niv2
from flan_jax_tasks.tables import niv2_tasks
from tests.tasks.conftest import rendered, exported

TASK_A = "task067_abductivenli_answer_generation"
TASK_B = "task1168_brown_coarse_pos_tagging"      # id 1168 names two files
TASK_B2 = "task1168_xcopa_commonsense_reasoning_ht"


def write_task(root, task, word, n=30):
  """A task file in the natural-instructions layout whose every text carries `word`."""
  data = {
      "Contributors": ["test"], "Source": ["test"], "Categories": ["Test"],
      "Definition": [f"Reply with the {word} code of the number."],
      "Positive Examples": [{"input": f"{word} example", "output": f"{word}-ex",
                             "explanation": "shown"}],
      "Negative Examples": [{"input": f"{word} bad", "output": "nope", "explanation": "wrong"}],
      "Instances": [{"id": f"{task}-{i}", "input": f"{word} number {i}",
                     "output": [f"{word}-{i}", f"alt-{i}"]} for i in range(n)]
      + [{"id": f"{task}-empty", "input": f"{word} unanswered", "output": []}],
  }
  os.makedirs(os.path.join(root, "tasks"), exist_ok=True)
  with open(os.path.join(root, "tasks", f"{task}.json"), "w") as f:
    json.dump(data, f)


@pytest.fixture(scope="module")
def niv2_dir(tmp_path_factory):
  root = str(tmp_path_factory.mktemp("niv2"))
  write_task(root, TASK_A, "ALPHA")
  write_task(root, TASK_B, "BETA")
  write_task(root, TASK_B2, "GAMMA")
  old = os.environ.get("FLAN_JAX_NIV2_DIR")
  os.environ["FLAN_JAX_NIV2_DIR"] = root
  yield root
  if old is None:
    os.environ.pop("FLAN_JAX_NIV2_DIR")
  else:
    os.environ["FLAN_JAX_NIV2_DIR"] = old


def _spec(name):
  return next(s for s in niv2.datasets() if s.name == name)


def test_one_spec_per_task_id(monkeypatch):
  monkeypatch.delenv("FLAN_JAX_NIV2_DIR", raising=False)
  specs = niv2.datasets()
  assert len(specs) == 1551
  assert len(niv2_tasks.TASKS) == 1556
  assert sum(len(s.tasks) for s in specs) == 1556 * 2
  assert _spec("task1168").tasks == (
      f"niv2.{TASK_B}:zs_noopt", f"niv2.{TASK_B}:fs_noopt",
      f"niv2.{TASK_B2}:zs_noopt", f"niv2.{TASK_B2}:fs_noopt")
  assert _spec("task067").num_train_examples == 5000
  assert all(s.num_train_examples_estimated for s in specs)  # No files: the stand-in count.
  assert all(s.data.kind == "local_dir" and s.data.name == "NIV2" for s in specs)
  assert "FLAN_JAX_NIV2_DIR" in specs[0].data.how_to_get


def test_mmlu_derived_tasks_are_absent():
  mmlu = set(range(664, 668)) | set(range(685, 738))
  assert len(mmlu) == 57
  ids = {int(s.name[len("task"):]) for s in niv2.datasets()}
  assert not ids & mmlu
  task_ids = {int(t.split(".", 1)[1].split("_", 1)[0][len("task"):])
              for s in niv2.datasets() for t in s.tasks}
  assert not task_ids & mmlu
  assert {663, 668, 684, 738} <= ids  # neighbours of the removed ranges are kept


def test_datasets_imports_no_tensorflow():
  code = ("import sys; from flan_jax_tasks import niv2; niv2.datasets(); "
          "assert 'tensorflow' not in sys.modules and 'seqio' not in sys.modules")
  subprocess.run([sys.executable, "-c", code], check=True,
                 env=dict(os.environ, PYTHONPATH=os.getcwd()))


def _expected_inputs(definition, text):
  return {f"{definition}\n\n{text}",
          f"Task: {definition}\n\nInput: {text}\nOutput:",
          f"Instruction: {definition}\n{text}\nResponse:",
          f"Follow the task description below.\n{definition}\n\n{text}",
          f"{definition}\nHere is the input.\n{text}"}


def test_zero_shot_uses_the_task_definition(niv2_dir):
  names = niv2.register_dataset(_spec("task067"), render_seed=0)
  assert names == [f"niv2.{TASK_A}:zs_noopt", f"niv2.{TASK_A}:fs_noopt"]
  train = rendered(f"niv2.{TASK_A}:zs_noopt", "train")
  validation = rendered(f"niv2.{TASK_A}:zs_noopt", "validation")
  held = sorted(i for i in range(30) if zlib.crc32(f"{TASK_A}-{i}".encode()) % 20 == 0)
  assert len(train) + len(validation) == 30  # the instance without output is skipped
  assert sorted(int(r["targets"].split("-")[1]) for r in validation) == held
  definition = "Reply with the ALPHA code of the number."
  for r in train:
    i = int(r["targets"].split("-")[1])
    assert r["targets"] == f"ALPHA-{i}"
    assert r["inputs"] in _expected_inputs(definition, f"ALPHA number {i}")
  assert niv2_source.niv2_source(TASK_A).num_input_examples("train") == len(train)
  rows = exported(f"niv2.{TASK_A}:fs_noopt")
  assert sorted(r["targets"] for r in rows) == sorted(r["targets"] for r in train)


def test_few_shot_shows_the_definition_once_and_the_tasks_own_positive_example(niv2_dir):
  niv2.register_dataset(_spec("task067"), render_seed=0)
  niv2.register_dataset(_spec("task1168"), render_seed=0)
  for task, own, others in ((TASK_A, "ALPHA", ("BETA", "GAMMA")),
                            (TASK_B, "BETA", ("ALPHA", "GAMMA")),
                            (TASK_B2, "GAMMA", ("ALPHA", "BETA"))):
    rows = rendered(f"niv2.{task}:fs_noopt", "train")
    assert len(rows) == len(rendered(f"niv2.{task}:zs_noopt", "train"))
    for r in rows:
      assert r["inputs"].count(f"Reply with the {own} code") == 1
      assert f"{own} example" in r["inputs"] and f"{own}-ex" in r["inputs"]  # input, output
      assert "shown" in r["inputs"]                                          # explanation
      assert r["inputs"].index(f"{own}-ex") < r["inputs"].index(f"{own} number")  # query last
      assert not any(word in r["inputs"] or word in r["targets"] for word in others)


def test_counts_come_from_the_files_when_present(niv2_dir):
  specs = {s.name: s for s in niv2.datasets()}
  # write_task: 30 instances with an output; validation holds those whose id's CRC32 % 20 == 0.
  held = sum(zlib.crc32(f"{TASK_A}-{i}".encode()) % 20 == 0 for i in range(30))
  assert (specs["task067"].num_train_examples, specs["task067"].num_train_examples_estimated) \
      == (30 - held, False)
  assert specs["task068"].num_train_examples_estimated  # no file in the folder


def test_missing_folder_and_file_are_named(tmp_path, monkeypatch):
  monkeypatch.delenv("FLAN_JAX_NIV2_DIR", raising=False)
  with pytest.raises(local_data.LocalDataMissingError,
                     match="FLAN_JAX_NIV2_DIR is not set.*git clone"):
    list(niv2_source.records(TASK_A, "train"))
  monkeypatch.setenv("FLAN_JAX_NIV2_DIR", str(tmp_path))
  with pytest.raises(local_data.LocalDataMissingError, match=f"tasks/{TASK_A}.json"):
    list(niv2_source.records(TASK_A, "train"))


def test_file_without_instances_is_refused(tmp_path, monkeypatch):
  os.makedirs(tmp_path / "tasks")
  (tmp_path / "tasks" / f"{TASK_A}.json").write_text(json.dumps({"Definition": ["x"]}))
  monkeypatch.setenv("FLAN_JAX_NIV2_DIR", str(tmp_path))
  with pytest.raises(niv2_source.Niv2FormatError, match="lacks \\['Instances'\\]"):
    list(niv2_source.records(TASK_A, "train"))


@pytest.mark.parametrize("content, message", [
    (b"{not json", "not JSON"),
    (b"\xff\xfe{}", "not UTF-8 text"),
    (b"[1, 2]", "holds a JSON list"),
    (json.dumps({"Definition": {"a": 1}, "Instances": []}).encode(),
     "Definition is neither a string nor a list of strings"),
    (json.dumps({"Definition": "x", "Instances": {}}).encode(), "Instances is a dict"),
])
def test_broken_task_files_are_one_error_naming_the_file(tmp_path, monkeypatch, content, message):
  os.makedirs(tmp_path / "tasks")
  (tmp_path / "tasks" / f"{TASK_A}.json").write_bytes(content)
  monkeypatch.setenv("FLAN_JAX_NIV2_DIR", str(tmp_path))
  with pytest.raises(niv2_source.Niv2FormatError, match=f"{TASK_A}.json: {message}"):
    list(niv2_source.records(TASK_A, "train"))


def test_counts_are_cached_on_disk_until_the_file_changes(tmp_path, monkeypatch):
  root = tmp_path / "niv2"
  write_task(str(root), TASK_A, "ALPHA", n=10)
  monkeypatch.setenv("FLAN_JAX_CACHE_DIR", str(tmp_path / "cache"))
  pairs = [(TASK_A, TASK_A), (TASK_B, TASK_B)]  # TASK_B has no file: left out
  held = sum(zlib.crc32(f"{TASK_A}-{i}".encode()) % 20 == 0 for i in range(10))
  assert niv2_files.train_counts(str(root), pairs) == {TASK_A: 10 - held}
  assert (tmp_path / "cache" / "niv2_train_counts.json").is_file()

  def no_parsing(*args):
    raise AssertionError("parsed again")

  monkeypatch.setattr(niv2_files, "count_split", no_parsing)
  assert niv2_files.train_counts(str(root), pairs) == {TASK_A: 10 - held}  # from the cache
  write_task(str(root), TASK_A, "ALPHA", n=12)  # a changed file (size) is counted again
  with pytest.raises(AssertionError, match="parsed again"):
    niv2_files.train_counts(str(root), pairs)
