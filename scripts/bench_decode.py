"""Times cached decoding (greedy, beam) of a random T5 at a given size and lengths.

  python scripts/bench_decode.py --size small --batch 8 --inputs 512 --targets 64

Prints compile time and steady-state decoded tokens per second for each method; the
model has random weights and EOS is disabled, so every row decodes all target positions.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from flan_jax.models import decoding, t5


def _time(fn, *args) -> tuple[float, float]:
  start = time.perf_counter()
  jax.block_until_ready(fn(*args))
  compile_s = time.perf_counter() - start
  start = time.perf_counter()
  jax.block_until_ready(fn(*args))
  return compile_s, time.perf_counter() - start


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--size", default="small", choices=sorted(t5.T5_1_1_SIZES))
  parser.add_argument("--batch", type=int, default=8)
  parser.add_argument("--inputs", type=int, default=512)
  parser.add_argument("--targets", type=int, default=64)
  parser.add_argument("--beam", type=int, default=4)
  parser.add_argument("--dtype", default="bfloat16")
  args = parser.parse_args()
  cfg = t5.T5Config.t5_1_1(args.size, dtype=args.dtype, dropout_rate=0.0)
  model = t5.Transformer(cfg)
  tokens = jnp.asarray(np.random.RandomState(0).randint(2, cfg.vocab_size,
                                                        (args.batch, args.inputs)), jnp.int32)
  one = jnp.ones((1, 8), jnp.int32)
  params = jax.jit(lambda r: model.init(r, one, one, one, enable_dropout=False)["params"])(
      jax.random.PRNGKey(0))
  methods = {
      "greedy": jax.jit(lambda p, e: decoding.greedy_decode(model, p, e, args.targets,
                                                            eos_id=-1)),
      f"beam{args.beam}": jax.jit(lambda p, e: decoding.beam_search(
          model, p, e, args.targets, beam_size=args.beam, eos_id=-1)),
  }
  print(f"{args.size} {args.dtype} on {jax.devices()[0].device_kind}: batch {args.batch}, "
        f"inputs {args.inputs}, targets {args.targets}")
  for name, fn in methods.items():
    compile_s, run_s = _time(fn, params, tokens)
    print(f"  {name:>8}: compile+run {compile_s:.1f}s, run {run_s:.3f}s, "
          f"{args.batch * args.targets / run_s:.0f} tokens/s")


if __name__ == "__main__":
  main()
