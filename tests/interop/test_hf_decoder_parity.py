"""The decoder family's block variants against Hugging Face transformers, same random weights.

References (transformers, torch, CPU, float32), built from small random configs, no download:
- LlamaForCausalLM: sequential blocks, RMSNorm, SwiGLU, RoPE; multi-head, grouped-query
  and multi-query attention; tied and untied embeddings.
- FalconForCausalLM (new_decoder_architecture=False): parallel attention + MLP with one
  shared LayerNorm (parallel_attn=True) or sequential blocks, LayerNorm with bias, GELU
  MLP, RoPE; multi-query (fused query_key_value split) or multi-head attention.
- FalconForCausalLM (new_decoder_architecture=True, Falcon-40B/180B): grouped key/value
  heads in the grouped fused layout, parallel block with ln_attn + ln_mlp or one norm.
- FalconForCausalLM with alibi=True (Falcon-RW), parallel and sequential: ALiBi, no RoPE
  (more in test_hf_decoder_alibi.py).
Each is saved by transformers, imported by `hf_decoder.load_decoder`, and must give logits
within 1e-4 and the same greedy tokens as transformers' own forward pass and `generate`.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from flan_jax.interop import hf_decoder  # pylint: disable=g-import-not-at-top
from flan_jax.models import palm_decoding  # pylint: disable=g-import-not-at-top
from tests.interop.hf_decoders import VARIANTS, VOCAB, hf_checkpoint  # pylint: disable=g-import-not-at-top


def _tokens(batch=2, length=11, seed=0):
  return np.random.RandomState(seed).randint(1, VOCAB, (batch, length)).astype(np.int32)


def _our_logits(model, params, tokens):
  return np.asarray(model.apply({"params": params}, jnp.asarray(tokens), jnp.ones_like(tokens),
                                enable_dropout=False))


def _hf_logits(hf_model, tokens):
  with torch.no_grad():
    return hf_model(torch.as_tensor(tokens, dtype=torch.long)).logits.numpy()


@pytest.fixture(scope="module")
def tmp_root(tmp_path_factory):
  return str(tmp_path_factory.mktemp("hf_decoders"))


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_logits_and_greedy_tokens_match_transformers(variant, tmp_root):
  hf_model, path = hf_checkpoint(variant, tmp_root)
  model, params = hf_decoder.load_decoder(path)
  for field, value in VARIANTS[variant][2].items():
    assert getattr(model.config, field) == value, field
  tokens = _tokens()
  ours, ref = _our_logits(model, params, tokens), _hf_logits(hf_model, tokens)
  assert np.abs(ref).max() > 0.5  # the weights are large enough for the check to bite.
  np.testing.assert_allclose(ours, ref, atol=1e-4, rtol=0)
  # Greedy: our prefix decoder puts BOS (id 0) before the prompt; give transformers the same.
  prompts = _tokens(batch=2, length=5, seed=1)
  steps = 8
  with torch.no_grad():
    generated = hf_model.generate(
        torch.as_tensor(np.pad(prompts, ((0, 0), (1, 0))), dtype=torch.long),
        max_new_tokens=steps, do_sample=False, eos_token_id=None, pad_token_id=0,
        attention_mask=torch.ones((2, 6), dtype=torch.long)).numpy()[:, 6:]
  decoded = jax.jit(lambda p, t: palm_decoding.greedy_decode_prefix(
      model, p, t, max_decode_length=steps, eos_id=-1))(params, jnp.asarray(prompts))
  np.testing.assert_array_equal(np.asarray(decoded), generated)


@pytest.mark.parametrize("variant", [
    "llama_gqa_untied", "falcon_parallel_mqa_tied", "falcon_new_gqa_two_norms_tied",
    "falcon_new_gqa_one_norm_bias_untied", "falcon_alibi_parallel_mqa_12_heads",
    "falcon_rw_alibi_bias_sequential_mha_untied"])
def test_export_loads_in_transformers_with_equal_logits(variant, tmp_root, tmp_path):
  hf_model, path = hf_checkpoint(variant, tmp_root)
  model, params = hf_decoder.load_decoder(path)
  out = str(tmp_path / "exported")
  # Small shards: the export is sharded with a model.safetensors.index.json.
  hf_decoder.save_decoder(model, params, out, max_shard_bytes=20_000)
  import os  # pylint: disable=g-import-not-at-top
  assert os.path.exists(os.path.join(out, "model.safetensors.index.json"))
  reloaded = transformers.AutoModelForCausalLM.from_pretrained(out).eval()
  for flag in ("new_decoder_architecture", "num_kv_heads", "alibi", "parallel_attn"):
    assert getattr(reloaded.config, flag, None) == getattr(hf_model.config, flag, None), flag
  tokens = _tokens(seed=3)
  np.testing.assert_allclose(_hf_logits(reloaded, tokens), _hf_logits(hf_model, tokens),
                             atol=1e-5, rtol=0)
  # And back: the sharded directory imports to the same params.
  _, again = hf_decoder.load_decoder(out)
  jax.tree.map(np.testing.assert_array_equal, again, params)


def test_palm_default_config_is_refused_for_export():
  from flan_jax.interop import ConversionError  # pylint: disable=g-import-not-at-top
  from flan_jax.models import palm  # pylint: disable=g-import-not-at-top
  with pytest.raises(ConversionError, match="scale_tied_logits"):
    hf_decoder.config_to_hf(palm.PaLMConfig())


@pytest.mark.parametrize("variant", ["falcon_parallel_mqa_tied", "falcon_new_gqa_two_norms_tied",
                                     "falcon_rw_alibi_bias_sequential_mha_untied"])
def test_convert_hf_to_flan_jax_and_back_keeps_weights_and_tokenizer(variant, tmp_root,
                                                                     tmp_path):
  import os  # pylint: disable=g-import-not-at-top
  import shutil  # pylint: disable=g-import-not-at-top
  from tokenizers import Tokenizer, models  # pylint: disable=g-import-not-at-top
  from flan_jax.cli import main as cli  # pylint: disable=g-import-not-at-top
  hf_model, path = hf_checkpoint(variant, tmp_root)
  src = tmp_path / "src"
  shutil.copytree(path, src)
  Tokenizer(models.WordLevel({"<unk>": 0, "a": 1}, unk_token="<unk>")).save(
      str(src / "tokenizer.json"))
  assert cli.main(["convert", "--from", "hf", "--to", "flan_jax", str(src),
                   str(tmp_path / "native")]) == 0
  assert cli.main(["convert", "--from", "flan_jax", "--to", "hf", str(tmp_path / "native"),
                   str(tmp_path / "back")]) == 0
  assert (tmp_path / "back" / "tokenizer.json").read_bytes() == \
      (src / "tokenizer.json").read_bytes()
  assert os.path.exists(tmp_path / "back" / "model.safetensors")
  reloaded = transformers.AutoModelForCausalLM.from_pretrained(str(tmp_path / "back")).eval()
  tokens = _tokens(seed=4)
  np.testing.assert_array_equal(_hf_logits(reloaded, tokens), _hf_logits(hf_model, tokens))
