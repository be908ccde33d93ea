"""flan_jax native format, INITIAL_CHECKPOINT_PATH loading and `flan-jax convert`."""

import json
import os

import pytest

from flan_jax import errors
from flan_jax.cli import main as cli
from flan_jax.interop import ConversionError
from flan_jax.interop import hf
from flan_jax.interop import initial_checkpoint
from flan_jax.interop import native
from flan_jax.interop import param_tree
from flan_jax.interop import t5x
from flan_jax.models import t5
from tests.interop.random_params import assert_same, init_params

CFG = t5.T5Config(vocab_size=64, emb_dim=16, num_heads=2, head_dim=12, mlp_dim=24,
                  num_encoder_layers=1, num_decoder_layers=2, dropout_rate=0.0)


@pytest.fixture(scope="module")
def params():
  return init_params(CFG)


def test_native_round_trip_and_refuses_overwrite(params, tmp_path):
  path = str(tmp_path / "model")
  native.save(CFG.replace(dtype="bfloat16"), params, path)
  with open(os.path.join(path, "config.json")) as f:
    assert json.load(f)["mlp_activations"] == ["gelu", "linear"]
  config, loaded = native.load(path)
  assert config == CFG.replace(dtype="bfloat16")
  assert_same(loaded, params)
  with pytest.raises(ConversionError, match="non-empty"):
    native.save(CFG, params, path)
  with pytest.raises(errors.CheckpointMismatchError):
    native.save(CFG.replace(mlp_dim=32), params, str(tmp_path / "other"))


def test_native_scanned_params(params, tmp_path):
  path = str(tmp_path / "scanned")
  native.save(CFG.replace(scan_layers=True), param_tree.stack_layers(params), path)
  source_config, loaded = initial_checkpoint.load_source(path)
  assert not source_config.scan_layers
  assert_same(loaded, params)


def test_initial_checkpoint_from_each_format(params, tmp_path):
  native.save(CFG, params, str(tmp_path / "native"))
  t5x.save_legacy(params, str(tmp_path / "t5x"), step=7)
  hf.save_t5(t5.Transformer(CFG), params, str(tmp_path / "hf"))
  formats = {"native": "flan_jax", "t5x": "t5x", "hf": "hf"}
  for folder, kind in formats.items():
    path = str(tmp_path / folder)
    assert initial_checkpoint.detect_format(path) == kind
    assert_same(initial_checkpoint.load_params(path, CFG.replace(dropout_rate=0.1)), params)
  scanned = initial_checkpoint.load_params(str(tmp_path / "t5x"), CFG.replace(scan_layers=True))
  assert_same(scanned, param_tree.stack_layers(params))


def test_initial_checkpoint_mismatches(params, tmp_path):
  hf.save_t5(t5.Transformer(CFG), params, str(tmp_path / "hf"))
  with pytest.raises(errors.CheckpointMismatchError, match="missing: decoder/layers_2"):
    initial_checkpoint.load_params(str(tmp_path / "hf"), CFG.replace(num_decoder_layers=3))
  with pytest.raises(errors.CheckpointMismatchError, match="relative_attention_max_distance"):
    initial_checkpoint.load_params(str(tmp_path / "hf"),
                                   CFG.replace(relative_attention_max_distance=64))
  with pytest.raises(errors.ConfigError, match="does not exist"):
    initial_checkpoint.load_params(str(tmp_path / "missing"), CFG)


def test_cli_convert_chain_preserves_params(params, tmp_path, capsys):
  t5x.save_legacy(params, str(tmp_path / "t5x"))
  steps = [("t5x", "flan_jax", "t5x", "native"), ("flan_jax", "hf", "native", "hf"),
           ("hf", "flan_jax", "hf", "native2"), ("flan_jax", "t5x", "native2", "t5x2")]
  for source, target, src, dst in steps:
    argv = ["convert", "--from", source, "--to", target, str(tmp_path / src), str(tmp_path / dst)]
    assert cli.main(argv) == 0
  assert "Converted" in capsys.readouterr().out
  config, loaded = native.load(str(tmp_path / "native2"))
  assert config.replace(dropout_rate=0.0) == CFG
  assert_same(loaded, params)
  _, final = t5x.load_t5(str(tmp_path / "t5x2"))
  assert_same(final, params)


def test_cli_bad_input_prints_one_line(params, tmp_path, capsys):
  assert cli.main(["convert", "--from", "hf", "--to", "flan_jax", str(tmp_path / "none"),
                   str(tmp_path / "out")]) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and "does not exist" in err[0]
  native.save(CFG, params, str(tmp_path / "full"))
  assert cli.main(["convert", "--from", "flan_jax", "--to", "hf", str(tmp_path / "full"),
                   str(tmp_path / "full")]) == 2
  assert "Refusing to overwrite" in capsys.readouterr().err
  (tmp_path / "empty").mkdir()
  assert cli.main(["convert", "--from", "hf", "--to", "flan_jax", str(tmp_path / "empty"),
                   str(tmp_path / "out2")]) == 2
  assert "Missing" in capsys.readouterr().err
