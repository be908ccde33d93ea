"""Runs `flan-jax` in-process, as a test sees it: (exit code, stdout, stderr)."""

from flan_jax.cli import main as cli


def run(argv, capsys):
  code = cli.main(argv)
  captured = capsys.readouterr()
  return code, captured.out, captured.err
