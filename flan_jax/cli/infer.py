"""`flan-jax infer --model_dir DIR --task NAME --out FILE.jsonl`: greedy predictions as JSONL."""

from __future__ import annotations

import argparse


def add_checkpoint_arguments(parser: argparse.ArgumentParser) -> None:
  """Flags shared by `infer` and `eval`: which checkpoint, which data, which mesh."""
  from flan_jax.cli import task_modules
  from flan_jax.runtime import distributed
  task_modules.add_task_module_flag(parser)
  parser.add_argument("--model_dir", required=True, help="a MODEL_DIR written by train.")
  parser.add_argument("--task", required=True, help="task or mixture name.")
  parser.add_argument("--split", default="validation", help="split of the task to read.")
  parser.add_argument("--num_examples", type=int, default=None,
                      help="per task; default: the whole split.")
  parser.add_argument("--checkpoint_step", type=int, default=None,
                      help="default: the latest checkpoint.")
  parser.add_argument("--batch_size", type=int, default=64,
                      help="examples decoded together.")
  parser.add_argument("--num_partitions", type=int, default=1,
                      help="model-parallel ways (T5X num_partitions).")
  distributed.add_distributed_arguments(parser)


def load(args: argparse.Namespace):
  from flan_jax.evaluation import infer
  from flan_jax.runtime import distributed, partitioning
  distributed.initialize(args)
  partition = partitioning.PartitionConfig(num_partitions=args.num_partitions)
  return infer.load_model_dir(args.model_dir, partition, args.checkpoint_step)


def main(argv: list[str]) -> int:
  from flan_jax.runtime import distributed
  parser = argparse.ArgumentParser(
      formatter_class=argparse.ArgumentDefaultsHelpFormatter,
      prog="flan-jax infer", description=__doc__)
  add_checkpoint_arguments(parser)
  parser.add_argument("--out", required=True, help="JSONL file to write.")
  parser.add_argument("--overwrite", action="store_true",
                      help="replace an existing --out file (once the new one is complete).")
  args = parser.parse_args(argv)
  from flan_jax import output_files
  output_files.check_output_path(args.out, args.overwrite)  # Before loading anything.
  distributed.configure_before_jax(args)
  from flan_jax.evaluation import infer as infer_lib
  infer_lib.use_run_vocabulary(args.model_dir)
  infer_lib.use_run_task_modules(args.model_dir)
  from flan_jax.cli import console_log
  console_log.quiet_library_warnings()
  from flan_jax.data import catalog
  catalog.get_mixture_or_task(args.task)  # Fail on a bad name before loading anything.
  loaded = load(args)
  from flan_jax.evaluation import infer
  count = infer.write_predictions(loaded, args.task, args.split, args.out,
                                  args.num_examples, args.batch_size, args.overwrite)
  print(f"Wrote {count} predictions (checkpoint step {loaded.step}) to {args.out}")
  return 0
