"""`flan-jax eval --model_dir DIR --task NAME`: SeqIO metrics of a checkpoint.

Prints one line per task, writes metrics JSON (and TensorBoard scalars under
MODEL_DIR/eval) so runs can be compared.
"""

from __future__ import annotations

import argparse
import json
import os


def main(argv: list[str]) -> int:
  from flan_jax.cli import infer as infer_cli
  from flan_jax.training import distributed
  parser = argparse.ArgumentParser(prog="flan-jax eval", description=__doc__)
  infer_cli.add_checkpoint_arguments(parser)
  parser.add_argument("--metrics_json", default=None,
                      help="default: MODEL_DIR/eval/metrics_step_<step>.json")
  args = parser.parse_args(argv)
  distributed.configure_before_jax(args)
  from flan_jax.data import catalog
  catalog.get_mixture_or_task(args.task)
  loaded = infer_cli.load(args)

  import flax.linen as nn
  import jax
  from clu import metric_writers
  from flan_jax.evaluation import evaluator as evaluator_lib
  from flan_jax.evaluation.predict import Predictor
  evaluator = evaluator_lib.make_evaluator(args.task, loaded.task_feature_lengths,
                                           args.split, args.num_examples)
  predictor = Predictor(loaded.model, loaded.mesh, loaded.rules, loaded.param_shardings,
                        args.batch_size, loaded.task_feature_lengths["targets"])
  with jax.set_mesh(loaded.mesh), nn.logical_axis_rules(loaded.rules):
    results = evaluator_lib.evaluate(evaluator, predictor, loaded.params, loaded.step)
  for task, metrics in sorted(results.items()):
    print(f"{task}: " + ", ".join(f"{k} {v:.2f}" for k, v in metrics.items()))
  if jax.process_index() == 0:
    eval_dir = os.path.join(args.model_dir, "eval")
    writer = metric_writers.create_default_writer(eval_dir)
    writer.write_scalars(loaded.step, evaluator_lib.flatten_metrics(results))
    writer.flush()
    path = args.metrics_json or os.path.join(eval_dir, f"metrics_step_{loaded.step}.json")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
      json.dump({"step": loaded.step, "metrics": results}, f, indent=2)
    print(f"Metrics written to {path}")
  return 0
