"""`flan-jax infer --model_dir DIR --task NAME --out FILE.jsonl`: predictions as JSONL
(greedy by default; `--decode beam` or `--decode sample`, for T5 and decoder-only models)."""

from __future__ import annotations

import argparse


def _positive(text: str) -> int:
  if not text.isdigit() or int(text) <= 0:
    raise argparse.ArgumentTypeError(f"expected a positive number of tokens, got {text!r}")
  return int(text)


def add_checkpoint_arguments(parser: argparse.ArgumentParser) -> None:
  """Flags shared by `infer` and `eval`: which checkpoint, which data, which mesh."""
  from flan_jax.cli import task_modules
  from flan_jax.runtime import distributed
  task_modules.add_task_module_flag(parser)
  parser.add_argument("--model_dir", required=True, help="a MODEL_DIR written by train.")
  parser.add_argument("--task", required=True, help="task or mixture name.")
  parser.add_argument("--split", default=None,
                      help="split of the task to read; default: the one a held-out suite "
                           "reports (test for BBH, MMLU, CoT eval), else validation")
  parser.add_argument("--num_examples", type=int, default=None,
                      help="per task; default: the whole split.")
  parser.add_argument("--inputs_length", type=_positive, default=None,
                      help="input tokens per example; default: the run's training input length "
                           "(longer prompts are cut from the end, with a warning)")
  parser.add_argument("--checkpoint_step", type=int, default=None,
                      help="default: the latest checkpoint.")
  parser.add_argument("--batch_size", type=int, default=64,
                      help="examples decoded together.")
  parser.add_argument("--num_partitions", type=int, default=1,
                      help="model-parallel ways (T5X num_partitions).")
  parser.add_argument("--decode", default="greedy", choices=("greedy", "beam", "sample"),
                      help="how predictions are decoded.")
  parser.add_argument("--beam_size", type=int, default=4, help="with --decode beam.")
  parser.add_argument("--alpha", type=float, default=0.6,
                      help="beam length penalty ((5 + length) / 6) ** alpha, as T5X.")
  parser.add_argument("--temperature", type=float, default=1.0,
                      help="with --decode sample (0: argmax).")
  parser.add_argument("--top_k", type=int, default=0, help="sample among the k most likely "
                      "tokens (0: all).")
  parser.add_argument("--top_p", type=float, default=1.0, help="nucleus sampling mass.")
  parser.add_argument("--seed", type=int, default=0, help="sampling seed.")
  distributed.add_distributed_arguments(parser)


def decode_options(args: argparse.Namespace):
  """The DecodeOptions the flags ask for; bad values fail as one flan-jax error line."""
  from flan_jax import errors
  from flan_jax.evaluation.predict import DecodeOptions
  try:
    return DecodeOptions(args.decode, args.beam_size, args.alpha, args.temperature,
                         args.top_k, args.top_p, args.seed)
  except ValueError as e:
    raise errors.ConfigError(str(e)) from None


def load(args: argparse.Namespace):
  """The checkpoint on the mesh, at --inputs_length if given; warns of prompts it will cut."""
  from flan_jax.evaluation import infer
  from flan_jax.runtime import distributed, partitioning
  distributed.initialize(args)
  partition = partitioning.PartitionConfig(num_partitions=args.num_partitions)
  loaded = infer.load_model_dir(args.model_dir, partition, args.checkpoint_step)
  if args.inputs_length:
    loaded.task_feature_lengths = {**loaded.task_feature_lengths, "inputs": args.inputs_length}
  infer.warn_prompts_cut(args.task, args.split, loaded.task_feature_lengths["inputs"],
                         args.num_examples)
  return loaded


def main(argv: list[str]) -> int:
  from flan_jax.runtime import distributed
  parser = argparse.ArgumentParser(
      formatter_class=argparse.ArgumentDefaultsHelpFormatter,
      prog="flan-jax infer", description=__doc__)
  add_checkpoint_arguments(parser)
  parser.add_argument("--out", required=True, help="JSONL file to write.")
  parser.add_argument("--overwrite", action="store_true",
                      help="replace an existing --out file (once the new one is complete).")
  from flan_jax.cli import evaluate as evaluate_cli
  evaluate_cli.add_suite_dir_arguments(parser)
  args = parser.parse_args(argv)
  evaluate_cli.apply_suite_dirs(args)
  from flan_jax import output_files
  output_files.check_output_path(args.out, args.overwrite)  # Before loading anything.
  options = decode_options(args)
  distributed.configure_before_jax(args)
  from flan_jax.evaluation import infer as infer_lib
  infer_lib.use_run_vocabulary(args.model_dir)
  infer_lib.use_run_task_modules(args.model_dir)
  from flan_jax.cli import console_log
  console_log.quiet_library_warnings()
  from flan_jax.catalog import lookup as catalog
  provider = catalog.get_mixture_or_task(args.task)  # Fail on a bad name before loading.
  from flan_jax.evaluation import suite_tasks
  args.split = suite_tasks.split_or_default(provider, args.split, "validation")
  loaded = load(args)
  from flan_jax.evaluation import infer
  count = infer.write_predictions(loaded, args.task, args.split, args.out,
                                  args.num_examples, args.batch_size, args.overwrite, options)
  print(f"Wrote {count} predictions (checkpoint step {loaded.step}) to {args.out}")
  return 0
