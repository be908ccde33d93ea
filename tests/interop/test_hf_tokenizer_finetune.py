"""A Llama checkpoint that ships only tokenizer.json, finetuned with the same commands: `flan-jax
train` (gin/models/hf_decoder.gin, no VOCABULARY) tokenizes with the checkpoint's tokenizer,
keeps a copy in MODEL_DIR/vocabulary/, `infer` reuses it without flags, and `convert --to hf`
writes it next to the weights, where transformers' AutoTokenizer encodes like the source."""

import json
import sys

import gin
import pytest
import seqio

from flan_jax.catalog import lookup as catalog
from flan_jax.cli import main as cli
from flan_jax.data import hf_vocab, t5_features
from tests.data import hf_tokenizers

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

LLAMA = dict(vocab_size=448, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
             tie_word_embeddings=False, bos_token_id=1, eos_token_id=2, pad_token_id=None)
TEXTS = [r["question"] for r in hf_tokenizers.QA_RECORDS] + ["na\u00efve \u65e5\u672c \U0001f600"]


def _forget_task_module(path: str) -> None:
  """The test task is registered anew (with the vocabulary then in force) at its next lookup,
  once a command names its module again (the fixture restores the catalog's state after)."""
  catalog._STATE["index"] = None  # pylint: disable=protected-access
  catalog._STATE["user_modules"] = []  # pylint: disable=protected-access
  if hf_tokenizers.TASK in seqio.TaskRegistry.names():
    seqio.TaskRegistry.remove(hf_tokenizers.TASK)
  for name, module in list(sys.modules.items()):
    if getattr(module, "__file__", None) == path:
      del sys.modules[name]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
  root = tmp_path_factory.mktemp("hf_tokenizer_finetune")
  source = root / "llama"
  torch.manual_seed(0)
  transformers.LlamaForCausalLM(transformers.LlamaConfig(**LLAMA)).save_pretrained(str(source))
  hf_tokenizers.llama_style(str(source))  # tokenizer.json + tokenizer_config.json only.
  module = root / "user_tok_finetune.py"
  module.write_text(hf_tokenizers.TASK_MODULE)
  with pytest.MonkeyPatch.context() as mp:
    mp.setenv(t5_features.VOCABULARY_ENV, "/not/used/by/this/run.model")  # Restored after.
    mp.setitem(catalog._STATE, "user_modules", [])  # pylint: disable=protected-access
    mp.setitem(catalog._STATE, "index", None)  # pylint: disable=protected-access
    _forget_task_module(str(module))
    gin.clear_config()
    try:
      yield root, source, module, mp
    finally:
      gin.clear_config()
      _forget_task_module(str(module))


def _train_argv(source, model_dir, module) -> list[str]:
  """`flan-jax train` of the test task from a Hugging Face decoder, without VOCABULARY."""
  return ["train", "--gin_file=models/hf_decoder.gin", "--gin_file=runs/finetune.gin",
          f"--gin.INITIAL_CHECKPOINT_PATH='{source}'", f"--gin.MODEL_DIR='{model_dir}'",
          f"--gin.MIXTURE_OR_TASK_NAME='{hf_tokenizers.TASK}'",
          f"--gin.MIXTURE_OR_TASK_MODULE='{module}'", "--gin.TRAIN_STEPS=2",
          "--gin.TASK_FEATURE_LENGTHS={'inputs': 32, 'targets': 8}", "--gin.BATCH_SIZE=8",
          "--gin.EVAL_PERIOD=0", "--gin.TrainConfig.eval_num_examples=8",
          "--gin.TrainConfig.eval_batch_size=8", "--gin.TrainConfig.progress_bar=False"]


def test_train_infer_convert_with_the_checkpoints_own_tokenizer(run, capsys):
  root, source, module, mp = run
  model_dir = root / "run"
  code = cli.main(_train_argv(source, model_dir, module))
  out, err = capsys.readouterr()
  assert code == 0, err
  assert "Trained steps 0 -> 2." in out
  assert f"vocabulary: {source / 'tokenizer.json'}, the tokenizer of INITIAL_CHECKPOINT_PATH" \
      in err
  record = json.loads((model_dir / "run.json").read_text())
  assert record["train_config"]["vocabulary"] == str(source / "tokenizer.json")
  for name in ("tokenizer.json", "tokenizer_config.json", "generation_config.json"):
    assert (model_dir / "vocabulary" / name).read_bytes() == (source / name).read_bytes()

  # infer, from a fresh start without any vocabulary setting, tokenizes with the run's copy.
  mp.delenv(t5_features.VOCABULARY_ENV)
  _forget_task_module(str(module))
  preds = root / "preds.jsonl"
  code = cli.main(["infer", f"--model_dir={model_dir}", f"--task={hf_tokenizers.TASK}",
                   "--num_examples=2", "--batch_size=8", f"--out={preds}"])
  assert code == 0, capsys.readouterr().err
  used = seqio.get_mixture_or_task(hf_tokenizers.TASK).output_features["inputs"].vocabulary
  assert isinstance(used, hf_vocab.HfTokenizerVocabulary)
  assert used.tokenizer_file == str(model_dir / "vocabulary" / "tokenizer.json")
  rows = [json.loads(line) for line in preds.read_text().splitlines()]
  assert [r["inputs"] for r in rows] == [
      "Question: " + r["question"] for r in hf_tokenizers.QA_RECORDS[:2]]

  exported = root / "hf_out"
  assert cli.main(["convert", "--from", "flan_jax", "--to", "hf", str(model_dir),
                   str(exported)]) == 0
  assert "Copied the tokenizer files of" in capsys.readouterr().out
  ours = transformers.AutoTokenizer.from_pretrained(str(exported))
  theirs = transformers.AutoTokenizer.from_pretrained(str(source))
  for text in TEXTS:
    for special in (False, True):
      assert ours.encode(text, add_special_tokens=special) == \
          theirs.encode(text, add_special_tokens=special)
  assert ours.eos_token_id == 2
  assert transformers.AutoModelForCausalLM.from_pretrained(str(exported)).config.vocab_size \
      == 448

  # --to flan_jax keeps it as a run vocabulary; exporting that again gives the same files.
  native = root / "native"
  assert cli.main(["convert", "--from", "flan_jax", "--to", "flan_jax", str(model_dir),
                   str(native)]) == 0
  assert json.loads((native / "vocabulary" / "vocabulary.json").read_text())["kind"] == \
      "tokenizer.json"
  again = root / "hf_again"
  assert cli.main(["convert", "--from", "flan_jax", "--to", "hf", str(native), str(again)]) == 0
  for name in ("tokenizer.json", "tokenizer_config.json"):
    assert (again / name).read_bytes() == (source / name).read_bytes()


def test_a_checkpoint_tokenizer_without_eos_is_refused_before_compiling(run, capsys):
  root, _, module, _ = run
  source = root / "llama_no_eos"
  transformers.LlamaForCausalLM(transformers.LlamaConfig(
      **dict(LLAMA, eos_token_id=None))).save_pretrained(str(source))
  hf_tokenizers.llama_style(str(source), eos_in_config=False)
  _forget_task_module(str(module))
  gin.clear_config()
  code = cli.main(_train_argv(source, root / "refused", module))
  err = capsys.readouterr().err
  assert code != 0
  assert f"flan-jax: error: No EOS token is known for {source / 'tokenizer.json'}" in err
  assert f'add "eos_token": "<the end-of-text token>" to {source / "tokenizer_config.json"}' \
      in err
  assert not (root / "refused").exists()


def test_a_run_copy_keeps_an_eos_known_only_from_config_json(tmp_path):
  source = tmp_path / "falcon_like"
  hf_tokenizers.byte_level(str(source))
  (source / "generation_config.json").unlink()
  (source / "config.json").write_text(json.dumps({"model_type": "falcon", "eos_token_id": 7}))
  vocab = hf_vocab.HfTokenizerVocabulary(str(source))
  assert vocab.eos_id == 7
  from flan_jax.interop import hf_tokenizer  # pylint: disable=g-import-not-at-top
  assert hf_tokenizer.save_seqio_vocabulary(vocab, str(tmp_path / "run"))
  copy = tmp_path / "run" / "vocabulary"
  assert not (copy / "config.json").exists()  # A model config would not belong there.
  assert json.loads((copy / "generation_config.json").read_text()) == {"eos_token_id": 7}
  assert hf_vocab.HfTokenizerVocabulary(str(copy)) == vocab


def test_a_decoder_directory_with_only_a_sentencepiece_model_offers_that(tmp_path):
  from flan_jax.interop import hf_decoder  # pylint: disable=g-import-not-at-top
  (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
  assert hf_decoder.checkpoint_vocabulary(str(tmp_path)) is None
  (tmp_path / "tokenizer.model").write_bytes(b"spm")
  assert hf_decoder.checkpoint_vocabulary(str(tmp_path)) == str(tmp_path / "tokenizer.model")
  (tmp_path / "tokenizer.json").write_text("{}")
  assert hf_decoder.checkpoint_vocabulary(str(tmp_path)) == str(tmp_path / "tokenizer.json")
  (tmp_path / "config.json").write_text(json.dumps({"model_type": "t5"}))
  assert hf_decoder.checkpoint_vocabulary(str(tmp_path)) is None  # T5 runs keep T5's.
