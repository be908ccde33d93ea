"""Where flan_jax's train step spends its time, per part of the model and per kind of op.

  python scripts/profile_train_step.py                    # T5 v1.1-small, 8 x 512/128, AdamW
  python scripts/profile_train_step.py --batch 2 --inputs 64 --targets 16 --top 15
  python scripts/profile_train_step.py --hlo_out /tmp/step.hlo   # also keep the compiled HLO

Builds the same step as `scripts/bench_train.py` (the trainer's mesh, shardings, donation,
jitted `steps.make_train_step`; same arguments), runs one warm-up step, then records one
step with `jax.profiler` (XLA:CPU emits one trace event per executed HLO instruction). Each
event is matched to its instruction in the compiled HLO text, which says what the
instruction is (matmul, copy/transpose, scatter, reduction, elementwise) and, through its
`op_name` metadata, which part of the model it came from and whether it belongs to the
forward pass (`jvp`), the backward pass (`transpose(jvp)`) or the update. Prints seconds
per (part, pass), per kind of op, and the slowest instructions with their output shapes.
Event times are summed over threads: with 2 cores the sum can exceed the step's wall time.
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import bench_train  # pylint: disable=wrong-import-position

_INSTRUCTION = re.compile(r"^\s*(?:ROOT )?%([\w.\-]+) = (\S+(?: \S+)?) ([\w\-]+)\(")
_OP_NAME = re.compile(r'op_name="([^"]*)"')
_PARTS = (  # First match wins; matched against the op_name path.
    ("relative position bias", ("relpos_bias",)),
    ("attention", ("attention",)),
    ("MLP", ("/mlp",)),
    ("norms", ("layer_norm", "decoder_norm", "encoder_norm")),
    ("embedding", ("token_embedder",)),
    ("logits", ("logits_dense",)),
    ("loss", ("cross_entropy", "loss")),
)


def parse_hlo(text: str) -> dict[str, tuple[str, str, str]]:
  """Instruction name -> (opcode or fusion kind, output shape, op_name) for every instruction."""
  out = {}
  for line in text.splitlines():
    match = _INSTRUCTION.match(line)
    if not match:
      continue
    name, shape, opcode = match.groups()
    if opcode == "fusion":
      kind = re.search(r"kind=(\w+)", line)
      opcode = ("matmul" if "__ynn_fusion" in line or "dot" in name
                else f"fusion:{kind.group(1) if kind else '?'}")
    op_name = _OP_NAME.search(line)
    out[name] = (opcode, shape, op_name.group(1) if op_name else "")
  return out


def op_kind(opcode: str, name: str) -> str:
  if opcode in ("dot", "matmul", "convolution") or name.startswith(("dot", "ynn_fusion")):
    return "matmul"
  if opcode in ("copy", "transpose") or name.startswith(("copy", "transpose")):
    return "copy/transpose"
  if "scatter" in opcode or "scatter" in name:
    return "scatter"
  if "reduce" in name or opcode in ("reduce", "fusion:kInput"):
    return "reduction"
  return "elementwise/other"


def part_and_pass(op_name: str) -> tuple[str, str]:
  if "transpose(jvp(" in op_name:
    direction = "backward"
  elif "jvp(" in op_name:
    direction = "forward"
  else:
    return "update (optimizer, gradient norm, metrics)", ""
  for part, keys in _PARTS:
    if any(k in op_name for k in keys):
      return part, direction
  return "other", direction


def trace_events(trace_dir: str) -> list[dict]:
  files = glob.glob(os.path.join(trace_dir, "**", "perfetto_trace.json.gz"), recursive=True)
  if not files:
    sys.exit(f"profile_train_step: no perfetto trace under {trace_dir}.")
  with gzip.open(files[-1], "rt", encoding="utf-8") as f:
    data = json.load(f)
  events = data["traceEvents"] if isinstance(data, dict) else data
  return [e for e in events if e.get("ph") == "X"]


def record(run) -> tuple[list[dict], float]:
  """Calls `run()` once under `jax.profiler`: (the trace's complete events, wall seconds)."""
  import jax  # pylint: disable=g-import-not-at-top
  with tempfile.TemporaryDirectory() as trace_dir:
    jax.profiler.start_trace(trace_dir, create_perfetto_trace=True)
    start = time.perf_counter()
    run()
    wall = time.perf_counter() - start
    jax.profiler.stop_trace()
    return trace_events(trace_dir), wall


def instruction_seconds(events: list[dict], hlo: dict) -> list[tuple[str, float]]:
  """(instruction name, seconds) of each event that is an execution of an instruction of `hlo`."""
  return [(e["name"], e.get("dur", 0) / 1e6) for e in events if e["name"] in hlo]


def main(argv=None) -> None:
  own = argparse.ArgumentParser(add_help=False)
  own.add_argument("--top", type=int, default=20, help="slowest instructions to list.")
  own.add_argument("--hlo_out", default=None, help="also write the compiled HLO text here.")
  mine, rest = own.parse_known_args(argv)
  top, hlo_out = mine.top, mine.hlo_out
  args = bench_train.parse_args(rest + ["--no_hf"])  # The step's shape, as bench_train.
  if not args.system_malloc:  # As the trainer and bench_train; before jax starts threads.
    from flan_jax.runtime import host_memory  # pylint: disable=g-import-not-at-top
    host_memory.keep_freed_memory()
  import flax.linen as nn  # pylint: disable=g-import-not-at-top
  import jax  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from flan_jax.models import t5  # pylint: disable=g-import-not-at-top

  cfg = t5.T5Config.t5_1_1(args.size, dropout_rate=0.0, dtype=args.dtype)
  side = bench_train.FlanJaxSide(cfg, args)
  batch = bench_train.random_batch(np.random.RandomState(args.seed), cfg.vocab_size, args)
  with jax.set_mesh(side.mesh), nn.logical_axis_rules(side.rules):
    hlo_text = side.train_step.lower(
        side.state, jax.device_put(batch, side.batch_sharding), side.rng).compile().as_text()
  hlo = parse_hlo(hlo_text)
  if hlo_out:
    with open(hlo_out, "w", encoding="utf-8") as f:
      f.write(hlo_text)
  side.step(batch)  # Warm-up (compiles).
  events, wall = record(lambda: side.step(batch))

  by_part, by_kind, by_op = (collections.Counter() for _ in range(3))
  counts = collections.Counter()
  for name, seconds in instruction_seconds(events, hlo):
    opcode, _, op_name = hlo[name]
    kind = op_kind(opcode, name)
    by_part[part_and_pass(op_name)] += seconds
    by_kind[kind] += seconds
    by_op[name] += seconds
    counts[kind] += 1
  total = sum(by_part.values())
  print(f"T5 v1.1-{args.size}, batch {args.batch} x {args.inputs}/{args.targets}, "
        f"{args.optimizer}, {args.dtype}; step wall {wall:.2f} s, {total:.2f} s in HLO "
        f"instructions (summed over threads); load {os.getloadavg()[0]:.2f}")
  print("\nper part and pass:")
  for (part, direction), seconds in by_part.most_common():
    print(f"  {seconds:8.3f} s  {100 * seconds / total:5.1f}%  {part} {direction}".rstrip())
  print("\nper kind of op:")
  for kind, seconds in by_kind.most_common():
    print(f"  {seconds:8.3f} s  {100 * seconds / total:5.1f}%  {kind} ({counts[kind]} instructions)")
  print(f"\nslowest {top} instructions:")
  for name, seconds in by_op.most_common(top):
    opcode, shape, op_name = hlo[name]
    short = op_name.replace("jit(train_step)/", "").replace("Transformer.", "")
    print(f"  {seconds:8.3f} s  {name} {shape} {opcode}  {short[-110:]}")
  print(json.dumps({"step_wall_s": wall, "hlo_seconds": total,
                    "by_kind": dict(by_kind),
                    "by_part": {f"{p} {d}".strip(): s for (p, d), s in by_part.items()}}))


if __name__ == "__main__":
  main()
