"""A bad record in a researcher's JSON-lines files: every command that reads the data stops
with one `flan-jax: error:` line naming the file, the line and what is wrong, and `train`
leaves MODEL_DIR as it found it. The expected lines are written out here by hand."""

import json
import logging
import os
import re

import pytest
import seqio

from flan_jax import errors
from flan_jax.catalog import lookup as catalog
from tests.cli import cli_runs

GOOD = [{"product": p, "review": r, "answer": a, "options": ["positive", "negative"]}
        for p, r, a in [("kettle", "Boils fast.", "positive"), ("kettle", "Leaks.", "negative"),
                        ("lamp", "Bright.", "positive"), ("lamp", "Flickers.", "negative"),
                        ("bag", "Sturdy.", "positive"), ("bag", "Tore.", "negative"),
                        ("fan", "Quiet.", "positive"), ("fan", "Rattles.", "negative")]]
FIELDS_ERROR = "every record of a split needs the same fields."
ANSWER_ERROR = ("Fix the record (the answer must equal one option exactly), or register with "
                "answer_not_in_options='drop' to skip and count such records.")

MODULE = '''
import os
import seqio

from flan_jax import errors
from flan_jax.data import registration, sources, templates, vocab

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = templates.TemplateSet(
    name="reviews", fields=("product", "review", "answer", "options"), options_field="options",
    templates=(templates.Template("label", "{product}: {review}\\n{options}"),))

def register():
  names = []
  toy = vocab.toy_vocabulary()
  features = {"inputs": seqio.Feature(toy), "targets": seqio.Feature(toy)}
  for kind in ("good", "missing", "json", "utf8", "answer"):
    source = sources.jsonl_source({"train": os.path.join(HERE, kind + ".jsonl"),
                                   "validation": os.path.join(HERE, kind + ".jsonl")})
    names += registration.register_template_tasks(
        "user_" + kind, TEMPLATES, source, features, prompt_formats=["zs_opt"])
  return names
'''


def _lines(records):
  return [json.dumps(r) for r in records]


def _write_files(folder):
  lines = _lines(GOOD)
  (folder / "good.jsonl").write_text("\n".join(lines) + "\n")
  missing = list(lines)
  missing[4] = json.dumps({k: v for k, v in GOOD[4].items() if k != "options"})
  (folder / "missing.jsonl").write_text("\n".join(missing) + "\n")
  broken = list(lines)
  broken[6] = '{"product": "fan", "review": }'
  (folder / "json.jsonl").write_text("\n".join(broken) + "\n")
  latin1 = [line.encode() for line in lines]
  latin1[7] = b'{"product": "caf\xe9", "review": "Rattles.", "answer": "negative", ' \
              b'"options": ["positive", "negative"]}'
  (folder / "utf8.jsonl").write_bytes(b"\n".join(latin1) + b"\n")
  wrong = list(lines)
  wrong[2] = json.dumps(dict(GOOD[2], answer="neutral"))
  (folder / "answer.jsonl").write_text("\n".join(wrong) + "\n")


def _expected(folder):
  """What the user reads for each bad file, by hand. UTF-8: `{"product": "` is 13
  characters, then `caf`, so the byte 0xe9 is in column 17. JSON: the value after
  `{"product": "fan", "review": ` (29 characters) is missing, column 30."""
  return {
      "missing": f"{folder}/missing.jsonl:5: record lacks field(s) ['options'], which the "
                 f"split's first record ({folder}/missing.jsonl:1) has; {FIELDS_ERROR}",
      "json": f"{folder}/json.jsonl:7: not valid JSON: Expecting value (column 30).",
      "utf8": f"{folder}/utf8.jsonl:8: not valid UTF-8: byte 0xe9 at column 17. Save the file "
              "as UTF-8 (e.g. `iconv -f latin1 -t utf-8`).",
      "answer": f"{folder}/answer.jsonl:3: record 'train/2' of task user_answer.reviews:zs_opt "
                f"has answer 'neutral', which is not among its options ['positive', "
                f"'negative']. {ANSWER_ERROR}",
  }


@pytest.fixture(scope="module", name="data")
def _data(tmp_path_factory):
  """The files and a task module beside them, given to the commands as a `.py` path."""
  folder = tmp_path_factory.mktemp("mine")
  _write_files(folder)
  (folder / "my_tasks.py").write_text(MODULE)
  saved = dict(catalog._STATE)  # pylint: disable=protected-access
  yield folder
  catalog._STATE.update(saved)  # pylint: disable=protected-access
  for name in list(seqio.TaskRegistry.names()):
    if name.startswith("user_"):
      seqio.TaskRegistry.remove(name)


def _one_error_line(err):
  lines = [line for line in err.splitlines() if line.startswith("flan-jax: error: ")]
  assert len(lines) == 1 and "Traceback" not in err, err
  return lines[0][len("flan-jax: error: "):]


def _task(kind):
  return f"user_{kind}.reviews:zs_opt"


@pytest.mark.parametrize("kind", ["missing", "json", "utf8", "answer"])
def test_tasks_show_names_the_file_line_and_field(data, kind, capsys):
  code, _, err = cli_runs.run(["tasks", "show", _task(kind), "-n", "8", "--split", "train",
                               "--task_module", str(data / "my_tasks.py")], capsys)
  assert code == 2 and err == f"flan-jax: error: {_expected(data)[kind]}\n"


@pytest.mark.parametrize("kind", ["missing", "answer"])
def test_export_names_the_file_line_and_field(data, kind, tmp_path, capsys):
  out = tmp_path / "rows.jsonl"
  code, _, err = cli_runs.run(["export", _task(kind), "--split", "train", "--out", str(out),
                               "--no-progress", "--task_module", str(data / "my_tasks.py")], capsys)
  assert code == 2 and err == f"flan-jax: error: {_expected(data)[kind]}\n"
  assert os.listdir(tmp_path) == []  # No output, no temporary file.


TINY_RUN = ["--gin_file=runs/smoke_cpu.gin", "--gin.TRAIN_STEPS=1", "--gin.BATCH_SIZE=8",
            "--gin.TASK_FEATURE_LENGTHS={'inputs': 64, 'targets': 8}",
            "--gin.network.T5Config.emb_dim=32", "--gin.network.T5Config.mlp_dim=64",
            "--gin.network.T5Config.num_heads=2", "--gin.network.T5Config.head_dim=16",
            "--gin.network.T5Config.num_encoder_layers=1",
            "--gin.network.T5Config.num_decoder_layers=1", "--gin.EVAL_PERIOD=0",
            "--gin.TrainConfig.eval_num_examples=8", "--gin.TrainConfig.eval_batch_size=8",
            "--gin.TrainConfig.progress_bar=False"]


def _train(data, kind, model_dir, capsys):
  return cli_runs.run(["train", f"--gin.MODEL_DIR='{model_dir}'", "--task_module",
                       str(data / "my_tasks.py"), f"--gin.MIXTURE_OR_TASK_NAME='{_task(kind)}'",
                       f"--gin.TrainConfig.eval_mixture_or_task_name='{_task(kind)}'"] + TINY_RUN,
                      capsys)


@pytest.mark.parametrize("kind", ["missing", "json", "utf8", "answer"])
def test_train_names_the_bad_record_and_leaves_no_model_dir(data, kind, tmp_path, capsys):
  model_dir = tmp_path / "new" / "run"
  code, _, err = _train(data, kind, model_dir, capsys)
  assert code == 2
  assert _one_error_line(err) == f"{_expected(data)[kind]} Nothing was compiled or written."
  assert os.listdir(tmp_path) == []  # Not even an empty checkpoints/ folder.


def test_refused_train_leaves_an_existing_model_dir_as_it_was(data, tmp_path, capsys):
  model_dir = tmp_path / "run"
  model_dir.mkdir()
  (model_dir / "notes.txt").write_text("mine")
  code, _, err = _train(data, "missing", model_dir, capsys)
  assert code == 2 and "missing.jsonl:5: record lacks field(s) ['options']" in err
  assert sorted(os.listdir(model_dir)) == ["notes.txt"]


def test_eval_and_infer_of_a_run_find_its_tasks_and_name_bad_records(data, tmp_path, capsys,
                                                                     caplog):
  """The run records its task module (the `.py` path, absolute), so eval/infer need no
  --task_module; a bad validation record is then named like everywhere else."""
  model_dir = tmp_path / "run"
  code, _, err = _train(data, "good", model_dir, capsys)
  assert code == 0, err
  module = str(data / "my_tasks.py")
  run = json.loads((model_dir / "run.json").read_text())
  assert run["train_config"]["mixture_or_task_module"] == [module]
  operative = re.sub(r"\\\n\s*", "", (model_dir / "config.gin").read_text())  # gin wraps.
  assert f"TrainConfig.mixture_or_task_module = ('{module}',)" in operative, [
      line for line in operative.splitlines() if "module" in line.lower()]
  catalog._STATE["user_modules"] = []  # pylint: disable=protected-access  # A new process.
  flags = [f"--model_dir={model_dir}", "--batch_size=8", "--num_examples=8"]
  caplog.clear()
  logging.getLogger("absl").setLevel(logging.WARNING)  # As in a new process (train lowered it).
  code, out, err = cli_runs.run(["eval", f"--task={_task('good')}"] + flags, capsys)
  assert code == 0, err
  # SeqIO's notes for developers (sequence lengths, no logger) are not shown to the user.
  assert not [r.getMessage() for r in caplog.records if r.name == "absl"]
  good = data / "good.jsonl"
  saved = good.read_bytes()
  try:
    (data / "good.jsonl").write_bytes((data / "answer.jsonl").read_bytes())
    expected = _expected(data)["answer"].replace("answer.jsonl", "good.jsonl").replace(
        "'train/2' of task user_answer", "'validation/2' of task user_good")
    code, _, err = cli_runs.run(["eval", f"--task={_task('good')}"] + flags, capsys)
    assert code == 2 and _one_error_line(err) == expected
    code, _, err = cli_runs.run(["infer", f"--task={_task('good')}",
                                 f"--out={tmp_path / 'p.jsonl'}"] + flags, capsys)
    assert code == 2 and _one_error_line(err) == expected
    assert not (tmp_path / "p.jsonl").exists()
  finally:
    good.write_bytes(saved)


def test_validate_raises_the_same_message(data):
  from flan_jax.data import sources  # pylint: disable=g-import-not-at-top
  source = sources.jsonl_source({"train": str(data / "utf8.jsonl")})
  with pytest.raises(sources.JsonlRecordError) as e:
    source.validate()
  assert str(e.value) == _expected(data)["utf8"]


def test_a_placeholder_vocabulary_path_is_refused_when_registering(tmp_path):
  from flan_jax.data import registration, sources, templates  # pylint: disable=g-import-not-at-top
  spm = seqio.SentencePieceVocabulary("/path/to/spm.model")
  ts = templates.TemplateSet(name="x", fields=("question", "answer"),
                             templates=(templates.Template("t", "{question}"),))
  with pytest.raises(errors.ConfigError) as e:
    registration.register_template_tasks(
        "user_vocab", ts, sources.jsonl_source({"train": str(tmp_path / "t.jsonl")}),
        {"inputs": seqio.Feature(spm), "targets": seqio.Feature(spm)})
  assert str(e.value) == (
      "Feature 'inputs': the SentencePiece model '/path/to/spm.model' does not exist. Give "
      "the path of your model's spm.model, or use flan_jax.data.vocab.toy_vocabulary() to try "
      "things out with the tiny smoke model.")
