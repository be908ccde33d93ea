"""The `flan-jax` front door: usage, version, quiet start-up, one-line errors."""

import json
import os
import subprocess
import sys

import pytest
import tensorflow as tf

from flan_jax import __version__
from flan_jax.cli import main as cli
from flan_jax.data import sources

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_no_command_prints_usage_and_exits_2(capsys):
  assert cli.main([]) == 2
  assert "usage: flan-jax" in capsys.readouterr().err


def test_version(capsys):
  assert cli.main(["--version"]) == 0
  assert capsys.readouterr().out.strip() == f"flan-jax {__version__}"


def test_help_lists_every_command(capsys):
  assert cli.main(["--help"]) == 0
  out = capsys.readouterr().out
  assert all(name in out for name in cli.COMMANDS)


def test_tensorflow_startup_lines_stay_off_stderr():
  """A command that imports TensorFlow prints none of its native start-up lines."""
  env = dict(os.environ)
  env.pop("TF_CPP_MIN_LOG_LEVEL", None)
  code = ("import sys; from flan_jax.cli import quiet_startup; quiet_startup.install(); "
          "import tensorflow as tf; print('imported', tf.__version__); "
          "print('after-import-stderr', file=sys.stderr)")
  proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                        text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr
  assert "imported" in proc.stdout
  # What TensorFlow's loading writes is gone; what comes after the import is not.
  assert proc.stderr.strip() == "after-import-stderr", proc.stderr


def test_a_bad_record_read_inside_tf_data_is_one_line(tmp_path):
  """A record error raised while tf.data reads arrives as a TensorFlow error with a Python
  traceback inside; the user sees only our line with file, line and field."""
  path = tmp_path / "train.jsonl"
  path.write_text(json.dumps({"question": "a", "answer": "b"}) + "\n" +
                  json.dumps({"question": "c"}) + "\n")
  source = sources.jsonl_source({"train": str(path)})
  with pytest.raises(tf.errors.OpError) as info:
    list(source.get_dataset("train", shuffle=False).as_numpy_iterator())
  message = cli.user_message(info.value)
  assert message is not None and "\n" not in message
  assert f"{path}:2" in message and "answer" in message


def test_errors_that_are_not_ours_keep_their_traceback():
  assert cli.user_message(RuntimeError("boom")) is None


@pytest.mark.parametrize("command", [
    ["premix", "toy_flan", "--out", "unused", "--num-examples", "10"],
    ["cache", "toy.category:zs_opt", "--output_dir", "unused"]])
def test_beam_commands_refuse_a_stray_argument_in_one_line(command, capsys, tmp_path):
  """Flags these commands do not know go to Beam; a bare word is a mistake, named."""
  os.chdir(tmp_path)
  assert cli.main(command + ["--runner=DirectRunner", "oops"]) == 2
  err = capsys.readouterr().err
  assert err.strip() == ("flan-jax: error: Unexpected arguments ['oops']; "
                         "Beam options look like --name=value.")
  assert os.listdir(tmp_path) == []
