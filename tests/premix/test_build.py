"""`flan-jax premix`: several hundred tasks drawn by their rates into tokenized TFRecord files
with a manifest; Beam's DirectRunner writes the same bytes; bad input is refused early."""

import json
import math
import os

import numpy as np
import pytest
import tensorflow as tf

from flan_jax import errors
from flan_jax.cli import main as cli
from flan_jax.premix import beam_build, build, manifest as manifest_lib
from tests.premix import synthetic

from tests.premix.conftest import ROWS


def read_records(directory: str) -> list[dict]:
  """Every record of a premix's files in file order, parsed with tf.io (not the reader)."""
  with open(os.path.join(directory, "manifest.json")) as f:
    names = [entry["name"] for entry in json.load(f)["files"]]
  spec = {"inputs": tf.io.VarLenFeature(tf.int64), "targets": tf.io.VarLenFeature(tf.int64),
          "task": tf.io.FixedLenFeature([1], tf.int64)}
  files = tf.data.TFRecordDataset([os.path.join(directory, name) for name in names])
  parsed = files.map(lambda raw: tf.io.parse_single_example(raw, spec)).map(
      lambda ex: {"inputs": tf.sparse.to_dense(ex["inputs"]),
                  "targets": tf.sparse.to_dense(ex["targets"]), "task": ex["task"][0]})
  return [{"inputs": ex["inputs"].tolist(), "targets": ex["targets"].tolist(),
           "task": int(ex["task"])} for ex in parsed.as_numpy_iterator()]


def test_rows_follow_the_rates_and_are_the_tasks_records(premix_dir):
  with open(os.path.join(premix_dir, "manifest.json")) as f:
    manifest = json.load(f)
  rows = read_records(premix_dir)
  assert len(rows) == ROWS == manifest["num_examples"]
  assert [e["rows"] for e in manifest["files"]] == [1500] * 4
  # Each row is a record of the task it is filed under (the ids spell the task and record).
  for row in rows:
    k = synthetic.task_of_inputs(row["inputs"])
    assert manifest["tasks"][row["task"]] == synthetic.task_name(k)
    i = (row["targets"][0] - 2 - k) % 60  # targets = [2 + (k + i) % 60], i < 12
    assert (row["inputs"], row["targets"]) == synthetic.record(k, i)
  counts = np.bincount([synthetic.task_of_inputs(r["inputs"]) for r in rows],
                       minlength=synthetic.NUM_TASKS)
  names = [synthetic.task_name(k) for k in range(synthetic.NUM_TASKS)]
  assert dict(zip(manifest["tasks"], manifest["task_rows"])) == dict(zip(names, counts.tolist()))
  # Rate class r (a quarter of the tasks, rate r each) holds 75 r / (75 x 10) = r / 10.
  for r in (1, 2, 3, 4):
    share = counts[[k for k in range(synthetic.NUM_TASKS) if k % 4 == r - 1]].sum() / ROWS
    tolerance = 4 * math.sqrt(r / 10 * (1 - r / 10) / ROWS)
    assert abs(share - r / 10) < tolerance, (r, share)
  assert counts.min() > 0  # Every one of the 300 tasks was drawn.


def test_beam_direct_runner_writes_the_same_bytes(tmp_path):
  name = synthetic.register(40, "premix_test.mix40")
  local, beam = str(tmp_path / "local"), str(tmp_path / "beam")
  build.build(build.PremixConfig(name, local, num_examples=400, num_files=3), progress=False)
  beam_build.build(build.PremixConfig(name, beam, num_examples=400, num_files=3),
                   ["--runner=DirectRunner"])
  assert sorted(os.listdir(local)) == sorted(os.listdir(beam))
  for file_name in os.listdir(local):
    with open(os.path.join(local, file_name), "rb") as a, \
        open(os.path.join(beam, file_name), "rb") as b:
      assert a.read() == b.read(), file_name


def test_existing_output_is_kept_and_bad_counts_refused(tmp_path, capsys):
  synthetic.register(40, "premix_test.mix40")
  out = tmp_path / "taken"
  out.mkdir()
  (out / "keep.txt").write_text("mine")
  assert cli.main(["premix", "premix_test.mix40", "--out", str(out),
                   "--num-examples", "20"]) == 2
  assert "exists and is not empty" in capsys.readouterr().err
  assert (out / "keep.txt").read_text() == "mine"
  with pytest.raises(errors.ConfigError, match="fewer than --num-files"):
    build.check_config(build.PremixConfig("x", str(tmp_path / "new"), num_examples=3,
                                          num_files=4))


def test_cli_builds_and_manifest_reads_back(tmp_path, capsys):
  synthetic.register(40, "premix_test.mix40")
  out = str(tmp_path / "cli")
  assert cli.main(["premix", "premix_test.mix40", "--out", out, "--num-examples", "80",
                   "--num-files", "2", "--no-progress"]) == 0
  assert "--gin.PREMIXED_DIR" in capsys.readouterr().err
  manifest = manifest_lib.read(out)
  assert manifest.mixture == "premix_test.mix40" and manifest.num_examples == 80
  assert manifest.rates == tuple(synthetic.rate(k) for k in range(40)
                                 if manifest.tasks.count(synthetic.task_name(k)))
  assert manifest.features["inputs"]["vocabulary"]["vocab_size"] == synthetic.VOCAB_SIZE
