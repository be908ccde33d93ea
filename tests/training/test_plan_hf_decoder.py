"""`flan-jax plan` for open decoder checkpoints (Llama, Falcon-40B-style, Falcon-RW-style
with ALiBi): the model comes from a Hugging Face config.json through
gin/models/hf_decoder.gin, and the plan's parameter count equals transformers' own count of
the same model and the hand count."""

import json

import gin
import pytest

from flan_jax.cli import main as cli

LLAMA = dict(model_type="llama", vocab_size=128, hidden_size=32, intermediate_size=64,
             num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
             tie_word_embeddings=False, rms_norm_eps=1e-5, hidden_act="silu")
FALCON = dict(model_type="falcon", vocab_size=128, hidden_size=32, ffn_hidden_size=64,
              num_hidden_layers=2, num_attention_heads=4, tie_word_embeddings=False)
CASES = {
    # embed 128*32; per layer q, o 32*32 each, k, v 32*(2*8) each, SwiGLU 3*32*64, 2 norms
    # of 32; final norm 32; untied lm_head 32*128.
    "llama": ("LlamaForCausalLM", LLAMA,
              128 * 32 + 2 * (2 * 32 * 32 + 2 * 32 * 16 + 3 * 32 * 64 + 2 * 32) + 32 + 32 * 128),
    # Falcon: per layer q, dense 32*32 each, k, v 32*(kv*8) each, MLP 2*32*64, LayerNorms of
    # 32 with bias; final LayerNorm; untied lm_head.
    "falcon_40b_style": ("FalconForCausalLM",
                         dict(FALCON, new_decoder_architecture=True, num_kv_heads=2),
                         128 * 32 + 2 * (2 * 32 * 32 + 2 * 32 * 16 + 2 * 32 * 64 + 2 * 64)
                         + 64 + 32 * 128),
    # Biases: fused query_key_value 3*32, dense 32, dense_h_to_4h 64, dense_4h_to_h 32.
    "falcon_rw_style": ("FalconForCausalLM",
                        dict(FALCON, alibi=True, bias=True, parallel_attn=False,
                             multi_query=False),
                        128 * 32 + 2 * (4 * 32 * 32 + 2 * 32 * 64 + 2 * 64 + 3 * 32 + 32 + 64
                                        + 32) + 64 + 32 * 128),
}


def _plan(config_dir, *flags):
  gin.clear_config()
  try:
    return cli.main(["plan", "--gin_file=models/hf_decoder.gin", "--gin_file=runs/finetune.gin",
                     f"--gin.INITIAL_CHECKPOINT_PATH='{config_dir}'", *flags, "--no_compile"])
  finally:
    gin.clear_config()


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_answers_for_a_hugging_face_decoder(case, tmp_path, capsys):
  cls_name, config, hand_count = CASES[case]
  (tmp_path / "config.json").write_text(json.dumps(config))
  code = _plan(tmp_path, "--gin.TASK_FEATURE_LENGTHS={'inputs': 32, 'targets': 16}",
               "--gin.BATCH_SIZE=8", "--mesh", "data=4,model=2", "--json")
  out, err = capsys.readouterr()
  assert code == 0, err
  plan = json.loads(out.strip().splitlines()[-1])
  assert plan["num_params"] == hand_count
  transformers = pytest.importorskip("transformers")
  config_cls = getattr(transformers, cls_name.replace("ForCausalLM", "Config"))
  reference = getattr(transformers, cls_name)(config_cls(
      **{k: v for k, v in config.items() if k != "model_type"}))
  assert plan["num_params"] == sum(p.numel() for p in reference.parameters())


def test_prefix_lm_with_an_alibi_checkpoint_is_one_error_line(tmp_path, capsys):
  (tmp_path / "config.json").write_text(json.dumps(dict(FALCON, alibi=True)))
  code = _plan(tmp_path, "--gin.network.hf_decoder_config.prefix_lm=True", "--mesh", "data=8")
  err = capsys.readouterr().err.strip().splitlines()
  assert code != 0
  assert len(err) == 1 and err[0].startswith("flan-jax: error: network.hf_decoder_config")
  assert "prefix_lm=False" in err[0]
