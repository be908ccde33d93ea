"""Small random Hugging Face decoders (Llama, Falcon) saved to disk, the references the
decoder family is checked against; built from configs here, nothing downloaded."""

import functools

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

VOCAB = 97
LLAMA = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
             num_attention_heads=4, max_position_embeddings=64, rms_norm_eps=1e-5,
             initializer_range=0.2, bos_token_id=None, eos_token_id=None, pad_token_id=None,
             rope_parameters={"rope_type": "default", "rope_theta": 500.0})
FALCON = dict(vocab_size=VOCAB, hidden_size=32, ffn_hidden_size=64, num_hidden_layers=2,
              num_attention_heads=4, new_decoder_architecture=False, alibi=False, bias=False,
              initializer_range=0.2, bos_token_id=None, eos_token_id=None, pad_token_id=None,
              rope_parameters={"rope_type": "default", "rope_theta": 10_000.0})

VARIANTS = {
    # name: (transformers class, config kwargs, PaLMConfig fields the import must produce)
    "llama_mha_tied": ("LlamaForCausalLM", dict(LLAMA, num_key_value_heads=4,
                                               tie_word_embeddings=True),
                       dict(parallel_block=False, num_kv_heads=4, tie_embeddings=True)),
    "llama_gqa_untied": ("LlamaForCausalLM", dict(LLAMA, num_key_value_heads=2,
                                                 tie_word_embeddings=False),
                         dict(parallel_block=False, num_kv_heads=2, tie_embeddings=False)),
    "llama_mqa_untied": ("LlamaForCausalLM", dict(LLAMA, num_key_value_heads=1,
                                                 tie_word_embeddings=False),
                         dict(num_kv_heads=1, norm_type="rmsnorm")),
    "falcon_parallel_mqa_tied": ("FalconForCausalLM", dict(
        FALCON, multi_query=True, parallel_attn=True, tie_word_embeddings=True),
        dict(parallel_block=True, num_kv_heads=1, norm_type="layernorm",
             mlp_activations=("gelu_exact",))),
    "falcon_sequential_mha_untied": ("FalconForCausalLM", dict(
        FALCON, multi_query=False, parallel_attn=False, tie_word_embeddings=False),
        dict(parallel_block=False, num_kv_heads=4, tie_embeddings=False)),
    # Falcon-40B/180B block: grouped key/value heads, ln_attn + ln_mlp (or one shared norm).
    "falcon_new_gqa_two_norms_tied": ("FalconForCausalLM", dict(
        FALCON, new_decoder_architecture=True, num_kv_heads=2, num_ln_in_parallel_attn=2,
        tie_word_embeddings=True),
        dict(parallel_block=True, num_kv_heads=2, separate_mlp_norm=True)),
    "falcon_new_gqa_one_norm_bias_untied": ("FalconForCausalLM", dict(
        FALCON, new_decoder_architecture=True, num_kv_heads=2, num_ln_in_parallel_attn=1,
        bias=True, tie_word_embeddings=False),
        dict(parallel_block=True, num_kv_heads=2, separate_mlp_norm=False,
             tie_embeddings=False, dense_bias=True)),
    # ALiBi, no RoPE. 12 heads: slopes beyond the power of two, not powers of two
    # themselves, so their bfloat16 rounding shows. Falcon-RW's block (sequential, MHA)
    # also has biases on its linear layers.
    "falcon_alibi_parallel_mqa_12_heads": ("FalconForCausalLM", dict(
        FALCON, hidden_size=48, num_attention_heads=12, alibi=True, multi_query=True,
        parallel_attn=True, tie_word_embeddings=True),
        dict(position_embedding="alibi", parallel_block=True, num_kv_heads=1, head_dim=4)),
    "falcon_rw_alibi_bias_sequential_mha_untied": ("FalconForCausalLM", dict(
        FALCON, alibi=True, bias=True, multi_query=False, parallel_attn=False,
        tie_word_embeddings=False),
        dict(position_embedding="alibi", parallel_block=False, num_kv_heads=4, dense_bias=True)),
}


def _perturb_norms(model):
  """Norm scales start at 1 and biases (norms', linear layers') at 0: randomize them so
  their mapping is checked."""
  gen = torch.Generator().manual_seed(1)
  with torch.no_grad():
    for name, p in model.named_parameters():
      if p.ndim == 1:
        p.add_(0.3 * torch.randn(p.shape, generator=gen))


@functools.lru_cache(maxsize=None)
def hf_checkpoint(variant: str, tmp_root: str):
  """(transformers model, its saved directory) for one variant."""
  cls_name, kwargs, _ = VARIANTS[variant]
  torch.manual_seed(0)
  config_cls = (transformers.LlamaConfig if cls_name.startswith("Llama")
                else transformers.FalconConfig)
  model = getattr(transformers, cls_name)(config_cls(**kwargs)).eval()
  _perturb_norms(model)
  path = f"{tmp_root}/{variant}"
  model.save_pretrained(path)
  return model, path


def reference(variant: str, tmp_path_factory):
  """(transformers model, flan_jax model, params) of one variant, imported from its save."""
  from flan_jax.interop import hf_decoder  # pylint: disable=g-import-not-at-top
  hf_model, path = hf_checkpoint(variant, str(tmp_path_factory.mktemp("hf_decoders")))
  model, params = hf_decoder.load_decoder(path)
  return hf_model, model, params
