"""Cached greedy and beam decoding: flan_jax against Hugging Face `generate`, same weights.

  python scripts/bench_decode.py                        # small, fp32, batch 1 and 32, 64 tokens
  python scripts/bench_decode.py --batches 1 --no_hf    # flan_jax alone
  python scripts/bench_decode.py --beam 0 --encode      # also the encoder pass alone
  python scripts/bench_decode.py --beam 0 --batches 32 --no_hf --profile 20   # where it goes

A random T5 v1.1 is exported to transformers with our converter; both sides decode the same
prompts for exactly --targets new tokens (EOS disabled on both sides), steady state after
one compile/warm-up call, timed alternately (flan_jax, HF, flan_jax, HF). Each side runs in
a process of its own, as users run either framework: flan_jax's keeps freed host memory for
reuse as the `flan-jax` program does (`--system_malloc` leaves glibc's defaults), HF's is a
fresh interpreter with torch's defaults; each side times its own calls. Greedy tokens are
compared row by row; for beam search the best beam's agreement is printed. The last line is
JSON with new tokens/s of both sides and their ratio per method and batch size.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time


def parse_args(argv=None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--size", default="small")
  parser.add_argument("--batches", default="1,32", help="comma-separated batch sizes.")
  parser.add_argument("--inputs", type=int, default=512)
  parser.add_argument("--targets", type=int, default=64, help="new tokens per row.")
  parser.add_argument("--beam", type=int, default=4, help="beam size; 0 skips beam search.")
  parser.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
  parser.add_argument("--repeats", type=int, default=2, help="timed calls per side.")
  parser.add_argument("--no_hf", action="store_true")
  parser.add_argument("--system_malloc", action="store_true",
                      help="leave flan_jax's process on glibc's default malloc settings.")
  parser.add_argument("--profile", type=int, default=0, metavar="N",
                      help="also record one flan_jax call per method with jax.profiler and "
                      "print its N slowest HLO instructions (as scripts/profile_train_step.py).")
  parser.add_argument("--encode", action="store_true",
                      help="also time the encoder pass alone (the prefill every method pays).")
  return parser.parse_args(argv)


def main(argv=None) -> dict:
  args = parse_args(argv)
  if not args.system_malloc:  # As the flan-jax program does, before jax starts threads.
    from flan_jax.runtime import host_memory  # pylint: disable=g-import-not-at-top
    host_memory.keep_freed_memory()
  import jax
  import jax.numpy as jnp
  import numpy as np
  from flan_jax.models import t5, t5_decoding
  cfg = t5.T5Config.t5_1_1(args.size, dtype=args.dtype, dropout_rate=0.0)
  model = t5.Transformer(cfg)
  one = jnp.ones((1, 8), jnp.int32)
  params = jax.jit(lambda r: model.init(r, one, one, one, enable_dropout=False)["params"])(
      jax.random.PRNGKey(0))
  methods = {}
  if args.encode:
    methods["encode"] = jax.jit(lambda p, e: t5_decoding.encode(model, p, e))
  methods["greedy"] = jax.jit(lambda p, e: t5_decoding.greedy_decode(
      model, p, e, args.targets, eos_id=-1))
  if args.beam:
    methods[f"beam{args.beam}"] = jax.jit(lambda p, e: t5_decoding.beam_search(
        model, p, e, args.targets, beam_size=args.beam, eos_id=-1)[0][:, 0])
  hf = None if args.no_hf else _hf_process(args, jax.tree.map(np.asarray, params))
  print(f"{args.size} {args.dtype} on {jax.devices()[0].device_kind}: inputs {args.inputs}, "
        f"{args.targets} new tokens; load {os.getloadavg()[0]:.2f}")
  results = {}
  for batch in (int(b) for b in args.batches.split(",")):
    tokens = np.random.RandomState(batch).randint(2, cfg.vocab_size, (batch, args.inputs))
    for name, fn in methods.items():
      ours = _timed(lambda: np.asarray(jax.block_until_ready(
          fn(params, jnp.asarray(tokens, jnp.int32)))))
      beams = 0 if name == "encode" else (1 if name == "greedy" else args.beam)
      theirs = lambda: hf.request((tokens, beams))  # (output, seconds).
      row = _time_pair(ours, None if hf is None else theirs, args.repeats)
      # The encoder's rate counts input tokens; decoding's, new tokens.
      counted = batch * (args.inputs if name == "encode" else args.targets)
      row["flan_jax_tokens_per_s"] = counted / row["flan_jax_s"]
      if hf is not None:
        row["hf_tokens_per_s"] = counted / row["hf_s"]
        row["ratio"] = row["hf_s"] / row["flan_jax_s"]
        ours_out, hf_out = row.pop("ours_out"), row.pop("hf_out")
        if name == "encode":
          row["max_abs_diff"] = float(np.max(np.abs(ours_out - hf_out)))
        else:
          row["same_tokens"] = float(np.mean(ours_out == hf_out))
      else:
        row.pop("ours_out")
      results[f"{name}_b{batch}"] = row
      print(f"  {name:>6} batch {batch:>2}: " + ", ".join(
          f"{k} {v:.4g}" for k, v in row.items()), flush=True)
      if args.profile:
        print_profile(fn, params, jnp.asarray(tokens, jnp.int32), args.profile)
  summary = {"model": f"t5_1_1-{args.size}", "dtype": args.dtype, "inputs": args.inputs,
             "new_tokens": args.targets, "loadavg": os.getloadavg()[0], **results}
  print(json.dumps(summary), flush=True)
  if hf is not None:
    hf.close()
  return summary


def _timed(call):
  """`call` made to return (its output, its wall seconds)."""
  def timed():
    start = time.perf_counter()
    out = call()
    return out, time.perf_counter() - start
  return timed


def _time_pair(ours, theirs, repeats: int) -> dict:
  """Warm-up (compile) each side once, then alternate timed calls; medians in seconds.

  Both callables return (output, seconds of the call as its own process measured it).
  """
  import numpy as np
  ours_out, compile_s = ours()
  row = {"flan_jax_compile_s": compile_s}
  hf_out = theirs()[0] if theirs else None
  ours_s, hf_s = [], []
  for _ in range(repeats):
    ours_s.append(ours()[1])
    if theirs:
      hf_s.append(theirs()[1])
  row.update(flan_jax_s=float(np.median(ours_s)), ours_out=ours_out)
  if theirs:
    row.update(hf_s=float(np.median(hf_s)), hf_out=hf_out)
  return row


def print_profile(fn, params, tokens, top: int) -> None:
  """One recorded call of jitted `fn`: seconds per kind of op and the slowest instructions.

  Seconds are summed over the call's executions of each instruction (a decode loop runs
  its body once per step) and over threads.
  """
  import collections
  import jax
  sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
  import profile_train_step as profiling  # pylint: disable=g-import-not-at-top
  hlo = profiling.parse_hlo(fn.lower(params, tokens).compile().as_text())
  events, _ = profiling.record(lambda: jax.block_until_ready(fn(params, tokens)))
  seconds, calls, kinds = collections.Counter(), collections.Counter(), collections.Counter()
  for name, duration in profiling.instruction_seconds(events, hlo):
    seconds[name] += duration
    calls[name] += 1
    kinds[profiling.op_kind(hlo[name][0], name)] += duration
  print("    by kind: " + ", ".join(f"{k} {v:.2f} s" for k, v in kinds.most_common()))
  for name, total in seconds.most_common(top):
    opcode, shape, op_name = hlo[name]
    print(f"    {total:7.3f} s {calls[name]:4d}x {name} {shape} {opcode} {op_name[-80:]}")


def _hf_process(args, params):
  """Hugging Face's side in a process of its own (bench_train's `SideProcess`).

  Sharing flan_jax's process (as this script did before) gave torch's allocations and
  XLA:CPU's one heap, tuned for neither: with glibc's defaults both sides faulted in fresh
  pages at every call (see docs/BENCHMARKS.md, "Decoding").
  """
  sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
  from bench_train import SideProcess  # pylint: disable=g-import-not-at-top
  return SideProcess(_serve_hf, args, params)


def _serve_hf(args, params, conn) -> None:
  """Loads HF's model from our export, then answers (tokens, beams) requests with (output,
  seconds): encoder states when `beams` is 0, else `generate`'s new tokens."""
  try:
    from flan_jax.models import t5
    cfg = t5.T5Config.t5_1_1(args.size, dtype=args.dtype, dropout_rate=0.0)
    model = HFGenerate(cfg, params, args)
    conn.send("loaded")
    while (request := conn.recv()) is not None:
      tokens, beams = request
      start = time.perf_counter()
      out = model.encode(tokens) if beams == 0 else model.generate(tokens, num_beams=beams)
      conn.send((out, time.perf_counter() - start))
  except Exception as error:  # pylint: disable=broad-except
    conn.send(error)


class HFGenerate:
  """transformers' T5ForConditionalGeneration loaded from our converter's export."""

  def __init__(self, cfg, params, args):
    import torch
    import transformers
    from flan_jax.interop import hf
    from flan_jax.models import t5
    with tempfile.TemporaryDirectory() as tmp:
      hf.save_t5(t5.Transformer(cfg), params, os.path.join(tmp, "hf"))
      self.model = transformers.T5ForConditionalGeneration.from_pretrained(
          os.path.join(tmp, "hf")).eval()
    if args.dtype == "bfloat16":
      self.model.to(torch.bfloat16)
    # No EOS: every row decodes exactly `targets` tokens, as flan_jax's eos_id=-1.
    self.model.generation_config.eos_token_id = None
    self.targets = args.targets
    self.torch = torch

  def encode(self, tokens):
    """The encoder's final hidden states, float32 [batch, inputs, emb_dim]."""
    with self.torch.inference_mode():
      out = self.model.encoder(input_ids=self.torch.from_numpy(tokens).long())
    return out.last_hidden_state.float().numpy()

  def generate(self, tokens, num_beams: int):
    """[batch, targets] new token ids (the leading decoder start token dropped)."""
    torch = self.torch
    with torch.inference_mode():
      out = self.model.generate(
          input_ids=torch.from_numpy(tokens).long(), max_new_tokens=self.targets,
          num_beams=num_beams, do_sample=False,
          length_penalty=0.0, early_stopping=False)
    return out[:, 1:].numpy()


if __name__ == "__main__":
  main()
