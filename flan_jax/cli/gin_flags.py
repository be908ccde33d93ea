"""T5X-style gin flags: --gin_file (repeatable), --gin.NAME=VALUE, --gin_search_paths.

Configuration happens here, at the entry point: the library's dataclasses are registered
as gin configurables under the names T5X users know (e.g. `network.T5Config`).
"""

from __future__ import annotations

import argparse
import os
import pathlib

from flan_jax import errors

REPO_GIN_DIR = pathlib.Path(__file__).resolve().parents[2] / "gin"


def add_gin_arguments(parser: argparse.ArgumentParser) -> None:
  parser.add_argument("--gin_file", action="append", default=[],
                      help="gin config file; repeatable, later files override earlier.")
  parser.add_argument("--gin_bindings", action="append", default=[],
                      help="a gin binding such as \"TRAIN_STEPS = 100\"; repeatable.")
  parser.add_argument("--gin_search_paths", default="",
                      help="comma-separated folders where --gin_file and include are "
                           "looked up (the repo's gin/ folder is always searched).")


def split_gin_overrides(argv: list[str]) -> tuple[list[str], list[str]]:
  """Pulls `--gin.NAME=VALUE` flags out of argv as gin bindings `NAME = VALUE`."""
  rest, bindings = [], []
  for arg in argv:
    if arg.startswith("--gin.") and "=" in arg:
      name, value = arg[len("--gin."):].split("=", 1)
      bindings.append(f"{name} = {value}")
    elif arg.startswith("--gin."):
      raise errors.ConfigError(f"Flag {arg!r} has no value; write --gin.NAME=VALUE.")
    else:
      rest.append(arg)
  return rest, bindings


def register_configurables() -> None:
  """Makes the library's configs bindable from gin (idempotent)."""
  import gin
  from flan_jax.mixtures import recipe
  from flan_jax.models import palm, t5
  from flan_jax.training import config, losses, optimizers, partitioning, trainer
  if getattr(register_configurables, "done", False):
    return
  gin.external_configurable(t5.T5Config, "T5Config", module="network")
  gin.external_configurable(palm.PaLMConfig, "PaLMConfig", module="network")
  gin.external_configurable(config.TrainConfig, "TrainConfig")
  gin.external_configurable(optimizers.OptimizerConfig, "OptimizerConfig")
  gin.external_configurable(losses.LossConfig, "LossConfig")
  gin.external_configurable(partitioning.PartitionConfig, "PartitionConfig")
  gin.external_configurable(recipe.build_recipe_mixture, "build_recipe_mixture",
                            module="mixtures")
  register_configurables.train = gin.external_configurable(trainer.train, "train")
  register_configurables.done = True


def parse_gin(files: list[str], bindings: list[str], search_paths: str = "") -> None:
  """Parses gin files and bindings; errors name the file or flag at fault."""
  import gin
  register_configurables()
  paths = [p for p in search_paths.split(",") if p] + [str(REPO_GIN_DIR), os.getcwd()]
  for path in paths:
    gin.add_config_file_search_path(path)
  if not files:
    raise errors.ConfigError(
        "No --gin_file given. Start from a run config, e.g. "
        "--gin_file=gin/runs/smoke_cpu.gin (see README.md).")
  for path in files:
    if not any(os.path.exists(os.path.join(p, path)) for p in paths) and \
        not os.path.exists(path):
      raise errors.ConfigError(
          f"gin file {path!r} not found (searched: {', '.join(paths)}).")
  try:
    gin.parse_config_files_and_bindings(files, bindings, finalize_config=False)
  except (ValueError, SyntaxError, KeyError, TypeError) as e:
    hint = ""
    if any("=" in b and "/" in b.split("=", 1)[1] and "'" not in b and '"' not in b
           for b in bindings):
      hint = (" (gin values are Python literals: strings need quotes, e.g. "
              "--gin.MODEL_DIR=\"'/tmp/run'\")")
    raise errors.ConfigError(f"gin could not apply the config: {e}{hint}") from e
