"""`convert --to hf` writes the run's tokenizer: transformers then encodes, generates and
decodes text exactly as flan_jax does."""

import json
import random

import numpy as np
import pytest

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from flan_jax.cli import main as cli  # noqa: E402
from flan_jax.data import vocab as vocab_lib  # noqa: E402
from flan_jax.interop import ConversionError, hf_tokenizer  # noqa: E402
from flan_jax.models import t5  # noqa: E402
from flan_jax.runtime.partitioning import PartitionConfig  # noqa: E402
from flan_jax.training import trainer  # noqa: E402
from flan_jax.training.config import TrainConfig  # noqa: E402
from flan_jax.training.optimizers import OptimizerConfig  # noqa: E402

CONFIG = t5.T5Config(vocab_size=1024, emb_dim=32, num_heads=2, head_dim=16, mlp_dim=64,
                     num_encoder_layers=2, num_decoder_layers=2, dropout_rate=0.0)
PROMPTS = ["What is the capital of France?", "  two  leading spaces,\nand a newline",
           "Digits 12345 and 3.14; ﬁ ligature, émoji 😀.", "Translate to German: good morning"]


def _toy_lines(count: int) -> list[str]:
  from flan_jax.data.toy import corpus
  lines = corpus.vocab_training_lines()
  rng = random.Random(0)
  noisy = ["".join(rng.choice(lines[i] + "  \n0123456789😀éﬁ") for _ in range(40))
           for i in range(count // 4)]
  return lines[:count] + noisy + PROMPTS + ["", " ", "\n", "<extra_id_0> x"]


@pytest.mark.parametrize("extra_ids", [0, 3])
def test_exported_tokenizer_matches_seqio_ids(tmp_path, extra_ids):
  import seqio
  model_file = vocab_lib.toy_vocabulary().sentencepiece_model_file
  hf_tokenizer.save_tokenizer(model_file, extra_ids, str(tmp_path / "tok"))
  theirs = transformers.AutoTokenizer.from_pretrained(str(tmp_path / "tok"))
  ours = seqio.SentencePieceVocabulary(model_file, extra_ids=extra_ids)
  assert len(theirs) == ours.vocab_size == 1024 + extra_ids
  for line in _toy_lines(2000):
    ids = ours.encode(line) + [1]  # flan_jax's features append EOS (id 1).
    assert theirs(line)["input_ids"] == ids, line
    assert theirs.decode(ids, skip_special_tokens=True) == ours.decode(ids), line
  if extra_ids:  # seqio numbers sentinels down from the top id.
    assert theirs("<extra_id_0>")["input_ids"] == [1024 + extra_ids - 1, 1]


def test_exported_model_and_tokenizer_predict_like_flan_jax(tmp_path):
  run_dir = str(tmp_path / "run")
  config = TrainConfig(
      model_dir=run_dir, mixture_or_task_name="toy.category:zs_opt",
      task_feature_lengths={"inputs": 64, "targets": 12}, train_steps=2, batch_size=8,
      eval_period=0, checkpoint_period=0, log_period=1, progress_bar=False)
  trainer.train(config, CONFIG, OptimizerConfig(learning_rate=1e-2),
                partitioning=PartitionConfig(num_partitions=1))
  # The run keeps its vocabulary, so convert needs no --vocabulary.
  with open(tmp_path / "run" / "vocabulary" / "vocabulary.json") as f:
    assert json.load(f)["extra_ids"] == 0
  assert cli.main(["convert", "--from", "flan_jax", "--to", "hf", run_dir,
                   str(tmp_path / "hf")]) == 0

  from flan_jax.evaluation import infer
  from flan_jax.evaluation.predict import Predictor
  vocab = vocab_lib.toy_vocabulary()
  loaded = infer.load_model_dir(run_dir, PartitionConfig(num_partitions=1))
  predictor = Predictor(loaded.model, loaded.mesh, loaded.rules, loaded.param_shardings,
                        batch_size=len(PROMPTS), max_decode_length=12)
  inputs = np.zeros((len(PROMPTS), 64), np.int32)
  for row, prompt in enumerate(PROMPTS):
    ids = vocab.encode(prompt) + [1]
    inputs[row, :len(ids)] = ids
  tokens = predictor.predict_tokens(loaded.params, inputs)
  ours = [vocab.decode([int(t) for t in row]) for row in tokens]

  tokenizer = transformers.AutoTokenizer.from_pretrained(str(tmp_path / "hf"))
  model = transformers.T5ForConditionalGeneration.from_pretrained(str(tmp_path / "hf")).eval()
  theirs = []
  for prompt in PROMPTS:
    encoded = tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
      out = model.generate(**encoded, max_new_tokens=12, do_sample=False, num_beams=1)
    theirs.append(tokenizer.decode(out[0], skip_special_tokens=True))
  assert theirs == ours
  assert len(set(ours)) > 1  # Distinct prompts gave distinct texts: a real comparison.


def test_convert_rejects_a_bad_vocabulary_before_writing(tmp_path, capsys):
  bogus = tmp_path / "not_a_model.bin"
  bogus.write_bytes(b"hello")
  hf_dir = tmp_path / "hf_src"
  from flan_jax.interop import hf
  from tests.interop.random_params import init_params
  hf.save_t5(t5.Transformer(CONFIG), init_params(CONFIG, seed=1), str(hf_dir))
  assert cli.main(["convert", "--from", "hf", "--to", "hf", str(hf_dir),
                   str(tmp_path / "out"), "--vocabulary", str(bogus)]) != 0
  assert "not_a_model.bin' is not a SentencePiece model file" in capsys.readouterr().err
  assert not (tmp_path / "out").exists()
  with pytest.raises(ConversionError, match="needs --vocabulary"):
    from flan_jax.cli import convert
    convert.convert("hf", "hf", str(hf_dir), str(tmp_path / "out"), extra_ids=100)
