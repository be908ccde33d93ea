"""Reading a checkpoint never runs its code nor follows its index out of its folder."""

import json
import os
import re

import pytest
import torch
from flax import serialization

from flan_jax.cli import main as cli
from flan_jax.interop import ConversionError, hf, t5x
from flan_jax.models import t5
from tests.interop.random_params import init_params

CFG = t5.T5Config(vocab_size=64, emb_dim=16, num_heads=2, head_dim=12, mlp_dim=24,
                  num_encoder_layers=1, num_decoder_layers=1, dropout_rate=0.0)
ESCAPES = ["../../outside.safetensors", "/etc/passwd"]


class _RunsCode:
  """Unpickling this would create `marker`: what a malicious .bin does."""

  def __init__(self, marker):
    self.marker = marker

  def __reduce__(self):
    return (open, (self.marker, "w"))


def test_malicious_pickle_bin_is_refused_and_never_runs(tmp_path, capsys):
  src = tmp_path / "hf"
  src.mkdir()
  (src / "config.json").write_text(json.dumps(hf.config_to_hf(CFG)))
  marker = tmp_path / "code_ran"
  torch.save({"shared.weight": _RunsCode(str(marker))}, src / "pytorch_model.bin")
  with pytest.raises(ConversionError, match="weights-only loading refused it"):
    hf.read_state_dict(str(src))
  assert cli.main(["convert", "--from=hf", "--to=flan_jax", str(src),
                   str(tmp_path / "out")]) == 2
  err = capsys.readouterr().err
  # One line, naming what was refused; never torch's advice to load with weights_only=False.
  assert err.count("\n") == 1 and err.startswith("flan-jax: error: ")
  assert "Nothing from it was run" in err and "weights_only" not in err
  assert re.search(r"refused it: (Unsupported global: GLOBAL|Trying to load unsupported "
                   r"GLOBAL) \S*open\b", err), err
  assert not marker.exists()


@pytest.mark.parametrize("entry", ESCAPES)
def test_hf_index_entries_outside_the_folder_are_refused(tmp_path, entry, capsys):
  src = tmp_path / "a" / "b" / "hf"
  src.mkdir(parents=True)
  (src / "config.json").write_text(json.dumps(hf.config_to_hf(CFG)))
  (src / "model.safetensors.index.json").write_text(
      json.dumps({"weight_map": {"shared.weight": entry}}))
  with pytest.raises(ConversionError, match="refusing to read it"):
    hf.read_state_dict(str(src))
  assert cli.main(["convert", "--from=hf", "--to=flan_jax", str(src),
                   str(tmp_path / "out")]) == 2
  assert entry in capsys.readouterr().err


@pytest.mark.parametrize("entry", ESCAPES + ["target.x/../../../elsewhere"])
def test_t5x_index_paths_outside_the_checkpoint_are_refused(tmp_path, entry):
  step_dir = t5x.save_legacy(init_params(CFG), str(tmp_path / "t5x"))
  with open(os.path.join(step_dir, "checkpoint"), "rb") as f:
    state = serialization.msgpack_restore(f.read())
  state["optimizer"]["target"]["token_embedder"]["embedding"]["kvstore"]["path"] = entry
  with open(os.path.join(step_dir, "checkpoint"), "wb") as f:
    f.write(serialization.msgpack_serialize(state))
  with pytest.raises(ConversionError, match="outside the checkpoint folder|not a path relative"):
    t5x.load_t5(step_dir)
