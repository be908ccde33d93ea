"""SIGTERM and Ctrl-C (SIGINT) while a command writes its output: one line, no traceback, no
hidden temporary file left behind, and an earlier output left as it was."""

import os
import signal
import subprocess
import sys
import time

import pytest


def _wait_for_partial(folder, process, timeout=600):
  deadline = time.monotonic() + timeout
  while time.monotonic() < deadline:
    partial = [n for n in os.listdir(folder) if n.endswith(".partial")]
    if partial:
      return partial
    assert process.poll() is None, process.communicate()
    time.sleep(0.1)
  raise AssertionError("the command never started writing")


def _stop_while_writing(args, folder, signum):
  """Runs `flan-jax ARGS`, sends `signum` once its output's .partial file exists;
  (return code, stderr)."""
  env = dict(os.environ, PYTHONUNBUFFERED="1")
  process = subprocess.Popen([sys.executable, "-m", "flan_jax.cli.main", *args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
  try:
    _wait_for_partial(folder, process)
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
  finally:
    if process.poll() is None:
      process.kill()
  return process.returncode, err


@pytest.mark.parametrize("signum,name,code", [(signal.SIGTERM, "SIGTERM", 143),
                                              (signal.SIGINT, "SIGINT", 130)])
def test_a_stopped_export_leaves_no_partial_file_and_no_traceback(tmp_path, signum, name, code):
  out = tmp_path / "rows.jsonl"
  out.write_text("earlier rows\n")
  # A long export: a million rows of the toy mixture.
  returncode, err = _stop_while_writing(
      ["export", "toy_flan", "--out", str(out), "--overwrite", "--num-examples", "1000000",
       "--split", "validation", "--no-progress"], tmp_path, signum)
  assert returncode == code, err
  assert err.strip().splitlines()[-1] == f"flan-jax: stopped by {name}."
  assert "Traceback" not in err, err
  assert sorted(os.listdir(tmp_path)) == ["rows.jsonl"]  # No .partial, no spill folder.
  assert out.read_text() == "earlier rows\n"


def test_a_stopped_infer_leaves_no_partial_file_and_keeps_the_earlier_output(tiny_run,
                                                                             tmp_path):
  model_dir, _ = tiny_run
  out = tmp_path / "preds.jsonl"
  out.write_text("earlier predictions\n")
  # Greedy decoding of the whole train split, 8 at a time.
  returncode, err = _stop_while_writing(
      ["infer", f"--model_dir={model_dir}", "--task=toy.category:zs_opt", "--split=train",
       "--batch_size=8", f"--out={out}", "--overwrite"], tmp_path, signal.SIGTERM)
  assert returncode == 143, err
  assert err.strip().splitlines()[-1] == "flan-jax: stopped by SIGTERM."
  assert "Traceback" not in err, err
  assert sorted(os.listdir(tmp_path)) == ["preds.jsonl"]
  assert out.read_text() == "earlier predictions\n"
