"""Input pipeline: time to the first packed batch, examples/s, packing efficiency, headroom.

  python scripts/bench_data.py                                   # toy_flan, its own vocabulary
  python scripts/bench_data.py --vocab ../shared/vocab/t5_spiece.model --batches 20
  python scripts/bench_data.py --train_json bench_train.json     # headroom over the trainer
  python scripts/bench_data.py --lengths 256/64 --batch 32 --batches 2 --profile 25
  python scripts/bench_data.py --lengths 2048/512 --batches 2 --census 12   # traced graphs
  python scripts/bench_data.py --tf_data_defaults     # baseline: tf.data's default options

Runs what the trainer runs (`flan_jax.training.input_pipeline.train_dataset`: SeqIO render +
tokenize + pack + batch) at 2048/512 and 512/128. With --vocab, every task of the mixture
tokenizes with that SentencePiece model instead (in this process only), as a real finetune
with the T5 vocabulary would; the project itself never needs the file. The per-example
Python baseline producing the same text lives in scripts/bench_render.py. Last line: JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import time

_START = time.perf_counter()


def parse_args(argv=None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--mixture", default="toy_flan")
  parser.add_argument("--vocab", default=None, help="a SentencePiece .model file to use.")
  parser.add_argument("--lengths", default="2048/512,512/128", help="inputs/targets pairs.")
  parser.add_argument("--batch", type=int, default=8, help="packed rows per batch.")
  parser.add_argument("--batches", type=int, default=10, help="timed batches per length.")
  parser.add_argument("--train_json", default=None,
                      help="bench_train's JSON line (file) for the trainer's consumption.")
  parser.add_argument("--tf_data_defaults", action="store_true",
                      help="baseline: the stream with tf.data's default graph rewrites and "
                           "autotuning, which the trainer turns off.")
  parser.add_argument("--profile", type=int, default=0, metavar="N",
                      help="profile building the first length's pipeline and its first batch "
                      "(cProfile); print the N costliest calls and where the time goes.")
  parser.add_argument("--census", type=int, default=0, metavar="N",
                      help="while the first length's pipeline is built, count the tf.data "
                      "functions traced, their graph ops and tracing seconds; print the N "
                      "costliest kinds.")
  return parser.parse_args(argv)


def main(argv=None) -> dict:
  args = parse_args(argv)
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
  import seqio
  from flan_jax.catalog import lookup as catalog
  from flan_jax.training import input_pipeline
  imported = time.perf_counter() - _START
  start = time.perf_counter()
  task = catalog.get_mixture_or_task(args.mixture)
  if args.vocab:
    _use_vocabulary(task, args.vocab)
  registered = time.perf_counter() - start
  print(f"{args.mixture}: imports {imported:.1f}s, registration {registered:.1f}s, "
        f"load {os.getloadavg()[0]:.2f}", flush=True)
  result = {"mixture": args.mixture, "vocab": args.vocab or "project's own",
            "tf_data_defaults": args.tf_data_defaults,
            "import_s": imported, "registration_s": registered}
  for number, pair in enumerate(args.lengths.split(",")):
    n_in, n_out = (int(x) for x in pair.split("/"))
    profiler = _Profile(args.profile if number == 0 else 0)
    census = _Census(args.census if number == 0 else 0)
    start = time.perf_counter()
    with profiler:
      with census:
        ds = input_pipeline.train_dataset(args.mixture, {"inputs": n_in, "targets": n_out},
                                          args.batch, seed=0,
                                          feature_converter=seqio.EncDecFeatureConverter(pack=True))
      if args.tf_data_defaults:
        ds = ds.with_options(_default_tf_data_options())
      built_s = time.perf_counter() - start
      batches = ds.as_numpy_iterator()
      first = next(batches)
    first_s = time.perf_counter() - start
    profiler.report()
    census.report()
    stats = _packing([first])
    start = time.perf_counter()
    timed = [next(batches) for _ in range(args.batches)]
    seconds = time.perf_counter() - start
    more = _packing(timed)
    row = {"first_batch_s": first_s, "pipeline_build_s": built_s, "examples_per_s": more["examples"] / seconds,
           "examples_per_row": more["examples"] / (args.batch * args.batches),
           "inputs_nonpad": more["inputs_nonpad"], "targets_nonpad": more["targets_nonpad"],
           "first_batch_examples": stats["examples"]}
    row.update(_headroom(args.train_json, f"{n_in}/{n_out}", row["examples_per_row"],
                         row["examples_per_s"]))
    result[f"{n_in}/{n_out}"] = row
    print(f"  {n_in}/{n_out}: " + ", ".join(f"{k} {v:.4g}" for k, v in row.items()),
          flush=True)
  result["loadavg"] = os.getloadavg()[0]
  print(json.dumps(result), flush=True)
  return result


def _default_tf_data_options():
  import tensorflow as tf
  options = tf.data.Options()
  options.experimental_optimization.apply_default_optimizations = True
  options.autotune.enabled = True
  return options


class _Profile:
  """cProfile around a block when n > 0: the n costliest calls (cumulative), then the time
  in the places that dominate a many-task SeqIO pipeline (they overlap: pools and rendering
  are built inside traced map functions)."""

  # (label, file suffix, function name) of the calls summed in the "where" lines.
  _WHERE = (
      ("tracing tf.data map functions (all tasks)",
       "tensorflow/python/data/ops/structured_function.py", "__init__"),
      ("few-shot exemplar pools (scan of the train split)", "flan_jax/data/few_shot.py",
       "load_pool"),
      ("rendering graphs (traced once per task)", "flan_jax/data/rendering.py", "render_rows"),
  )

  def __init__(self, n: int):
    import cProfile
    self.n = n
    self._profile = cProfile.Profile() if n > 0 else None

  def __enter__(self):
    if self._profile:
      self._profile.enable()
    return self

  def __exit__(self, *exc):
    if self._profile:
      self._profile.disable()

  def report(self) -> None:
    if not self._profile:
      return
    import pstats
    stats = pstats.Stats(self._profile)
    stats.sort_stats("cumulative").print_stats(self.n)
    for label, suffix, name in self._WHERE:
      calls, seconds = 0, 0.0
      for (path, _, func), (_, ncalls, _, cumtime, _) in stats.stats.items():
        if func == name and path.endswith(suffix):
          calls, seconds = calls + ncalls, seconds + cumtime
      print(f"  where: {label}: {seconds:.1f}s in {calls} calls", flush=True)


class _Census:
  """When n > 0: every function tf.data traces while the block runs (map, filter, ...), by the
  Python function it wraps: how many, their graph ops, and the seconds spent tracing them.
  Hooks tf.data's StructuredFunctionWrapper (a TensorFlow internal; benchmark use only)."""

  def __init__(self, n: int):
    self.n = n
    self.kinds: dict[str, list] = {}

  def __enter__(self):
    if self.n <= 0:
      return self
    from tensorflow.python.data.ops import structured_function  # pylint: disable=g-import-not-at-top
    self._module = structured_function
    self._init = init = structured_function.StructuredFunctionWrapper.__init__
    kinds = self.kinds

    def counted_init(wrapper, func, *args, **kwargs):
      start = time.perf_counter()
      init(wrapper, func, *args, **kwargs)
      row = kinds.setdefault(_function_label(func), [0, 0, 0.0])
      row[0] += 1
      row[1] += len(wrapper.function.graph.get_operations())
      row[2] += time.perf_counter() - start

    structured_function.StructuredFunctionWrapper.__init__ = counted_init
    return self

  def __exit__(self, *exc):
    if self.n > 0:
      self._module.StructuredFunctionWrapper.__init__ = self._init

  def report(self) -> None:
    if self.n <= 0:
      return
    rows = sorted(self.kinds.items(), key=lambda kv: -kv[1][2])
    total = [sum(r[i] for _, r in rows) for i in range(3)]
    print(f"  census: {total[0]} traced functions, {total[1]} graph ops, {total[2]:.1f}s "
          "tracing them", flush=True)
    for label, (count, ops, seconds) in rows[:self.n]:
      print(f"  census: {seconds:6.2f}s {count:4d} functions {ops:6d} ops  {label}", flush=True)


def _function_label(func) -> str:
  """module.qualname of the Python function under decorators and functools.partial."""
  import inspect  # pylint: disable=g-import-not-at-top
  while hasattr(func, "__wrapped__") or hasattr(func, "func"):
    func = getattr(func, "__wrapped__", None) or func.func
  module = inspect.getmodule(func)
  return f"{module.__name__ if module else '?'}.{getattr(func, '__qualname__', repr(func))}"


def _use_vocabulary(task, path: str) -> None:
  """Points every sub-task's features at one SentencePiece model (this process only)."""
  import seqio
  vocab = seqio.SentencePieceVocabulary(path)
  tasks = task.get_subtasks() if hasattr(task, "get_subtasks") else [task]
  for sub in tasks:
    sub._output_features = {  # pylint: disable=protected-access
        k: seqio.Feature(vocab, add_eos=f.add_eos, required=f.required, dtype=f.dtype)
        for k, f in sub.output_features.items()}


def _packing(batches: list) -> dict:
  """Examples (distinct segments) and the share of non-pad tokens in packed batches."""
  import numpy as np
  segments = np.concatenate([b["encoder_segment_ids"] for b in batches])
  examples = int(sum(len(np.unique(row[row > 0])) for row in segments))
  nonpad = lambda key: float(np.mean(np.concatenate([b[key] for b in batches]) > 0))
  return {"examples": examples, "inputs_nonpad": nonpad("encoder_input_tokens"),
          "targets_nonpad": nonpad("decoder_target_tokens")}


def _headroom(train_json: str | None, lengths: str, examples_per_row: float,
              examples_per_s: float) -> dict:
  """Pipeline examples/s over what the trainer consumes (rows/s x examples per row)."""
  if not train_json:
    return {}
  with open(train_json) as f:
    train = json.loads(f.read().strip().splitlines()[-1])
  trained = f"{train['lengths']['inputs']}/{train['lengths']['targets']}"
  if trained != lengths:
    return {}
  consumed = train["batch"] / train["flan_jax_step_s"] * examples_per_row
  return {"trainer_examples_per_s": consumed, "headroom": examples_per_s / consumed}


if __name__ == "__main__":
  main()
