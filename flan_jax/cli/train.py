"""`flan-jax train --gin_file=... --gin.NAME=VALUE`: finetune from gin configs (T5X flags).

Also `python -m flan_jax.train`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys


def build_parser() -> argparse.ArgumentParser:
  from flan_jax.cli import gin_flags, task_modules
  from flan_jax.runtime import distributed
  parser = argparse.ArgumentParser(
      formatter_class=argparse.ArgumentDefaultsHelpFormatter,
      prog="flan-jax train",
      description="Finetune a model. Example: flan-jax train "
                  "--gin_file=gin/runs/smoke_cpu.gin --gin.MODEL_DIR=\"'/tmp/run'\"")
  gin_flags.add_gin_arguments(parser)
  distributed.add_distributed_arguments(parser)
  task_modules.add_task_module_flag(parser)
  parser.add_argument("--skip_missing", action="store_true",
                      help="train on the datasets whose data is in place, skipping (and "
                           "naming) the others (same as --gin.TrainConfig.skip_missing=True)")
  parser.add_argument("--summary_json", default=None,
                      help="also write the run summary (losses, eval metrics) here.")
  return parser


def main(argv: list[str]) -> int:
  from flan_jax.cli import console_log, gin_flags
  from flan_jax.runtime import distributed
  argv, overrides = gin_flags.split_gin_overrides(argv)
  args = build_parser().parse_args(argv)
  distributed.configure_before_jax(args)
  quiet_library_logs(console_log.install(logging.INFO))
  distributed.initialize(args)
  if args.skip_missing:
    overrides.append("TrainConfig.skip_missing = True")
  gin_flags.parse_gin(args.gin_file, args.gin_bindings + overrides, args.gin_search_paths)
  _record_task_modules()
  # config.gin is written once training really runs, not when the start is refused.
  summary = gin_flags.register_configurables.train(on_start=_write_operative_config)
  print(format_summary(summary), flush=True)
  if args.summary_json:
    with open(args.summary_json, "w") as f:
      json.dump(summary, f, indent=2)
  return 0


def quiet_library_logs(console: logging.Handler) -> None:
  """Keeps the console to our progress bar, summaries and real problems."""
  for noisy in ("absl", "tensorflow", "jax._src", "orbax"):
    logging.getLogger(noisy).setLevel(logging.ERROR)
  # gin reports each search-path miss before it finds an included file; not a problem.
  console.addFilter(
      lambda r: not str(r.msg).startswith(("Path not found", "system_path_file_exists")))


def _record_task_modules() -> None:
  """`--task_module` joins gin's TrainConfig.mixture_or_task_module (`.py` paths made absolute),
  so config.gin and the run record list every module the run's tasks need and `eval`/`infer` of
  the run import them without the flag."""
  import gin
  from flan_jax.catalog import lookup as catalog
  key = "TrainConfig.mixture_or_task_module"
  try:
    current = gin.query_parameter(key)
    if repr(current).startswith("%"):  # A macro, e.g. %MIXTURE_OR_TASK_MODULE.
      current = gin.query_parameter(repr(current))
  except ValueError:
    current = None
  catalog.add_task_modules(current)
  if catalog.user_modules():
    gin.bind_parameter(key, catalog.user_modules())


def _write_operative_config(model_dir) -> None:
  import gin
  import jax
  if jax.process_index() == 0 and isinstance(model_dir, str):
    from etils import epath
    from flan_jax.runtime import model_dir as model_dir_lib
    (epath.Path(model_dir) / model_dir_lib.CONFIG_GIN).write_text(gin.operative_config_str())


def format_summary(summary: dict) -> str:
  lines = [f"Trained steps {summary.get('start_step')} -> {summary.get('final_step')}."]
  if "first_loss" in summary:
    lines.append(f"Loss: {summary['first_loss']:.3f} (first logged) -> "
                 f"{summary['last_loss']:.3f} (last logged).")
  for task, metrics in sorted(summary.get("eval", {}).items()):
    shown = ", ".join(f"{k} {v:.1f}" for k, v in metrics.items())
    lines.append(f"  {task}: {shown}")
  return "\n".join(lines)


if __name__ == "__main__":
  from flan_jax.cli.main import main as flan_jax_main
  sys.exit(flan_jax_main(["train"] + sys.argv[1:]))
