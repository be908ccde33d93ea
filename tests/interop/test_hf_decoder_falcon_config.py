"""Falcon config.json fields <-> PaLMConfig: what maps, and what is refused with a reason.

The refused configs are those transformers itself cannot run (checked against its
FalconForCausalLM where cheap) or that flan_jax does not implement.
"""

import pytest

from flan_jax.interop import ConversionError, hf_decoder
from flan_jax.models import palm

FALCON = dict(model_type="falcon", vocab_size=64, hidden_size=32, num_hidden_layers=2,
              num_attention_heads=4, ffn_hidden_size=64)


def test_falcon_40b_fields_map_to_grouped_heads_and_separate_norms():
  cfg = hf_decoder.config_from_hf(dict(FALCON, new_decoder_architecture=True, num_kv_heads=2))
  # num_ln_in_parallel_attn unset means 2 under the new architecture (transformers' rule).
  assert (cfg.num_kv_heads, cfg.parallel_block, cfg.separate_mlp_norm) == (2, True, True)
  cfg = hf_decoder.config_from_hf(dict(FALCON, new_decoder_architecture=True,
                                       num_ln_in_parallel_attn=1))
  assert (cfg.num_kv_heads, cfg.separate_mlp_norm) == (4, False)  # num_kv_heads unset: all.
  back = hf_decoder.config_to_hf(cfg.replace(num_kv_heads=2))
  assert (back["new_decoder_architecture"], back["num_kv_heads"],
          back["num_ln_in_parallel_attn"]) == (True, 2, 1)
  # What the original block can express is exported as the original block.
  back = hf_decoder.config_to_hf(cfg.replace(num_kv_heads=1))
  assert (back["new_decoder_architecture"], back["multi_query"]) == (False, True)


def test_alibi_field_maps_to_position_embedding():
  cfg = hf_decoder.config_from_hf(dict(FALCON, alibi=True, parallel_attn=False,
                                       multi_query=False))
  assert (cfg.position_embedding, cfg.parallel_block, cfg.num_kv_heads) == ("alibi", False, 4)
  assert hf_decoder.config_to_hf(cfg)["alibi"] is True


@pytest.mark.parametrize("fields, match", [
    (dict(new_decoder_architecture=True, parallel_attn=False), "parallel_attn=false"),
    (dict(new_decoder_architecture=True, num_ln_in_parallel_attn=3), "1 or 2"),
    (dict(num_ln_in_parallel_attn=2), "without new_decoder_architecture"),
])
def test_falcon_configs_transformers_cannot_run_are_refused(fields, match):
  with pytest.raises(ConversionError, match=match):
    hf_decoder.config_from_hf(dict(FALCON, **fields))
  torch = pytest.importorskip("torch")
  transformers = pytest.importorskip("transformers")
  kwargs = {k: v for k, v in dict(FALCON, **fields).items() if k != "model_type"}
  # transformers builds them, then its forward pass fails (a missing norm or input).
  with pytest.raises((AttributeError, UnboundLocalError)):
    model = transformers.FalconForCausalLM(transformers.FalconConfig(**kwargs))
    model(torch.ones((1, 3), dtype=torch.long))


def test_configs_no_transformers_decoder_computes_are_refused_for_export():
  base = palm.PaLMConfig(vocab_size=64, emb_dim=32, num_heads=4, head_dim=8, num_layers=2,
                         mlp_dim=64, scale_tied_logits=False, norm_type="layernorm",
                         mlp_activations=("gelu_exact",))
  # Grouped key/value heads exist in Falcon only with the (parallel) new architecture.
  with pytest.raises(ConversionError, match="num_kv_heads=2"):
    hf_decoder.config_to_hf(base.replace(parallel_block=False, num_kv_heads=2))
  llama = base.replace(norm_type="rmsnorm", parallel_block=False,
                       mlp_activations=("swish", "linear"))
  assert hf_decoder.config_to_hf(llama)["model_type"] == "llama"
  with pytest.raises(ConversionError, match="position_embedding='alibi'"):
    hf_decoder.config_to_hf(llama.replace(position_embedding="alibi"))


def test_palm_config_validates_the_falcon_fields():
  assert palm.PaLMConfig(position_embedding="alibi", head_dim=7).head_dim == 7  # no RoPE.
  for bad, match in ((dict(position_embedding="learned"), "position_embedding"),
                     (dict(position_embedding="alibi", prefix_lm=True), "prefix_lm"),
                     (dict(separate_mlp_norm=True, parallel_block=False), "parallel_block")):
    with pytest.raises(ValueError, match=match):
      palm.PaLMConfig(**bad)
