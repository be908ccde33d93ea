"""An open decoder checkpoint through the whole workflow: a random transformers Llama
(grouped-query attention, untied, sharded safetensors) starts a flan_jax finetune on a toy
Flan task, `flan-jax eval` computes MMLU's rank_accuracy on it, `flan-jax convert` exports
it, and transformers then computes the same logits and the same choice scores."""

import json

import jax
import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from flan_jax.cli import main as cli  # noqa: E402
from flan_jax.evaluation import infer as infer_lib  # noqa: E402
from flan_jax.evaluation import rank_classification  # noqa: E402
from flan_jax.interop import hf_decoder, initial_checkpoint, native  # noqa: E402
from flan_jax.models import palm, palm_decoding  # noqa: E402
from flan_jax.runtime.partitioning import PartitionConfig  # noqa: E402
from flan_jax.training import trainer  # noqa: E402
from flan_jax.training.config import TrainConfig  # noqa: E402
from flan_jax.training.optimizers import OptimizerConfig  # noqa: E402
from tests.evaluation import suite_files  # noqa: E402

LENGTHS = {"inputs": 96, "targets": 16}
BOS = 3  # The checkpoint's own start token: the finetune and the export keep it.
LLAMA = dict(vocab_size=1024, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
             num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False,
             rms_norm_eps=1e-5, initializer_range=0.1, bos_token_id=BOS, eos_token_id=1,
             pad_token_id=0)


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
  root = tmp_path_factory.mktemp("decoder_round_trip")
  torch.manual_seed(0)
  start = transformers.LlamaForCausalLM(transformers.LlamaConfig(**LLAMA)).eval()
  start.save_pretrained(str(root / "hf_start"), max_shard_size="100KB")  # sharded + index
  assert (root / "hf_start" / "model.safetensors.index.json").exists()
  model_config = hf_decoder.config_from_hf(json.loads((root / "hf_start" / "config.json")
                                                      .read_text()))
  config = TrainConfig(
      model_dir=str(root / "run"), mixture_or_task_name="toy.category:zs_opt",
      task_feature_lengths=LENGTHS, train_steps=3, batch_size=8, eval_period=0,
      checkpoint_period=0, log_period=1, eval_num_examples=4, eval_batch_size=8,
      progress_bar=False, initial_checkpoint_path=str(root / "hf_start"))
  summary = trainer.train(config, model_config, OptimizerConfig(learning_rate=1e-2),
                          partitioning=PartitionConfig(num_partitions=2))
  assert summary["final_step"] == 3
  return root, start


def test_finetune_from_hf_export_gives_transformers_the_same_logits(workflow):
  root, start = workflow
  config, tuned = native.load(str(root / "run"))
  assert isinstance(config, palm.PaLMConfig) and config.num_kv_heads == 2
  assert config.bos_id == BOS
  assert cli.main(["convert", "--from", "flan_jax", "--to", "hf", str(root / "run"),
                   str(root / "hf_tuned")]) == 0
  assert (root / "hf_tuned" / "tokenizer.json").exists()  # the run's vocabulary travels.
  exported = transformers.AutoModelForCausalLM.from_pretrained(str(root / "hf_tuned")).eval()
  tokens = np.random.RandomState(0).randint(2, 1024, (2, 12)).astype(np.int32)
  ours = palm.DecoderOnly(config).apply({"params": tuned}, tokens, tokens, enable_dropout=False)
  with torch.no_grad():
    theirs = exported(torch.as_tensor(tokens, dtype=torch.long)).logits.numpy()
    before = start(torch.as_tensor(tokens, dtype=torch.long)).logits.numpy()
  np.testing.assert_allclose(np.asarray(ours), theirs, atol=1e-4, rtol=0)
  assert np.abs(theirs - before).max() > 1e-3  # finetuning moved it from the start.


def test_mmlu_rank_accuracy_of_the_decoder_equals_transformers_ranking(workflow, tmp_path,
                                                                        capsys):
  root, _ = workflow
  mmlu_dir = suite_files.write_mmlu(tmp_path / "data", "anatomy")
  metrics_file = tmp_path / "m.json"
  code = cli.main(["eval", f"--model_dir={root / 'run'}", "--task=mmlu_anatomy_direct",
                   f"--mmlu_dir={mmlu_dir}", "--batch_size=8", f"--metrics_json={metrics_file}"])
  out, err = capsys.readouterr()
  assert code == 0, err
  metrics = json.loads(metrics_file.read_text())["metrics"]["mmlu_anatomy_direct"]
  assert metrics["num_examples"] == 2.0 and "rank_accuracy" in out
  # Independent ranking: transformers scores its BOS + prompt + each letter on the export.
  exported = str(root / "hf_tuned_mmlu")
  assert cli.main(["convert", "--from", "flan_jax", "--to", "hf", str(root / "run"),
                   exported]) == 0
  reference = transformers.AutoModelForCausalLM.from_pretrained(exported).eval()
  infer_lib.use_run_vocabulary(str(root / "run"))
  examples = [e for _, e in infer_lib.iterate_examples("mmlu_anatomy_direct", "test",
                                                         LENGTHS, None)]
  config, tuned = native.load(str(root / "run"))
  hits, ours, theirs = 0, [], []
  for example in examples:
    vocab_encode = _vocabulary().encode
    prompt = [int(t) for t in example["inputs"][:LENGTHS["inputs"]]]
    letters = rank_classification.choices_of(example)
    scores = []
    for letter in letters:
      ids = vocab_encode(letter)
      with torch.no_grad():
        logits = reference(torch.as_tensor([[BOS] + prompt + ids], dtype=torch.long)).logits[0]
      log_probs = torch.log_softmax(logits.double(), -1).numpy()
      scores.append(sum(log_probs[len(prompt) + j, t] for j, t in enumerate(ids)))
      inputs = np.zeros((1, LENGTHS["inputs"]), np.int32)
      inputs[0, :len(prompt)] = prompt
      targets = np.zeros((1, LENGTHS["targets"]), np.int32)
      targets[0, :len(ids)] = ids
      ours.append(float(palm_decoding.score_pairs(palm.DecoderOnly(config), tuned, inputs,
                                                  targets)[0]))
    theirs += scores
    hits += letters[int(np.argmax(scores))] == example["targets_pretokenized"].decode().strip()
  np.testing.assert_allclose(ours, theirs, atol=1e-4)
  assert metrics["rank_accuracy"] == pytest.approx(100.0 * hits / len(examples))


def _vocabulary():
  from flan_jax.data import t5_features  # pylint: disable=g-import-not-at-top
  return t5_features.vocabulary()


def test_mismatched_run_config_names_the_gin_bindings(workflow):
  root, _ = workflow
  wrong = hf_decoder.config_from_hf(json.loads((root / "hf_start" / "config.json")
                                               .read_text())).replace(num_kv_heads=1)
  with pytest.raises(Exception, match=r"num_kv_heads.*--gin.network.PaLMConfig.num_kv_heads=2"):
    initial_checkpoint.load_params(str(root / "hf_start"), wrong)


def test_infer_decodes_the_decoder_with_beam_search_and_sampling(workflow, tmp_path, capsys):
  root, _ = workflow
  base = ["infer", f"--model_dir={root / 'run'}", "--task=toy.category:zs_opt",
          "--num_examples=4", "--batch_size=4"]
  outputs = {}
  for name, flags in {"greedy": [], "beam1": ["--decode=beam", "--beam_size=1"],
                      "sample_t0": ["--decode=sample", "--temperature=0"]}.items():
    out_file = tmp_path / f"{name}.jsonl"
    assert cli.main(base + flags + [f"--out={out_file}"]) == 0, capsys.readouterr().err
    outputs[name] = [json.loads(line)["prediction"] for line in
                     out_file.read_text().splitlines()]
  assert all(len(rows) == 4 for rows in outputs.values())
  # One beam is greedy, and so is sampling at temperature 0.
  assert outputs["beam1"] == outputs["greedy"] == outputs["sample_t0"]
  assert cli.main(base + ["--decode=sample", "--top_p=0", f"--out={tmp_path / 'x.jsonl'}"]) != 0
  assert "top_p" in capsys.readouterr().err
  assert not (tmp_path / "x.jsonl").exists()
