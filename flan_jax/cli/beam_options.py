"""Commands that run an Apache Beam pipeline (`cache`, `premix`) pass unknown flags to Beam."""

from __future__ import annotations

import argparse

from flan_jax import errors


def parse_with_beam_options(parser: argparse.ArgumentParser,
                            argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
  """The command's own arguments, and the rest as Beam pipeline options (`--name=value`);
  ConfigError naming any leftover that is not a flag."""
  args, beam_options = parser.parse_known_args(argv)
  stray = [o for o in beam_options if not o.startswith("--")]
  if stray:
    raise errors.ConfigError(f"Unexpected arguments {stray}; Beam options look like --name=value.")
  return args, beam_options
