"""flan_jax's train step against Hugging Face PyTorch T5: same weights, batch, optimizer.

  python scripts/bench_train.py                 # T5 v1.1-small, batch 8 x 512/128, AdamW, fp32
  python scripts/bench_train.py --quick         # batch 2 x 256/64, 2 timed steps (~2 min idle)
  python scripts/bench_train.py --cpu_devices 8 --mesh data=4,model=2

flan_jax runs the trainer's own path (mesh, logical-axis shardings, donated state, the jitted
`steps.make_train_step`); the torch model gets the same random weights through our converter
(`flan_jax.interop.hf.state_dict_from_params`). Steps alternate flan_jax, torch, flan_jax, ...
in one invocation so both see the same machine load, each side in a process of its own (as
users run them; `flan_jax.runtime.host_memory` applies to flan_jax's, as in the trainer,
unless --system_malloc); each step's loss is printed for both sides (they must agree), with
the system CPU time and minor page faults the step cost its process.
MFU divides model FLOPs/s by this machine's measured fp32 matmul peak
(of jax and of torch, both printed) or by the known peak of a listed accelerator. The last
line is JSON: flan_jax_tokens_per_s, hf_tokens_per_s, ratio, mfu, hf_mfu, ...
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time


def parse_args(argv=None) -> argparse.Namespace:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--size", default="small", help="T5 v1.1 size (small, base, ...).")
  parser.add_argument("--batch", type=int, default=8)
  parser.add_argument("--inputs", type=int, default=512)
  parser.add_argument("--targets", type=int, default=128)
  parser.add_argument("--steps", type=int, default=4, help="timed steps per side.")
  parser.add_argument("--warmup", type=int, default=2,
                      help="untimed steps per side (the first compiles; until the second "
                      "has run, flan_jax's heap is still growing to its steady size).")
  parser.add_argument("--optimizer", default="adamw", choices=("adamw", "sgd"))
  parser.add_argument("--learning_rate", type=float, default=1e-4)
  parser.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
  parser.add_argument("--cpu_devices", type=int, default=1,
                      help="emulated CPU devices (XLA --xla_force_host_platform_device_count).")
  parser.add_argument("--mesh", default="data=-1", help="e.g. data=4,model=2.")
  parser.add_argument("--no_hf", action="store_true", help="time flan_jax alone.")
  parser.add_argument("--system_malloc", action="store_true",
                      help="leave flan_jax's process on glibc's default malloc settings "
                      "(the trainer keeps freed host memory for reuse on CPU hosts).")
  parser.add_argument("--quick", action="store_true",
                      help="batch 2 x 256/64, 2 timed steps (sized for ~2 minutes on 2 idle cores).")
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args(argv)
  if args.quick:
    args.batch, args.inputs, args.targets, args.steps = 2, 256, 64, 2
  return args


def main(argv=None) -> dict:
  args = parse_args(argv)
  if args.cpu_devices > 1:
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                               f" --xla_force_host_platform_device_count={args.cpu_devices}")
  import jax
  import numpy as np
  from flan_jax.training import flops as flops_lib
  from flan_jax.models import t5

  cfg = t5.T5Config.t5_1_1(args.size, dropout_rate=0.0, dtype=args.dtype)
  lengths = {"inputs": args.inputs, "targets": args.targets}
  ours = SideProcess(_serve_side, "flan_jax", args, None)
  hf = None
  if not args.no_hf:
    hf = SideProcess(_serve_side, "hf", args, ours.info.pop("host_params"))
    n_ours, n_hf = ours.info["num_params"], hf.info["num_params"]
    print(f"parameters: flan_jax {n_ours:,}, torch {n_hf:,}; lm_head untied: "
          f"{hf.info['untied']}")
    if n_ours != n_hf or not hf.info["untied"]:
      sys.exit("bench_train: the exported torch model does not match ours (see above).")
  print(f"flan_jax's process: {ours.info['malloc']}")
  times = {"flan_jax": [], "hf": []}
  losses = {"flan_jax": [], "hf": []}
  costs = {"flan_jax": [], "hf": []}  # (system CPU s, minor page faults) per timed step.
  for i in range(args.warmup + args.steps):
    shown = []
    for side, name in ((ours, "flan_jax"), (hf, "hf")):
      if side is None:
        continue
      loss, elapsed, cost = side.request(i)  # (loss, seconds, (system CPU s, faults)).
      losses[name].append(loss)
      if i >= args.warmup:
        times[name].append(elapsed)
        costs[name].append(cost)
      when = "warmup" if i < args.warmup else f"{elapsed:.2f}s"
      shown.append(f"{name} loss {loss:.6f} ({when}, sys {cost[0]:.2f}s, "
                   f"{cost[1] / 1e3:.0f}k page faults)")
    print(f"step {i}: {'  '.join(shown)}  load {os.getloadavg()[0]:.2f}", flush=True)
  for side in (ours, hf):
    if side is not None:
      side.close()

  tokens = args.batch * (args.inputs + args.targets)
  step_flops = t5.train_flops_per_step(cfg, args.batch, lengths)
  peak_jax, peak_torch = measure_matmul_peak(args.dtype, torch_too=hf is not None)
  known = flops_lib.peak_flops_per_device()
  result = {"model": f"t5_1_1-{args.size}", "dtype": args.dtype, "batch": args.batch,
            "lengths": lengths, "optimizer": args.optimizer, "mesh": args.mesh,
            "devices": jax.device_count(), "device_kind": jax.devices()[0].device_kind,
            "flops_per_step": step_flops, "matmul_peak_jax": peak_jax,
            "matmul_peak_torch": peak_torch, "loadavg": os.getloadavg()[0]}
  median = lambda xs: float(np.median(xs))
  ours_s = median(times["flan_jax"])
  result.update(flan_jax_step_s=ours_s, flan_jax_tokens_per_s=tokens / ours_s,
                mfu=step_flops / ours_s / peak_jax, flan_jax_losses=losses["flan_jax"],
                flan_jax_sys_s=median([c[0] for c in costs["flan_jax"]]),
                flan_jax_page_faults=median([c[1] for c in costs["flan_jax"]]))
  if known:
    result["mfu_vs_known_peak"] = step_flops / ours_s / (known * jax.device_count())
  if hf is not None:
    hf_s = median(times["hf"])
    diff = float(np.max(np.abs(np.subtract(losses["flan_jax"], losses["hf"]))))
    result.update(hf_step_s=hf_s, hf_tokens_per_s=tokens / hf_s, ratio=hf_s / ours_s,
                  hf_mfu=step_flops / hf_s / peak_torch, hf_losses=losses["hf"],
                  max_loss_diff=diff, hf_sys_s=median([c[0] for c in costs["hf"]]),
                  hf_page_faults=median([c[1] for c in costs["hf"]]))
    print(f"flan_jax {ours_s:.2f} s/step vs torch {hf_s:.2f} s/step: ratio {hf_s / ours_s:.2f}x; "
          f"MFU {result['mfu']:.0%} vs {result['hf_mfu']:.0%} of the measured matmul peak "
          f"(jax {peak_jax / 1e9:.0f}, torch {peak_torch / 1e9:.0f} GFLOP/s); "
          f"max loss difference {diff:.2e}")
    if diff > 1e-3:
      print("WARNING: the losses disagree; the comparison is not like for like.")
  print(json.dumps(result), flush=True)
  return result


class SideProcess:
  """One side of a benchmark in a process of its own, as users run either framework.

  `serve(*serve_args, conn)` runs in a freshly spawned interpreter: it sends one first reply
  (kept as `info`), then answers each `request` until it receives None; an exception it
  sends is raised here. In one process both sides shared one malloc heap: torch's
  allocations between two flan_jax steps split the block XLA:CPU had freed, so flan_jax's
  heap took a step longer to settle (0.83M page faults at the first timed step). Here each
  has its own heap. Also used by bench_decode.py.
  """

  def __init__(self, serve, *serve_args):
    import multiprocessing
    context = multiprocessing.get_context("spawn")  # A fresh interpreter, no inherited heap.
    self._conn, child = context.Pipe()
    self._process = context.Process(target=serve, args=(*serve_args, child), daemon=True)
    self._process.start()
    child.close()
    self.info = self._receive()

  def _receive(self):
    try:
      reply = self._conn.recv()
    except EOFError:
      sys.exit(f"{os.path.basename(sys.argv[0])}: a side's process died (exit code "
               f"{self._process.exitcode}).")
    if isinstance(reply, BaseException):
      raise reply
    return reply

  def request(self, message):
    """Sends `message` to the side's process and returns its reply."""
    self._conn.send(message)
    return self._receive()

  def close(self) -> None:
    self._conn.send(None)
    self._process.join()


def _serve_side(name: str, args, params, conn) -> None:
  """Builds one side, reports its size, then runs the steps the parent asks for."""
  try:
    malloc = "system malloc"
    if name == "flan_jax" and not args.system_malloc:
      from flan_jax.runtime import host_memory  # Before jax starts any thread.
      if host_memory.keep_freed_memory():
        malloc = "freed host memory kept for reuse (flan_jax.runtime.host_memory)"
    import numpy as np
    from flan_jax.models import t5
    cfg = t5.T5Config.t5_1_1(args.size, dropout_rate=0.0, dtype=args.dtype)
    if name == "flan_jax":
      side = FlanJaxSide(cfg, args)
      info = {"num_params": side.num_params(), "malloc": malloc,
              "host_params": None if args.no_hf else side.host_params()}
    else:
      side = TorchSide(cfg, params, args)
      info = {"num_params": side.num_params(), "untied": side.untied()}
    conn.send(info)
    while (index := conn.recv()) is not None:
      batch = random_batch(np.random.RandomState(args.seed + index), cfg.vocab_size, args)
      before = resource.getrusage(resource.RUSAGE_SELF)
      start = time.perf_counter()
      loss = side.step(batch)
      elapsed = time.perf_counter() - start
      after = resource.getrusage(resource.RUSAGE_SELF)
      conn.send((loss, elapsed, (after.ru_stime - before.ru_stime,
                                 after.ru_minflt - before.ru_minflt)))
  except Exception as error:  # pylint: disable=broad-except
    conn.send(error)


def random_batch(rng, vocab: int, args) -> dict:
  """Full-length rows of random real tokens (ids >= 2), targets shifted right for teacher forcing."""
  import numpy as np
  inputs = rng.randint(2, vocab, (args.batch, args.inputs)).astype(np.int32)
  targets = rng.randint(2, vocab, (args.batch, args.targets)).astype(np.int32)
  decoder_inputs = np.concatenate([np.zeros_like(targets[:, :1]), targets[:, :-1]], axis=1)
  return {"encoder_input_tokens": inputs, "decoder_input_tokens": decoder_inputs,
          "decoder_target_tokens": targets, "decoder_loss_weights": np.ones_like(targets)}


class FlanJaxSide:
  """The trainer's path: mesh, rules, state layout, init in shardings, donated jitted step."""

  def __init__(self, cfg, args):
    import flax.linen as nn
    import jax
    from flan_jax.models import t5
    from flan_jax.runtime import partitioning
    from flan_jax.training import losses, optimizers, state, steps
    mesh_shape = {k: int(v) for k, v in (p.split("=") for p in args.mesh.split(","))}
    partition = partitioning.PartitionConfig(mesh_shape=mesh_shape)
    self.mesh = partitioning.create_mesh(partition)
    self.rules = partition.rules()
    self.model = t5.Transformer(cfg)
    lengths = {"inputs": args.inputs, "targets": args.targets}
    if args.optimizer == "adamw":
      tx = optimizers.make_optimizer(optimizers.OptimizerConfig(
          name="adamw", learning_rate=args.learning_rate), 1000)
    else:
      import optax
      tx = optax.sgd(args.learning_rate)
    # z_loss=0: the plain mean cross-entropy that transformers' T5 returns.
    loss = losses.LossConfig(z_loss=0.0)
    with jax.set_mesh(self.mesh), nn.logical_axis_rules(self.rules):
      self.layout = state.state_layout(self.model, tx, lengths, self.mesh, self.rules)
      self.state = state.init_state(self.model, tx, lengths, self.layout, args.seed)
      self.batch_sharding = partitioning.batch_sharding(self.mesh, self.rules)
      self.train_step = steps.jit_train_step(
          steps.make_train_step(self.model, tx, loss), self.layout.shardings,
          self.batch_sharding)
    self.rng = jax.random.PRNGKey(1)

  def host_params(self):
    import jax
    import numpy as np
    return jax.tree.map(np.asarray, self.state.params)

  def num_params(self) -> int:
    import jax
    return sum(int(x.size) for x in jax.tree.leaves(self.state.params))

  def step(self, batch: dict) -> float:
    import flax.linen as nn
    import jax
    with jax.set_mesh(self.mesh), nn.logical_axis_rules(self.rules):
      device_batch = jax.device_put(batch, self.batch_sharding)
      self.state, metrics = self.train_step(self.state, device_batch, self.rng)
      jax.block_until_ready(self.state)
    return float(metrics["loss"])


class TorchSide:
  """transformers' T5ForConditionalGeneration with our weights, torch's AdamW (or SGD)."""

  def __init__(self, cfg, params, args):
    import tempfile
    import torch
    import transformers
    from flan_jax.interop import hf
    from flan_jax.models import t5
    torch.manual_seed(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
      export = os.path.join(tmp, "hf")
      hf.save_t5(t5.Transformer(cfg), params, export)  # Our converter, as a user would.
      self.model = transformers.T5ForConditionalGeneration.from_pretrained(export)
    dtype = torch.bfloat16 if args.dtype == "bfloat16" else torch.float32
    self.model.to(dtype).train()
    if args.optimizer == "adamw":
      self.opt = torch.optim.AdamW(self.model.parameters(), lr=args.learning_rate,
                                   betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    else:
      self.opt = torch.optim.SGD(self.model.parameters(), lr=args.learning_rate)
    self.torch = torch

  def num_params(self) -> int:
    return sum(p.numel() for p in self.model.parameters())

  def untied(self) -> bool:
    return self.model.lm_head.weight.data_ptr() != self.model.shared.weight.data_ptr()

  def step(self, batch: dict) -> float:
    torch = self.torch
    out = self.model(input_ids=torch.from_numpy(batch["encoder_input_tokens"]).long(),
                     decoder_input_ids=torch.from_numpy(batch["decoder_input_tokens"]).long(),
                     labels=torch.from_numpy(batch["decoder_target_tokens"]).long())
    out.loss.backward()
    self.opt.step()
    self.opt.zero_grad(set_to_none=True)
    return float(out.loss.detach())


def measure_matmul_peak(dtype: str, torch_too: bool, n: int = 2048,
                        reps: int = 3) -> tuple[float, float | None]:
  """Best FLOP/s of an n x n x n matmul in jax and in torch, alternated."""
  import jax
  import jax.numpy as jnp
  import numpy as np
  a = np.random.RandomState(0).randn(n, n).astype(np.float32)
  ja = jnp.asarray(a, dtype)
  dot = jax.jit(lambda x: x @ x)
  jax.block_until_ready(dot(ja))
  if torch_too:
    import torch
    ta = torch.from_numpy(a).to(torch.bfloat16 if dtype == "bfloat16" else torch.float32)
    ta @ ta
  best_jax, best_torch = 0.0, 0.0
  for _ in range(reps):
    start = time.perf_counter()
    jax.block_until_ready(dot(ja))
    best_jax = max(best_jax, 2 * n**3 / (time.perf_counter() - start))
    if torch_too:
      start = time.perf_counter()
      ta @ ta
      best_torch = max(best_torch, 2 * n**3 / (time.perf_counter() - start))
  return best_jax, (best_torch if torch_too else None)


if __name__ == "__main__":
  main()
