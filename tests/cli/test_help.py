"""Every command's --help says what each option does and shows its default."""

import argparse

import pytest

from flan_jax.cli import main as cli


def _parsers_built_by(command, monkeypatch):
  """Runs `flan-jax COMMAND --help` and returns every parser it built with its options."""
  built = []
  original_init = argparse.ArgumentParser.__init__

  def init(self, *args, **kwargs):
    original_init(self, *args, **kwargs)
    built.append(self)

  monkeypatch.setattr(argparse.ArgumentParser, "__init__", init)
  with pytest.raises(SystemExit) as info:
    cli.main([command, "--help"])
  assert info.value.code == 0
  return built


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_option_has_help_and_shows_its_default(command, monkeypatch, capsys):
  parsers = _parsers_built_by(command, monkeypatch)
  assert parsers
  for parser in parsers:
    assert issubclass(parser.formatter_class, argparse.ArgumentDefaultsHelpFormatter), parser.prog
    for action in parser._actions:  # pylint: disable=protected-access
      if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):  # pylint: disable=protected-access
        continue
      assert action.help, f"{parser.prog}: {action.option_strings or action.dest} has no help"
  assert "usage: flan-jax" in capsys.readouterr().out


def test_help_shows_defaults(capsys):
  with pytest.raises(SystemExit):
    cli.main(["infer", "--help"])
  assert "(default: 64)" in capsys.readouterr().out  # --batch_size