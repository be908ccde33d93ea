"""Pre-mixed stream vs per-task pipelines: premix build and training stream, side by side.

  python scripts/bench_premix.py --vocab ../shared/vocab/t5_spiece.model

Every measurement runs in a fresh child process; the parent samples its peak RSS (VmHWM)
and most open files every 0.1 s. Sources:

  toy_flan        the 51 toy tasks, real templates, few-shot rendering and tokenizing
                  (with --vocab: the T5 SentencePiece model, as a real finetune).
  synthetic:K     the first K tasks of the flat flan2022 mixture on bench_mixtures.py's
                  synthetic catalog of the collection's shape (K = 0: all 3,954; --scale 3
                  for 11,862), records of made-up token ids (40-110 input and 4-16 target
                  tokens, about toy_flan's mean), no rendering: the build's cost beyond
                  rendering, and a premix whose rows pack like toy_flan's.

Printed: premix build (rows/s, peak RSS, open files), then the trainer's stream
(`input_pipeline.train_dataset`, 2048/512 packed, batch 32 by default) from each premix and,
side by side in the same run, from the per-task pipelines of toy_flan and synthetic:204.
Each line carries the 1-minute load average. Last line: JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))


def register_source(source: str, scale: int, vocab: str | None) -> str:
  """Registers the source's mixture in this process; returns its name."""
  if source == "toy_flan":
    import bench_data  # pylint: disable=g-import-not-at-top
    from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
    mixture = catalog.get_mixture_or_task("toy_flan")
    if vocab:
      bench_data._use_vocabulary(mixture, vocab)  # pylint: disable=protected-access
    return "toy_flan"
  import seqio  # pylint: disable=g-import-not-at-top
  import bench_mixtures  # pylint: disable=g-import-not-at-top
  from flan_jax.mixtures import builder, recipe  # pylint: disable=g-import-not-at-top
  count = int(source.split(":")[1])
  rates = recipe.recipe_rates("flan2022", bench_mixtures.synthetic_specs(scale))
  pairs = list(rates)[:count] if count else list(rates)
  _register_token_tasks(sorted({n.split("#")[0] for n, _ in pairs}))
  name = f"bench_premix_{count or len(pairs)}"
  if name not in seqio.MixtureRegistry.names():
    builder.register_flat_mixture(name, pairs)
  return name


def _register_token_tasks(names) -> None:
  """Plain tasks of 20 records of made-up ids: inputs 40-110, targets 4-16 tokens."""
  import seqio  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  vocab = seqio.PassThroughVocabulary(size=32000)
  features = {"inputs": seqio.Feature(vocab), "targets": seqio.Feature(vocab)}
  for k, name in enumerate(names):
    if name in seqio.TaskRegistry.names():
      continue
    inputs = [[2 + (k * 7 + i * 13 + j) % 31000 for j in range(40 + (k + 3 * i) % 71)]
              for i in range(20)]
    targets = [[2 + (k + i + j) % 31000 for j in range(4 + (k + i) % 13)] for i in range(20)]

    def make(split, shuffle_files, seed=None, _i=inputs, _t=targets):
      del split, shuffle_files, seed
      return tf.data.Dataset.from_tensor_slices(
          {"inputs": tf.ragged.constant(_i), "targets": tf.ragged.constant(_t)}).map(
              lambda ex: {k: v.to_tensor() if hasattr(v, "to_tensor") else v
                          for k, v in ex.items()})

    seqio.TaskRegistry.add(name, source=seqio.FunctionDataSource(
        make, splits=("train",), num_input_examples={"train": 20}),
        preprocessors=[], output_features=features, shuffle_buffer_size=1000)


def _child_build(args) -> dict:
  from flan_jax.premix import build  # pylint: disable=g-import-not-at-top
  name = register_source(args.source, args.scale, args.vocab)
  start = time.perf_counter()
  manifest = build.build(build.PremixConfig(name, args.out, num_examples=args.rows,
                                            num_files=args.num_files), progress=False)
  seconds = time.perf_counter() - start
  return {"tasks": len(manifest.tasks), "rows": manifest.num_examples, "build_s": seconds,
          "rows_per_s": manifest.num_examples / seconds}


def _child_read(args) -> dict:
  import seqio  # pylint: disable=g-import-not-at-top
  from flan_jax.training import input_pipeline  # pylint: disable=g-import-not-at-top
  name = register_source(args.source, args.scale, args.vocab)
  n_in, n_out = (int(x) for x in args.lengths.split("/"))
  start = time.perf_counter()
  ds = input_pipeline.train_dataset(
      name, {"inputs": n_in, "targets": n_out}, args.batch, seed=0,
      feature_converter=seqio.EncDecFeatureConverter(pack=True), premixed_dir=args.premix)
  batches = ds.as_numpy_iterator()
  next(batches)
  first = time.perf_counter() - start
  start = time.perf_counter()
  examples = sum(int(b["decoder_segment_ids"].max(axis=1).sum())
                 for _, b in zip(range(args.batches), batches))
  seconds = time.perf_counter() - start
  tasks = len(getattr(seqio.get_mixture_or_task(name), "tasks", [None]))
  return {"tasks": tasks, "first_batch_s": first, "examples_per_s": examples / seconds,
          "examples_per_row": examples / (args.batches * args.batch)}


def _peak(pid: int) -> tuple[int, int]:
  rss, fds = 0, 0
  try:
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
      for line in f:
        if line.startswith("VmHWM:"):
          rss = int(line.split()[1]) * 1024
  except OSError:
    pass
  return rss, fds


def run_child(mode: str, source: str, args, **extra) -> dict:
  """Runs one measurement in a fresh process; adds its peak RSS, open files and the load."""
  argv = [sys.executable, __file__, "--child", mode, "--source", source,
          "--scale", str(args.scale), "--lengths", args.lengths, "--batch", str(args.batch),
          "--batches", str(args.batches), "--rows", str(args.rows),
          "--num_files", str(args.num_files)]
  argv += ["--vocab", args.vocab] if args.vocab else []
  for key, value in extra.items():
    argv += [f"--{key}", str(value)]
  with tempfile.NamedTemporaryFile("r", suffix=".json") as result:
    child = subprocess.Popen(argv + ["--result", result.name])
    peak_rss, most_fds = 0, 0
    while child.poll() is None:
      rss, fds = _peak(child.pid)
      peak_rss, most_fds = max(peak_rss, rss), max(most_fds, fds)
      time.sleep(0.1)
    if child.returncode:
      raise RuntimeError(f"{mode} {source} failed ({child.returncode})")
    out = json.load(open(result.name, encoding="utf-8"))
  out.update(mode=mode, source=source, peak_rss_mib=peak_rss / 2**20, most_open_files=most_fds,
             load=os.getloadavg()[0])
  print("  " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in out.items()), flush=True)
  return out


def parse_args(argv=None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--vocab", default=None, help="SentencePiece model for toy_flan")
  parser.add_argument("--sources", default="toy_flan,synthetic:0",
                      help="premixes to build and read")
  parser.add_argument("--per_task", default="toy_flan,synthetic:204",
                      help="per-task pipelines read side by side ('' : none)")
  parser.add_argument("--scale", type=int, default=1, help="synthetic catalog repeats")
  parser.add_argument("--rows", type=int, default=50_000, help="rows per premix")
  parser.add_argument("--num_files", type=int, default=16)
  parser.add_argument("--lengths", default="2048/512")
  parser.add_argument("--batch", type=int, default=32)
  parser.add_argument("--batches", type=int, default=10, help="timed batches after the first")
  parser.add_argument("--child", choices=("build", "read"), help=argparse.SUPPRESS)
  parser.add_argument("--source", help=argparse.SUPPRESS)
  parser.add_argument("--out", help=argparse.SUPPRESS)
  parser.add_argument("--premix", default=None, help=argparse.SUPPRESS)
  parser.add_argument("--result", help=argparse.SUPPRESS)
  return parser.parse_args(argv)


def main() -> None:
  args = parse_args()
  if args.child:
    out = _child_build(args) if args.child == "build" else _child_read(args)
    with open(args.result, "w", encoding="utf-8") as f:
      json.dump(out, f)
    return
  results = []
  with tempfile.TemporaryDirectory(dir=os.path.join(ROOT, "outputs") if os.path.isdir(
      os.path.join(ROOT, "outputs")) else None) as tmp:
    for source in [s for s in args.sources.split(",") if s]:
      out = os.path.join(tmp, source.replace(":", "_"))
      print(f"premix build {source} ({args.rows} rows):", flush=True)
      results.append(run_child("build", source, args, out=out))
      print(f"stream from the premix of {source} ({args.lengths}, batch {args.batch}):",
            flush=True)
      results.append(run_child("read", source, args, premix=out))
    for source in [s for s in args.per_task.split(",") if s]:
      print(f"stream from per-task pipelines of {source} ({args.lengths}, batch "
            f"{args.batch}):", flush=True)
      results.append(run_child("read", source, args))
  print(json.dumps(results), flush=True)


if __name__ == "__main__":
  main()
