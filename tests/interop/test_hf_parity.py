"""flan_jax T5 vs transformers' PyTorch T5 on random weights: logits and greedy decoding."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
safetensors_torch = pytest.importorskip("safetensors.torch")

from flan_jax.interop import ConversionError  # noqa: E402
from flan_jax.interop import hf  # noqa: E402
from flan_jax.models import t5_decoding  # noqa: E402

VOCAB = 64
CONFIGS = {
    # v1.1: gated GELU, untied output, unequal depth, heads * d_kv != d_model.
    "v1_1": dict(d_model=16, d_kv=8, num_heads=3, d_ff=32, num_layers=2, num_decoder_layers=3,
                 feed_forward_proj="gated-gelu", tie_word_embeddings=False),
    # v1.0: ReLU, tied output embedding with the d_model**-0.5 logit scaling.
    "v1_0": dict(d_model=16, d_kv=6, num_heads=4, d_ff=24, num_layers=2, num_decoder_layers=2,
                 feed_forward_proj="relu", tie_word_embeddings=True),
    "gated_silu_deep_decoder": dict(d_model=24, d_kv=6, num_heads=2, d_ff=40, num_layers=1,
                                    num_decoder_layers=4, feed_forward_proj="gated-silu",
                                    tie_word_embeddings=False),
}


def write_hf_checkpoint(path, name, seed=0, file_name="model.safetensors"):
  """A transformers T5 directory with random weights (norms and lm_head included)."""
  fields = dict(CONFIGS[name], vocab_size=VOCAB, relative_attention_num_buckets=8,
                relative_attention_max_distance=20, dropout_rate=0.0, model_type="t5",
                architectures=["T5ForConditionalGeneration"], is_encoder_decoder=True,
                decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
  shapes = transformers.T5ForConditionalGeneration(
      transformers.T5Config(**fields)).state_dict()
  rng = np.random.RandomState(seed)
  state = {}
  for key, value in shapes.items():
    if "embed_tokens" in key or (fields["tie_word_embeddings"] and key == "lm_head.weight"):
      continue
    shape = tuple(value.shape)
    if key.endswith("layer_norm.weight"):
      array = 1.0 + 0.2 * rng.randn(*shape)
    elif "relative_attention_bias" in key or key == "shared.weight":
      array = rng.randn(*shape)
    else:
      array = rng.randn(*shape) / np.sqrt(shape[-1])
    state[key] = torch.tensor(array, dtype=torch.float32)
  os.makedirs(path, exist_ok=True)
  if file_name.endswith(".bin"):
    torch.save(state, os.path.join(path, file_name))
  else:
    safetensors_torch.save_file(state, os.path.join(path, file_name), metadata={"format": "pt"})
  with open(os.path.join(path, "config.json"), "w") as f:
    json.dump(fields, f)
  return path


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def pair(request, tmp_path_factory):
  """(name, torch model, our model, our params) loaded from one checkpoint directory."""
  path = write_hf_checkpoint(str(tmp_path_factory.mktemp(request.param)), request.param)
  torch_model = transformers.T5ForConditionalGeneration.from_pretrained(path).eval()
  model, params = hf.load_t5(path, dropout_rate=0.0)
  return request.param, torch_model, model, params


def _inputs():
  rng = np.random.RandomState(1)
  enc = rng.randint(2, VOCAB, (2, 11))
  enc[1, 7:] = 0  # row 1 is padded.
  dec = rng.randint(2, VOCAB, (2, 6))
  dec[:, 0] = 0
  return enc, dec


def _hf_logits(torch_model, enc, dec):
  with torch.no_grad():
    out = torch_model(input_ids=torch.tensor(enc), attention_mask=torch.tensor(enc > 0),
                      decoder_input_ids=torch.tensor(dec))
  return out.logits.numpy()


def _our_logits(model, params, enc, dec, **kwargs):
  fn = jax.jit(lambda p, e, d: model.apply({"params": p}, e, d, enable_dropout=False, **kwargs))
  return np.asarray(fn(params, jnp.asarray(enc), jnp.asarray(dec)))


def test_loaded_config_and_tying(pair):
  name, torch_model, model, params = pair
  cfg = model.config
  assert cfg.logits_via_embedding == (name == "v1_0")
  assert ("logits_dense" in params["decoder"]) != cfg.logits_via_embedding
  assert cfg.num_decoder_layers == CONFIGS[name]["num_decoder_layers"]
  assert cfg.num_heads * cfg.head_dim != cfg.emb_dim
  lm_head = torch_model.lm_head.weight.detach().numpy()
  if not cfg.logits_via_embedding:  # transformers must have loaded the checkpoint untied.
    assert not np.allclose(lm_head, torch_model.shared.weight.detach().numpy())
    np.testing.assert_array_equal(params["decoder"]["logits_dense"]["kernel"], lm_head.T)


def test_logits_match_with_padding(pair):
  _, torch_model, model, params = pair
  enc, dec = _inputs()
  ours, ref = _our_logits(model, params, enc, dec), _hf_logits(torch_model, enc, dec)
  np.testing.assert_allclose(ours, ref, atol=1e-4, rtol=1e-4)


def test_packed_rows_match_each_example_alone(pair):
  _, torch_model, model, params = pair
  enc, dec = _inputs()
  a_len, b_len = 11, 7  # row 0 full, row 1 without its padding.
  packed_enc = np.concatenate([enc[0], enc[1, :b_len], [0, 0]])[None]
  packed_dec = np.concatenate([dec[0], dec[1], [0]])[None]
  seg = lambda n, m, pad: np.asarray([[1] * n + [2] * m + [0] * pad])
  pos = lambda n, m, pad: np.asarray([list(range(n)) + list(range(m)) + [0] * pad])
  ours = _our_logits(model, params, packed_enc, packed_dec,
                     encoder_segment_ids=seg(a_len, b_len, 2), decoder_segment_ids=seg(6, 6, 1),
                     encoder_positions=pos(a_len, b_len, 2), decoder_positions=pos(6, 6, 1))
  ref_a = _hf_logits(torch_model, enc[:1], dec[:1])[0]
  ref_b = _hf_logits(torch_model, enc[1:, :b_len], dec[1:])[0]
  np.testing.assert_allclose(ours[0, :6], ref_a, atol=1e-4, rtol=1e-4)
  np.testing.assert_allclose(ours[0, 6:12], ref_b, atol=1e-4, rtol=1e-4)


def test_greedy_decoding_matches_generate(pair):
  _, torch_model, model, params = pair
  enc, _ = _inputs()
  steps = 24
  ours = np.asarray(jax.jit(lambda p, e: t5_decoding.greedy_decode(model, p, e, steps, eos_id=1))(
      params, jnp.asarray(enc)))
  with torch.no_grad():
    ref = torch_model.generate(input_ids=torch.tensor(enc), attention_mask=torch.tensor(enc > 0),
                               max_new_tokens=steps, min_new_tokens=0, do_sample=False,
                               num_beams=1, eos_token_id=1, pad_token_id=0,
                               use_cache=False).numpy()[:, 1:]
  ref = np.pad(ref, ((0, 0), (0, steps - ref.shape[1])))
  np.testing.assert_array_equal(ours, ref)
  assert np.count_nonzero(ours[0]) >= 20 or np.count_nonzero(ours[1]) >= 20


def test_save_t5_loads_in_transformers_with_same_logits(pair, tmp_path):
  name, torch_model, model, params = pair
  out = str(tmp_path / "saved")
  hf.save_t5(model, params, out)
  reloaded = transformers.T5ForConditionalGeneration.from_pretrained(out).eval()
  enc, dec = _inputs()
  np.testing.assert_allclose(_hf_logits(reloaded, enc, dec), _hf_logits(torch_model, enc, dec),
                             atol=1e-5, rtol=1e-5)
  with pytest.raises(ConversionError):
    hf.save_t5(model, params, out)  # refuses a non-empty directory.


def test_pytorch_bin_loads(tmp_path):
  path = write_hf_checkpoint(str(tmp_path), "v1_1", file_name="pytorch_model.bin")
  safe = write_hf_checkpoint(str(tmp_path / "safe"), "v1_1")
  _, from_bin = hf.load_t5(path)
  _, from_safe = hf.load_t5(safe)
  jax.tree.map(np.testing.assert_array_equal, from_bin, from_safe)


def test_missing_weights_raise_clear_error(tmp_path):
  with pytest.raises(ConversionError, match="not a Hugging Face checkpoint"):
    hf.read_state_dict(str(tmp_path))


def test_tied_config_with_its_own_lm_head_is_folded(tmp_path):
  """tie_word_embeddings=true plus a distinct lm_head: transformers scales AND unties."""
  path = write_hf_checkpoint(str(tmp_path), "v1_0")
  from safetensors.numpy import load_file, save_file
  state = load_file(os.path.join(path, "model.safetensors"))
  state["lm_head.weight"] = np.random.RandomState(5).randn(*state["shared.weight"].shape).astype(
      np.float32)
  save_file(state, os.path.join(path, "model.safetensors"), metadata={"format": "pt"})
  torch_model = transformers.T5ForConditionalGeneration.from_pretrained(path).eval()
  model, params = hf.load_t5(path)
  assert not model.config.logits_via_embedding
  enc, dec = _inputs()
  np.testing.assert_allclose(_our_logits(model, params, enc, dec),
                             _hf_logits(torch_model, enc, dec), atol=1e-4, rtol=1e-4)
