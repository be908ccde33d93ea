"""Every `tfds build` command preflight prints for the catalog's TFDS datasets parses with
tensorflow_datasets' own `tfds build` argument parser (the reference), names the dataset with
its version, and asks for --manual_dir exactly where the builder needs a manual download."""

import re
import shlex

import pytest

from flan_jax.catalog import preflight
from flan_jax_tasks import dialog, flan2021, held_in

simple_parsing = pytest.importorskip("simple_parsing")
build_cli = pytest.importorskip("tensorflow_datasets.scripts.cli.build")


def _tfds_specs():
  return [s for module in (flan2021, dialog, held_in) for s in module.datasets()
          if s.data.kind == "tfds"]


def test_every_printed_command_parses_as_tfds_build(tmp_path):
  specs = _tfds_specs()
  assert len(specs) >= 80  # 71 flan2021 + 2 dialog + 8 held-in datasets
  for spec in specs:
    row = preflight.check_spec(spec, data_dir=str(tmp_path))
    commands = re.findall(r"`(tfds build [^`]*)`", row.how)
    assert len(commands) == 1, row.how            # the command, once
    assert row.how.count("tfds build") == 1
    args = build_cli.Args  # tfds's own parser for `tfds build ...`
    parsed = simple_parsing.parse(args, args=shlex.split(commands[0])[2:])
    assert parsed.positional_datasets == [spec.data.name]
    assert ":" in spec.data.name or spec.data.name.startswith("huggingface:")
    assert str(parsed.paths.data_dir) == str(tmp_path)
    assert (parsed.paths.manual_dir is not None) == spec.data.manual, spec.name


def test_the_old_version_flag_is_what_tfds_rejects():
  """The reference parser is strict: the `--version` form the docs used fails in it."""
  with pytest.raises(SystemExit):
    simple_parsing.parse(build_cli.Args, args=["bool_q", "--version=1.0.0"])
