"""Every command-line test starts and ends with an empty gin config (commands bind gin); the
tiny trained run that the infer/eval command tests read."""

import contextlib
import io

import gin
import pytest

from flan_jax.cli import main as cli
from tests.cli.cli_runs import SMALL_RUN


@pytest.fixture(autouse=True)
def _clean_gin():
  gin.clear_config()
  yield
  gin.clear_config()


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
  """(MODEL_DIR, stdout) of `flan-jax train` with SMALL_RUN and RENDER_SEED=3; read only."""
  model_dir = tmp_path_factory.mktemp("tiny_run") / "run"
  out, err = io.StringIO(), io.StringIO()
  gin.clear_config()
  with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    code = cli.main(["train", f"--gin.MODEL_DIR='{model_dir}'", "--gin.RENDER_SEED=3"]
                    + SMALL_RUN)
  gin.clear_config()
  assert code == 0, err.getvalue()
  return model_dir, out.getvalue()
