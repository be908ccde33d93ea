"""`flan-jax COMMAND ...`: dispatches to one module per sub-command.

Each sub-command module exposes `main(argv: list[str]) -> int` and is imported only
when used, so `flan-jax tasks list` does not pay for importing the trainer.
"""

from __future__ import annotations

import importlib
import re
import sys

COMMANDS = {
    "train": ("flan_jax.cli.train", "finetune a model from gin configs (T5X flags)"),
    "eval": ("flan_jax.cli.evaluate",
             "score a checkpoint: per-task table with counts, suite averages"),
    "evaluate-predictions": ("flan_jax.cli.evaluate_predictions",
                             "score a JSONL file of {prediction, target} rows from any system"),
    "contamination": ("flan_jax.cli.contamination",
                      "find eval examples whose text overlaps a training mixture (13-grams)"),
    "infer": ("flan_jax.cli.infer", "write JSONL predictions from a checkpoint"),
    "tasks": ("flan_jax.cli.tasks", "list tasks and mixtures, show prompts, preflight data"),
    "mixtures": ("flan_jax.cli.mixtures", "inspect mixture rates and shares"),
    "export": ("flan_jax.cli.export", "stream a task or mixture to JSONL"),
    "premix": ("flan_jax.cli.premix",
               "render and tokenize a mixture once into a pre-mixed training stream"),
    "cache": ("flan_jax.cli.cache", "cache tasks with SeqIO's Apache Beam pipeline"),
    "convert": ("flan_jax.cli.convert", "convert checkpoints (Hugging Face, T5X, flan_jax)"),
    "plan": ("flan_jax.cli.plan", "per-device memory and FLOPs of a config on a target mesh"),
}


def _usage() -> str:
  lines = ["usage: flan-jax [--verbose] [--version] COMMAND [ARGS...]", "", "commands:"]
  width = max(len(name) for name in COMMANDS) + 2
  for name, (_, doc) in COMMANDS.items():
    lines.append(f"  {name:<{width}}{doc}")
  lines.append("")
  lines.append("Run `flan-jax COMMAND --help` for a command's arguments. `--verbose` (anywhere)")
  lines.append("shows TensorFlow/XLA start-up logs and full tracebacks.")
  return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
  argv = list(sys.argv[1:] if argv is None else argv)
  verbose = "--verbose" in argv
  argv = [a for a in argv if a != "--verbose"]
  if argv[:1] in (["-h"], ["--help"], ["help"]):
    print(_usage())
    return 0
  if argv[:1] == ["--version"]:
    from flan_jax import __version__
    print(f"flan-jax {__version__}")
    return 0
  if not argv:
    print(_usage(), file=sys.stderr)
    return 2
  name, rest = argv[0], argv[1:]
  if name not in COMMANDS:
    from flan_jax import errors
    print(f"flan-jax: {errors.unknown_name('command', name, COMMANDS)}", file=sys.stderr)
    print(_usage(), file=sys.stderr)
    return 2
  from flan_jax.cli import quiet_startup
  quiet_startup.install(verbose)
  module = importlib.import_module(COMMANDS[name][0])
  if name != "train":  # train saves a checkpoint on SIGTERM (and leaves it to JAX multi-host).
    stop_on_sigterm()
  return run_user_facing(module.main, rest, verbose=verbose)


class Terminated(BaseException):
  """SIGTERM, raised like KeyboardInterrupt so that partial outputs are cleaned up."""


def stop_on_sigterm() -> None:
  """SIGTERM unwinds the command like Ctrl-C (temporary files removed, no traceback), instead
  of killing the process before any cleanup runs."""
  import signal
  import threading
  if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGTERM, _raise_terminated)


def _raise_terminated(signum, frame):
  del signum, frame
  raise Terminated()


# gin appends this to every exception raised inside a configurable; users need not see it.
_GIN_CONTEXT_RE = re.compile(
    r"\n\s*In call to configurable '[^']*' \(<[^>]*>\)( in scope '[^']*')?")


def user_message(error: BaseException) -> str | None:
  """The one-line message of a flan_jax error, also when TensorFlow wrapped it (an error
  raised while tf.data reads records arrives as a TensorFlow error holding a traceback);
  None when the error is not ours."""
  from flan_jax import errors
  if isinstance(error, errors.FlanJaxError):
    return _GIN_CONTEXT_RE.sub("", str(error)).strip()
  if not type(error).__module__.startswith("tensorflow"):
    return None
  noted = errors.take_pipeline_error()
  if noted is not None:
    return user_message(noted)
  names = set()
  pending = [errors.FlanJaxError]
  while pending:
    cls = pending.pop()
    names.add(cls.__name__)
    pending += cls.__subclasses__()
  text = str(error)
  found = re.findall(r"\b(" + "|".join(sorted(names)) + r"): (.+)", text)
  return found[-1][1].strip() if found else None


def run_user_facing(fn, argv: list[str], verbose: bool = False) -> int:
  """Runs a sub-command; our errors print as one clear line, no traceback (unless verbose)."""
  from flan_jax import errors
  errors.take_pipeline_error()  # Forget one noted by an earlier command in this process.
  try:
    return int(fn(argv) or 0)
  except (KeyboardInterrupt, Terminated) as e:
    if verbose:
      raise
    signal_name = "SIGINT" if isinstance(e, KeyboardInterrupt) else "SIGTERM"
    print(f"flan-jax: stopped by {signal_name}.", file=sys.stderr)
    return 130 if signal_name == "SIGINT" else 143
  except Exception as e:  # pylint: disable=broad-except
    message = None if verbose else user_message(e)
    if message is None:
      raise
    print(f"flan-jax: error: {message}", file=sys.stderr)
    return 2


def entry() -> int:
  """The `flan-jax` program: process-wide settings first, then `main`.

  On CPU hosts freed host memory is kept for reuse (`flan_jax.runtime.host_memory`); that
  must happen before jax or TensorFlow start threads, so only here, at process start, and
  not in `main`, which tests and notebooks call inside a running process.
  """
  from flan_jax.runtime import host_memory
  try:
    host_memory.keep_freed_memory()
  except ValueError as error:
    print(f"flan-jax: {error}", file=sys.stderr)
    return 2
  return main()


if __name__ == "__main__":
  sys.exit(entry())
