"""Measures examples/s of render + tokenize + pack for our tf.data pipeline and naive baselines.

    python scripts/bench_render.py [--task toy.category:zs_opt] [--examples 5000]

Ours: the registered SeqIO task (tf.strings rendering, stateless draws, in-graph
SentencePiece) fed to seqio.EncDecFeatureConverter(pack=True). Baselines render the same
records in Python, one example at a time: (a) a Python generator (render + tokenize in
Python, tf.data.Dataset.from_generator), (b) tf.py_function inside dataset.map.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top
import seqio  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
from flan_jax.data import formats  # pylint: disable=g-import-not-at-top
from flan_jax.data import options  # pylint: disable=g-import-not-at-top
from flan_jax.data import templates as templates_lib  # pylint: disable=g-import-not-at-top
from flan_jax.data.toy import source as toy_source  # pylint: disable=g-import-not-at-top
from flan_jax.data.toy import templates as toy_templates  # pylint: disable=g-import-not-at-top

LENGTHS = {"inputs": 256, "targets": 64}


REPEATS = 3


def _consume(ds: tf.data.Dataset) -> float:
  """Seconds to pack and batch everything in ds (best of REPEATS: the CPUs are shared)."""
  packed = seqio.EncDecFeatureConverter(pack=True)(ds, LENGTHS).batch(32)
  best = float("inf")
  for _ in range(REPEATS):
    start = time.perf_counter()
    for _ in packed:
      pass
    best = min(best, time.perf_counter() - start)
  return best


def bench_ours(task_name: str, n: int) -> float:
  task = catalog.get_mixture_or_task(task_name)
  ds = task.get_dataset(LENGTHS, split="train", shuffle=False).take(n)
  return n / _consume(ds)  # the first of the passes also warms up (tracing, tokenizer).


def _python_render(ts, record, task_name: str) -> tuple[str, str]:
  """The per-example Python rendering a naive pipeline does (same templates, options)."""
  digest = hashlib.sha256(f"0|{task_name}|{record['idx']}".encode()).digest()
  rng = random.Random(digest)
  template = rng.choice(ts.templates)
  style = rng.choice(options.MARKER_STYLES)
  header, ending = rng.choice(options.HEADERS), rng.choice(options.ENDINGS)
  choices = record.get(ts.options_field or "", [])
  block = "\n".join([header] + [f"{style.markers[i]} {c}" for i, c in enumerate(choices)]) + ending
  answer = record[ts.answer_field]
  if choices and style.distinct and answer in choices:
    answer = style.markers[choices.index(answer)]
  inputs = templates_lib.render_python(template.input, record, block)
  targets = templates_lib.render_python(template.target, {**record, ts.answer_field: answer})
  return inputs, targets


def _python_records(task_name: str, n: int):
  _, family, _ = formats.parse_task_name(task_name)
  ts = {t.name: t for t in toy_templates.TOY_TEMPLATE_SETS}[family]
  return ts, list(toy_source.records(family, "train"))[:n]


def bench_generator(task_name: str, n: int, vocab) -> float:
  ts, rows = _python_records(task_name, n)
  eos = vocab.eos_id

  def gen():
    for record in rows:
      inputs, targets = _python_render(ts, record, task_name)
      yield {"inputs": np.array(vocab.encode(inputs)[:255] + [eos], np.int32),
             "targets": np.array(vocab.encode(targets)[:63] + [eos], np.int32)}

  sig = {k: tf.TensorSpec([None], tf.int32) for k in ("inputs", "targets")}
  return n / _consume(tf.data.Dataset.from_generator(gen, output_signature=sig))


def bench_py_function(task_name: str, n: int, vocab) -> float:
  ts, rows = _python_records(task_name, n)
  eos = vocab.eos_id

  def render(i):
    inputs, targets = _python_render(ts, rows[int(i)], task_name)
    return (np.array(vocab.encode(inputs)[:255] + [eos], np.int32),
            np.array(vocab.encode(targets)[:63] + [eos], np.int32))

  def fn(i):
    inputs, targets = tf.py_function(render, [i], [tf.int32, tf.int32])
    inputs.set_shape([None])
    targets.set_shape([None])
    return {"inputs": inputs, "targets": targets}

  ds = tf.data.Dataset.range(n).map(fn, num_parallel_calls=tf.data.AUTOTUNE)
  return n / _consume(ds)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--task", action="append", default=None,
                      help="toy task(s) to measure (default: a zero-shot and a few-shot one)")
  parser.add_argument("--examples", type=int, default=3000)
  parser.add_argument("--repeats", type=int, default=3, help="best of this many passes")
  args = parser.parse_args()
  global REPEATS
  REPEATS = args.repeats
  tasks = args.task or ["toy.category:zs_opt", "toy.arithmetic:zs_opt", "toy.category:fs_opt"]
  catalog.register_catalog()
  vocab = catalog.get_mixture_or_task(tasks[0]).output_features["inputs"].vocabulary
  vocab.encode("warm up")
  print(f"render + tokenize + pack (EncDecFeatureConverter pack=True, {LENGTHS}), "
        f"{args.examples} train examples, best of {REPEATS}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}")
  print(f"{'task':28s} {'pipeline':26s} {'examples/s':>10s}")
  for task in tasks:
    print(f"{task:28s} {'ours (tf.strings, in graph)':26s} {bench_ours(task, args.examples):10.0f}")
    if formats.FORMATS[formats.parse_task_name(task)[2]].few_shot:
      continue  # the naive baselines below render zero-shot only.
    print(f"{task:28s} {'python generator':26s} {bench_generator(task, args.examples, vocab):10.0f}")
    print(f"{task:28s} {'tf.py_function map':26s} {bench_py_function(task, args.examples, vocab):10.0f}")


if __name__ == "__main__":
  main()
