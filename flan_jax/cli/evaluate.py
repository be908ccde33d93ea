"""`flan-jax eval --model_dir DIR --task NAME`: metrics of a checkpoint on a task or mixture.

Prints a table (task, n, accuracy; rank_accuracy for tasks that list answer choices) with the
category and suite averages last, and writes the same figures as JSON and as TensorBoard
scalars under MODEL_DIR/eval. Held-out suites (bbh_cot, mmlu_direct, ...) read their files
from the folders given by --bbh_dir / --mmlu_dir / --cot_eval_dir or $FLAN_JAX_*_DIR.
"""

from __future__ import annotations

import argparse
import json
import os

# Flag -> environment variable each suite reads its local folder from.
SUITE_DIR_FLAGS = {"bbh_dir": "FLAN_JAX_BBH_DIR", "mmlu_dir": "FLAN_JAX_MMLU_DIR",
                   "cot_eval_dir": "FLAN_JAX_COT_EVAL_DIR"}


def add_suite_dir_arguments(parser: argparse.ArgumentParser) -> None:
  for flag, variable in SUITE_DIR_FLAGS.items():
    parser.add_argument(f"--{flag}", default=None, help=f"sets ${variable}.")


def apply_suite_dirs(args: argparse.Namespace) -> None:
  """Exports the suite folders given as flags, so the suites' readers find them."""
  for flag, variable in SUITE_DIR_FLAGS.items():
    if getattr(args, flag, None):
      os.environ[variable] = os.path.abspath(getattr(args, flag))


def main(argv: list[str]) -> int:
  from flan_jax.cli import infer as infer_cli
  from flan_jax.runtime import distributed
  parser = argparse.ArgumentParser(
      formatter_class=argparse.ArgumentDefaultsHelpFormatter,
      prog="flan-jax eval", description=__doc__)
  infer_cli.add_checkpoint_arguments(parser)
  parser.set_defaults(split=None)
  parser.add_argument("--metrics_json", default=None,
                      help="default: MODEL_DIR/eval/metrics_step_<step>.json")
  parser.add_argument("--no_rank_classification", action="store_true",
                      help="skip scoring the listed choices of option tasks.")
  add_suite_dir_arguments(parser)
  args = parser.parse_args(argv)
  options = infer_cli.decode_options(args)
  apply_suite_dirs(args)
  distributed.configure_before_jax(args)
  from flan_jax.evaluation import infer as infer_lib
  infer_lib.use_run_vocabulary(args.model_dir)
  infer_lib.use_run_task_modules(args.model_dir)
  from flan_jax.cli import console_log
  console_log.quiet_library_warnings()
  from flan_jax.catalog import lookup as catalog
  from flan_jax.evaluation import evaluator as evaluator_lib
  from flan_jax.evaluation import suite_tasks
  names = [t.name for t in evaluator_lib.subtasks(catalog.get_mixture_or_task(args.task))]
  args.split = evaluator_lib.eval_split(names, args.split)
  suite_tasks.check_files(names, args.split)
  loaded = infer_cli.load(args)
  results, split = _evaluate(args, loaded, options)
  _report(args, loaded, results, split)
  return 0


def _evaluate(args, loaded, options) -> tuple[dict, str]:
  """Decoded (greedy unless --decode) metrics per task, plus rank classification of option
  tasks."""
  import flax.linen as nn
  import jax
  import seqio
  from flan_jax.evaluation import evaluator as evaluator_lib
  from flan_jax.evaluation import rank_classification
  from flan_jax.evaluation.predict import Predictor, eos_id_of
  provider = seqio.get_mixture_or_task(args.task)
  split = evaluator_lib.eval_split([t.name for t in evaluator_lib.subtasks(provider)], args.split)
  evaluator = evaluator_lib.make_evaluator(args.task, loaded.task_feature_lengths, split,
                                           args.num_examples)
  predictor = Predictor(loaded.model, loaded.mesh, loaded.rules, loaded.param_shardings,
                        args.batch_size, loaded.task_feature_lengths["targets"],
                        eos_id=eos_id_of(args.task), options=options)
  with jax.set_mesh(loaded.mesh), nn.logical_axis_rules(loaded.rules):
    results = evaluator_lib.evaluate(evaluator, predictor, loaded.params, loaded.step)
    results = evaluator_lib.with_example_counts(evaluator, results)
    if not args.no_rank_classification:
      scorer = rank_classification.model_scorer(
          loaded.model, loaded.params, loaded.mesh, loaded.rules, loaded.param_shardings,
          args.batch_size)
      ranked = rank_classification.evaluate_tasks(
          evaluator.cached_task_datasets,
          {t.name: t.output_features for t in evaluator.eval_tasks}, scorer,
          loaded.task_feature_lengths)
      for task, metrics in ranked.items():
        results.setdefault(task, {}).update(metrics)
  return results, split


def _report(args, loaded, results, split) -> None:
  import jax
  from clu import metric_writers
  from flan_jax.evaluation import evaluator as evaluator_lib
  from flan_jax.evaluation import suite_report, suite_tasks
  from flan_jax.runtime import model_dir as model_dir_lib

  def category(name):
    info = suite_tasks.suite_task_info(name)
    return info.category if info else None

  report = suite_report.build_report(results, category)
  print(f"{args.task} ({split} split, checkpoint step {loaded.step}):")
  print(suite_report.format_table(report))
  if jax.process_index() != 0:
    return
  eval_dir = model_dir_lib.path(args.model_dir, model_dir_lib.EVAL_LOG_DIR)
  scalars = evaluator_lib.flatten_metrics(report["tasks"])
  scalars.update(evaluator_lib.flatten_metrics(
      {f"{args.task}/{c}": m for c, m in report.get("categories", {}).items()}))
  for average in ("average", "average_over_questions"):
    if average in report:
      scalars.update(evaluator_lib.flatten_metrics({f"{args.task}/{average}": report[average]}))
  writer = metric_writers.create_default_writer(eval_dir)
  writer.write_scalars(loaded.step, scalars)
  writer.flush()
  path = args.metrics_json or os.path.join(eval_dir, f"metrics_step_{loaded.step}.json")
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with open(path, "w") as f:
    json.dump({"step": loaded.step, "task": args.task, "split": split,
               "metrics": report["tasks"], **{k: v for k, v in report.items() if k != "tasks"}},
              f, indent=2)
  print(f"Metrics written to {path}")
