"""What `flan-jax train` prints: a startup report before compiling, then plain step lines."""

import io
import logging
import re
import sys

import pytest
import tqdm

from flan_jax.cli import console_log
from flan_jax.cli import main as cli
from tests.cli.cli_runs import SMALL_RUN

# The SMALL_RUN T5 v1.1 (vocab 1024, emb 32, 2 heads x 16, mlp 64, gated GELU, untied
# logits, no biases, 32 relative-position buckets), counted by hand:
#   token embedding 1024*32 = 32768; output layer 32*1024 = 32768
#   encoder layer: 2 norms 2*32 + q,k,v,o 4*32*32 + wi_0,wi_1 2*32*64 + wo 64*32 = 10304
#   decoder layer: 3 norms 3*32 + self and cross attention 8*32*32 + MLP 6144 = 14432
#   each stack: relative bias 2*32 = 64 and a final norm 32 (x2 stacks = 192)
TINY_PARAMS = 32768 + 32768 + 10304 + 14432 + 192  # = 90464


def test_startup_report_comes_before_the_first_step(tmp_path, capsys):
  model_dir = tmp_path / "run"
  code = cli.main(["train", f"--gin.MODEL_DIR='{model_dir}'"] + SMALL_RUN +
                  ["--gin.MIXTURE_OR_TASK_NAME='toy_zero_shot'",  # 11 tasks (README).
                   "--gin.TrainConfig.progress_bar=True"])
  err = capsys.readouterr().err
  assert code == 0, err
  lines = err.splitlines()

  def first(pattern):
    found = [i for i, line in enumerate(lines) if re.search(pattern, line)]
    assert found, f"no line matches {pattern!r} in:\n{err}"
    return found[0]

  step_one = first(r"INFO step 1: ")
  report = [first(r"model: T5Config, 90,464 parameters$"),
            first(r"devices: 8 x cpu \(1 process\), mesh data=4 x fsdp=1 x model=2$"),
            first(r"train data: toy_zero_shot \(11 tasks\), feature lengths "
                  r"inputs=96, targets=16"),
            first(r"batch: 8 sequences per step$"),
            first(r"steps: 2 \(from step 0\)"),
            first(r"eval: toy.category:zs_opt \(1 task\), up to 8 examples per task"),
            first(re.escape(f"MODEL_DIR: {model_dir}") + "$"),
            first(r"reading the first batch of toy_zero_shot \.\.\.$"),
            first(r"initializing the parameters \.\.\.$"),
            first(r"compiling the train step")]
  assert TINY_PARAMS == 90464
  assert report == sorted(report) and report[-1] < step_one
  assert first(r"INFO step 2: ") > step_one
  assert first(r"eval step 2 toy.category:zs_opt \(8 examples\): accuracy=") > step_one
  # stderr is not a terminal here: no progress bar, so nothing can glue onto one.
  assert not any("\r" in line or "%|" in line for line in lines), err


def test_log_lines_do_not_glue_onto_a_live_progress_bar(monkeypatch):
  class Terminal(io.StringIO):
    def isatty(self):
      return True

  terminal = Terminal()
  monkeypatch.setattr(sys, "stderr", terminal)
  logger = logging.getLogger("test_train_report")
  logger.propagate = False
  logger.addHandler(console_log.ProgressAwareHandler())
  try:
    with tqdm.tqdm(total=4, desc="train", file=sys.stderr, ascii=True) as bar:
      for i in range(4):
        bar.update(1)
        logger.warning("step %d done", i + 1)
  finally:
    logger.handlers.clear()
  # A terminal starts over at each \r or \n: no such piece may hold bar and message both.
  pieces = re.split(r"[\r\n]", terminal.getvalue())
  messages = [p for p in pieces if "done" in p]
  assert messages == [f"step {i} done" for i in range(1, 5)]
  assert any("train:" in p for p in pieces)
