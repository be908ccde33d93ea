"""Start from a Hugging Face T5 checkpoint, finetune it, export it back: transformers then
computes the same logits as flan_jax on the finetuned weights."""

import jax
import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from flan_jax.cli import main as cli  # noqa: E402
from flan_jax.interop import hf, native  # noqa: E402
from flan_jax.models import t5  # noqa: E402
from tests.interop.random_params import init_params  # noqa: E402
from flan_jax.runtime.partitioning import PartitionConfig  # noqa: E402
from flan_jax.training import trainer  # noqa: E402
from flan_jax.training.config import TrainConfig  # noqa: E402
from flan_jax.training.optimizers import OptimizerConfig  # noqa: E402

CONFIG = t5.T5Config(vocab_size=1024, emb_dim=32, num_heads=2, head_dim=16, mlp_dim=64,
                     num_encoder_layers=2, num_decoder_layers=2, dropout_rate=0.0)


def test_hf_initial_checkpoint_finetune_and_export(tmp_path):
  model = t5.Transformer(CONFIG)
  start_params = init_params(CONFIG, seed=3)
  hf.save_t5(model, start_params, str(tmp_path / "hf_start"))

  config = TrainConfig(
      model_dir=str(tmp_path / "run"), mixture_or_task_name="toy.category:zs_opt",
      task_feature_lengths={"inputs": 96, "targets": 16}, train_steps=3, batch_size=8,
      eval_period=0, checkpoint_period=0, log_period=1, eval_num_examples=4,
      eval_batch_size=8, progress_bar=False,
      initial_checkpoint_path=str(tmp_path / "hf_start"))
  summary = trainer.train(config, CONFIG, OptimizerConfig(learning_rate=1e-2),
                          partitioning=PartitionConfig(num_partitions=2))
  assert summary["final_step"] == 3

  _, tuned = native.load(str(tmp_path / "run"))
  moved = max(float(np.abs(a - b).max()) for a, b in zip(
      jax.tree_util.tree_leaves(tuned), jax.tree_util.tree_leaves(start_params)))
  assert moved > 0  # It really trained, starting from the HF weights (checked below).

  assert cli.main(["convert", "--from", "flan_jax", "--to", "hf", str(tmp_path / "run"),
                   str(tmp_path / "hf_tuned")]) == 0
  torch_model = transformers.T5ForConditionalGeneration.from_pretrained(
      str(tmp_path / "hf_tuned")).eval()
  rng = np.random.RandomState(0)
  enc = rng.randint(2, 1024, (2, 12)).astype(np.int32)
  dec = rng.randint(2, 1024, (2, 7)).astype(np.int32)
  ours = model.apply({"params": tuned}, encoder_input_tokens=enc, decoder_input_tokens=dec,
                     decoder_target_tokens=dec, enable_dropout=False)
  with torch.no_grad():
    theirs = torch_model(input_ids=torch.tensor(enc, dtype=torch.long),
                         decoder_input_ids=torch.tensor(dec, dtype=torch.long)).logits.numpy()
  np.testing.assert_allclose(np.asarray(ours), theirs, atol=1e-4, rtol=1e-4)



def test_initial_checkpoint_is_the_starting_point(tmp_path):
  """Before any step, the train state's params are exactly the HF checkpoint's."""
  import flax.linen as nn
  from flan_jax.training import losses, run_setup
  model = t5.Transformer(CONFIG)
  start = init_params(CONFIG, seed=5)
  hf.save_t5(model, start, str(tmp_path / "hf_start"))
  config = TrainConfig(model_dir=str(tmp_path / "run"), mixture_or_task_name="toy.category:zs_opt",
                       task_feature_lengths={"inputs": 96, "targets": 16}, train_steps=3,
                       batch_size=8, initial_checkpoint_path=str(tmp_path / "hf_start"))
  run = run_setup.prepare(config, CONFIG, OptimizerConfig(), losses.LossConfig(),
                          PartitionConfig(num_partitions=2))
  with jax.set_mesh(run.mesh), nn.logical_axis_rules(run.rules):
    state, position = run.restore_or_init()
  run.checkpoints.close()
  assert position == 0 and int(state.step) == 0
  for a, b in zip(jax.tree_util.tree_leaves(state.params), jax.tree_util.tree_leaves(start)):
    np.testing.assert_array_equal(np.asarray(a), b)
