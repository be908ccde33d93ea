"""`flan-jax plan` for an open decoder checkpoint: the model comes from a Hugging Face Llama
config.json through gin/models/hf_decoder.gin, and the plan's parameter count equals
transformers' own count of the same model (and the hand count)."""

import json

import gin
import pytest

from flan_jax.cli import main as cli

LLAMA = dict(model_type="llama", vocab_size=128, hidden_size=32, intermediate_size=64,
             num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
             tie_word_embeddings=False, rms_norm_eps=1e-5, hidden_act="silu")
# embed 128*32; per layer q, o 32*32 each, k, v 32*(2*8) each, SwiGLU 3*32*64, 2 norms of 32;
# final norm 32; untied lm_head 32*128.
HAND_COUNT = 128 * 32 + 2 * (2 * 32 * 32 + 2 * 32 * 16 + 3 * 32 * 64 + 2 * 32) + 32 + 32 * 128


def test_plan_answers_for_a_hugging_face_decoder(tmp_path, capsys):
  (tmp_path / "config.json").write_text(json.dumps(LLAMA))
  gin.clear_config()
  code = cli.main(["plan", "--gin_file=models/hf_decoder.gin", "--gin_file=runs/finetune.gin",
                   f"--gin.INITIAL_CHECKPOINT_PATH='{tmp_path}'",
                   "--gin.TASK_FEATURE_LENGTHS={'inputs': 32, 'targets': 16}",
                   "--gin.BATCH_SIZE=8", "--mesh", "data=4,model=2", "--no_compile", "--json"])
  out, err = capsys.readouterr()
  gin.clear_config()
  assert code == 0, err
  plan = json.loads(out.strip().splitlines()[-1])
  assert plan["num_params"] == HAND_COUNT == 26784
  transformers = pytest.importorskip("transformers")
  config = transformers.LlamaConfig(**{k: v for k, v in LLAMA.items() if k != "model_type"})
  reference = transformers.LlamaForCausalLM(config)
  assert plan["num_params"] == sum(p.numel() for p in reference.parameters())
