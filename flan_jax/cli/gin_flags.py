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
  from flan_jax.runtime import partitioning
  from flan_jax.training import config, losses, optimizers, trainer
  if getattr(register_configurables, "done", False):
    return
  gin.external_configurable(t5.T5Config, "T5Config", module="network")
  gin.external_configurable(palm.PaLMConfig, "PaLMConfig", module="network")
  from flan_jax.interop import hf_decoder
  gin.external_configurable(hf_decoder.config_from_hf_dir, "hf_decoder_config",
                            module="network")
  gin.external_configurable(config.TrainConfig, "TrainConfig")
  gin.external_configurable(optimizers.OptimizerConfig, "OptimizerConfig")
  gin.external_configurable(losses.LossConfig, "LossConfig")
  gin.external_configurable(partitioning.PartitionConfig, "PartitionConfig")
  gin.external_configurable(recipe.build_recipe_mixture, "build_recipe_mixture",
                            module="mixtures")
  register_configurables.train = gin.external_configurable(trainer.train, "train")
  register_configurables.done = True


def resolve_gin_file(path: str, search_paths: list[str]) -> str:
  """The absolute path of a --gin_file: as given (absolute or relative to the working
  directory), else under each search path in order (the repo's gin/ folder last).

  Resolving here, before gin sees the name, keeps gin from treating a folder of the working
  directory (e.g. a `runs/` output folder) as the Python package a config lives in.
  """
  candidates = [path] if os.path.isabs(path) else [os.path.join(os.getcwd(), path)] + [
      os.path.join(p, path) for p in search_paths]
  for candidate in candidates:
    if os.path.isfile(candidate):
      return os.path.abspath(candidate)
  raise errors.ConfigError(
      f"gin file {path!r} not found (looked in: {', '.join([os.getcwd()] + search_paths)}).")


def _guard_package_lookup() -> None:
  """Makes gin's package-resource lookup of `include`d files skip plain folders.

  gin tries `include 'runs/x.gin'` as a file of a Python package `runs`; a plain folder of
  that name in the working directory is a namespace package without a file and makes gin
  crash instead of moving on to the search paths.
  """
  import gin.config
  from gin import resource_reader

  def exists(config_path: str) -> bool:
    try:
      return resource_reader.system_path_file_exists(config_path)
    except TypeError:  # namespace package: spec.origin is None
      return False

  readers = gin.config._FILE_READERS  # pylint: disable=protected-access
  for i, (reader, check) in enumerate(readers):
    if check is resource_reader.system_path_file_exists:
      readers[i] = (reader, exists)


def parse_gin(files: list[str], bindings: list[str], search_paths: str = "") -> None:
  """Parses gin files and bindings; errors name the file or flag at fault."""
  import gin
  register_configurables()
  _guard_package_lookup()
  paths = [os.path.abspath(p) for p in search_paths.split(",") if p] + [str(REPO_GIN_DIR)]
  for path in paths:
    gin.add_config_file_search_path(path)
  if not files:
    raise errors.ConfigError(
        "No --gin_file given. Start from a run config, e.g. "
        "--gin_file=gin/runs/smoke_cpu.gin (see README.md).")
  resolved = [resolve_gin_file(path, paths) for path in files]
  try:
    gin.parse_config_files_and_bindings(resolved, bindings, finalize_config=False)
  except (ValueError, SyntaxError, KeyError, TypeError, IOError) as e:
    hint = ""
    if any("=" in b and "/" in b.split("=", 1)[1] and "'" not in b and '"' not in b
           for b in bindings):
      hint = (" (gin values are Python literals: strings need quotes, e.g. "
              "--gin.MODEL_DIR=\"'/tmp/run'\")")
    raise errors.ConfigError(f"gin could not apply the config: {e}{hint}") from e
  check_macro_overrides(bindings)


def check_macro_overrides(bindings: list[str]) -> None:
  """Refuses a flag that sets a macro no config uses (e.g. `--gin.TRAIN_STEP=10`).

  gin accepts any `NAME = value` as a new macro, so a misspelled macro would otherwise
  be ignored silently. Macros that config files define but do not use are left alone.
  """
  import difflib
  import gin.config
  used = _referenced_macros(gin.config._CONFIG)  # pylint: disable=protected-access
  defined = {scope for scope, selector in gin.config._CONFIG  # pylint: disable=protected-access
             if selector == "gin.macro"}
  for binding in bindings:
    name = binding.split("=", 1)[0].strip()
    if "." in name or "/" in name or name not in defined or name in used:
      continue
    close = difflib.get_close_matches(name, sorted(used), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(close)}?" if close else (
        f" Known macros: {', '.join(sorted(used))}." if used else "")
    raise errors.ConfigError(
        f"Unknown macro {name!r} in {binding!r}: no config uses %{name}, so it would be "
        f"ignored.{hint}")


def _referenced_macros(config: dict) -> set[str]:
  """Names of the macros referenced as %NAME anywhere in the parsed bindings."""
  import gin.config
  found: set[str] = set()

  def visit(value) -> None:
    if isinstance(value, gin.config.ConfigurableReference):
      scope, _, selector = str(value.scoped_selector).rpartition("/")
      if selector == "gin.macro":
        found.add(scope)
    elif isinstance(value, dict):
      for item in value.values():
        visit(item)
    elif isinstance(value, (list, tuple, set)):
      for item in value:
        visit(item)

  for params in config.values():
    for value in params.values():
      visit(value)
  return found
