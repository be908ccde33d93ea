"""The lines a training run logs before it compiles: what trains, on what, for how long, where.

Compiling the first step takes a minute or more on a CPU; this report is what the user reads
meanwhile, and what a log file of the run starts with.
"""

from __future__ import annotations

import math
from typing import Any

import jax


def parameter_count(abstract_params: Any) -> int:
  """Number of scalars in a (possibly abstract) parameter tree."""
  return sum(math.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(abstract_params))


def task_count(mixture_or_task_name: str) -> int:
  """How many SeqIO tasks a name covers: a mixture's tasks (nested ones flattened), else 1."""
  import seqio  # pylint: disable=g-import-not-at-top
  provider = seqio.get_mixture_or_task(mixture_or_task_name)
  return len(provider.tasks) if isinstance(provider, seqio.Mixture) else 1


def _tasks(name: str) -> str:
  count = task_count(name)
  return f"{name} ({count} task{'s' if count != 1 else ''})"


def startup_lines(run: Any, resume_step: int | None) -> list[str]:
  """The report for `run` (a run_setup.Run); `resume_step`: the checkpoint it resumes from."""
  c = run.config
  mesh = " x ".join(f"{axis}={size}" for axis, size in dict(run.mesh.shape).items())
  devices = jax.devices()
  lengths = ", ".join(f"{k}={v}" for k, v in sorted(c.task_feature_lengths.items()))
  eval_name = c.eval_mixture_or_task_name or c.mixture_or_task_name
  per_task = (f"up to {c.eval_num_examples} examples per task" if c.eval_num_examples
              else f"the whole {c.eval_split} split")
  when = f"every {c.eval_period} steps and at the end" if c.eval_period else "at the end"
  start = (f"resuming from step {resume_step}" if resume_step is not None
           else "from step 0")
  processes = f"{jax.process_count()} process{'es' if jax.process_count() != 1 else ''}"
  return [
      f"model: {type(run.model_config).__name__}, "
      f"{parameter_count(run.layout.abstract.params):,} parameters",
      f"devices: {len(devices)} x {devices[0].platform} ({processes}), "
      f"mesh {mesh}",
      f"train data: {_tasks(c.mixture_or_task_name)}, feature lengths {lengths}, "
      f"{'packed' if c.pack else 'unpacked'}",
      f"batch: {c.batch_size} sequences per step"
      + (f" in {c.num_microbatches} microbatches" if c.num_microbatches > 1 else ""),
      f"steps: {c.train_steps} ({start}); log every {c.log_period}, "
      f"checkpoint every {c.checkpoint_period}",
      f"eval: {_tasks(eval_name)}, {per_task}, {when}",
      f"MODEL_DIR: {c.model_dir}",
  ]
