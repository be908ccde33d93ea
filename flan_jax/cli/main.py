"""`flan-jax COMMAND ...`: dispatches to one module per sub-command.

Each sub-command module exposes `main(argv: list[str]) -> int` and is imported only
when used, so `flan-jax tasks list` does not pay for importing the trainer.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "train": ("flan_jax.cli.train", "finetune a model from gin configs (T5X flags)"),
    "eval": ("flan_jax.cli.evaluate", "score a checkpoint: per-task table with counts, suite averages"),
    "evaluate-predictions": ("flan_jax.cli.evaluate_predictions",
                             "score a JSONL file of {prediction, target} rows from any system"),
    "contamination": ("flan_jax.cli.contamination",
                      "find eval examples whose text overlaps a training mixture (13-grams)"),
    "infer": ("flan_jax.cli.infer", "write JSONL predictions from a checkpoint"),
    "tasks": ("flan_jax.cli.tasks", "list tasks and mixtures, show rendered examples"),
    "mixtures": ("flan_jax.cli.mixtures", "inspect mixture rates and shares"),
    "export": ("flan_jax.cli.export", "stream a task or mixture to JSONL"),
    "cache": ("flan_jax.cli.cache", "cache tasks with SeqIO's Apache Beam pipeline"),
    "convert": ("flan_jax.cli.convert", "convert checkpoints (Hugging Face, T5X, flan_jax)"),
}


def _usage() -> str:
  lines = ["usage: flan-jax COMMAND [ARGS...]", "", "commands:"]
  width = max(len(name) for name in COMMANDS) + 2
  for name, (_, doc) in COMMANDS.items():
    lines.append(f"  {name:<{width}}{doc}")
  lines.append("")
  lines.append("Run `flan-jax COMMAND --help` for a command's arguments.")
  return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
  argv = list(sys.argv[1:] if argv is None else argv)
  if not argv or argv[0] in ("-h", "--help", "help"):
    print(_usage())
    return 0
  name, rest = argv[0], argv[1:]
  if name not in COMMANDS:
    from flan_jax import errors
    print(f"flan-jax: {errors.unknown_name('command', name, COMMANDS)}", file=sys.stderr)
    print(_usage(), file=sys.stderr)
    return 2
  module = importlib.import_module(COMMANDS[name][0])
  return run_user_facing(module.main, rest)


def run_user_facing(fn, argv: list[str]) -> int:
  """Runs a sub-command; a FlanJaxError prints as one clear line, no traceback."""
  from flan_jax import errors
  try:
    return int(fn(argv) or 0)
  except errors.FlanJaxError as e:
    print(f"flan-jax: error: {e}", file=sys.stderr)
    return 2


if __name__ == "__main__":
  sys.exit(main())
