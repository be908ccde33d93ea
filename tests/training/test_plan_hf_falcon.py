"""`flan-jax plan` for Falcon-40B-style and Falcon-RW-style (ALiBi) checkpoints: the plan's
parameter count equals transformers' own count of the same model (and the hand count)."""

import json

import gin
import pytest

from flan_jax.cli import main as cli

FALCON = dict(model_type="falcon", vocab_size=128, hidden_size=32, ffn_hidden_size=64,
              num_hidden_layers=2, num_attention_heads=4, tie_word_embeddings=False)
# embed 128*32; per layer q, dense 32*32 each, k, v 32*(kv*8) each, MLP 2*32*64, LayerNorms
# of 32 with bias (norms per layer); final LayerNorm; untied lm_head 32*128.
CASES = {
    "falcon_40b_style": (dict(FALCON, new_decoder_architecture=True, num_kv_heads=2),
                         128 * 32 + 2 * (2 * 32 * 32 + 2 * 32 * 16 + 2 * 32 * 64 + 2 * 64)
                         + 64 + 32 * 128),
    # Biases: fused query_key_value 3*32, dense 32, dense_h_to_4h 64, dense_4h_to_h 32.
    "falcon_rw_style": (dict(FALCON, alibi=True, bias=True, parallel_attn=False,
                             multi_query=False),
                        128 * 32 + 2 * (4 * 32 * 32 + 2 * 32 * 64 + 2 * 64 + 3 * 32 + 32 + 64
                                        + 32) + 64 + 32 * 128),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_answers_for_a_falcon_checkpoint(case, tmp_path, capsys):
  config, hand_count = CASES[case]
  (tmp_path / "config.json").write_text(json.dumps(config))
  gin.clear_config()
  code = cli.main(["plan", "--gin_file=models/hf_decoder.gin", "--gin_file=runs/finetune.gin",
                   f"--gin.INITIAL_CHECKPOINT_PATH='{tmp_path}'",
                   "--gin.TASK_FEATURE_LENGTHS={'inputs': 32, 'targets': 16}",
                   "--gin.BATCH_SIZE=8", "--mesh", "data=4,model=2", "--no_compile", "--json"])
  out, err = capsys.readouterr()
  gin.clear_config()
  assert code == 0, err
  plan = json.loads(out.strip().splitlines()[-1])
  assert plan["num_params"] == hand_count
  transformers = pytest.importorskip("transformers")
  reference = transformers.FalconForCausalLM(transformers.FalconConfig(
      **{k: v for k, v in config.items() if k != "model_type"}))
  assert plan["num_params"] == sum(p.numel() for p in reference.parameters())


def test_prefix_lm_with_an_alibi_checkpoint_is_one_error_line(tmp_path, capsys):
  (tmp_path / "config.json").write_text(json.dumps(dict(FALCON, alibi=True)))
  gin.clear_config()
  code = cli.main(["plan", "--gin_file=models/hf_decoder.gin", "--gin_file=runs/finetune.gin",
                   f"--gin.INITIAL_CHECKPOINT_PATH='{tmp_path}'",
                   "--gin.network.hf_decoder_config.prefix_lm=True", "--mesh", "data=8",
                   "--no_compile"])
  err = capsys.readouterr().err.strip().splitlines()
  gin.clear_config()
  assert code != 0
  assert len(err) == 1 and err[0].startswith("flan-jax: error: network.hf_decoder_config")
  assert "prefix_lm=False" in err[0]
