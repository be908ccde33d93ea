"""One process of the two-process tests: joins jax.distributed, trains, writes a summary.

Usage: python -m tests.training.multihost_worker PROCESS_ID PORT MODEL_DIR SUMMARY_JSON
           [TRAIN_STEPS]
With TRAIN_STEPS the run is a long one the preemption test signals (see
`test_multihost.run_long_training`).
"""

import json
import os
import sys


def main(process_id: int, port: int, model_dir: str, summary_path: str,
         train_steps: int | None = None) -> None:
  os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
  os.environ["JAX_PLATFORMS"] = "cpu"
  import jax
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.distributed.initialize(coordinator_address=f"127.0.0.1:{port}", num_processes=2,
                             process_id=process_id)
  from tests.training import test_multihost
  if train_steps is None:
    summary = test_multihost.run_training(model_dir)
  else:
    summary = test_multihost.run_long_training(model_dir, train_steps)
  with open(summary_path, "w") as f:
    json.dump({"loss_history": summary["loss_history"],
               "final_step": summary["final_step"], "preempted": summary["preempted"],
               "devices": jax.device_count(), "processes": jax.process_count()}, f)


if __name__ == "__main__":
  main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4],
       int(sys.argv[5]) if len(sys.argv) > 5 else None)
