"""One of two processes training on a premix (data_shards=2): joins jax.distributed, trains,
writes its losses.

Usage: python -m tests.premix.multihost_worker PROCESS_ID PORT MODEL_DIR PREMIX_DIR SUMMARY_JSON
"""

import json
import os
import sys


def main(process_id: int, port: int, model_dir: str, premix_dir: str,
         summary_path: str) -> None:
  os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
  os.environ["JAX_PLATFORMS"] = "cpu"
  import jax
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.distributed.initialize(coordinator_address=f"127.0.0.1:{port}", num_processes=2,
                             process_id=process_id)
  from tests.premix import test_training
  summary = test_training.run_training(model_dir, premix_dir, **test_training.TWO_HOSTS)
  with open(summary_path, "w") as f:
    json.dump({"loss_history": summary["loss_history"], "processes": jax.process_count()}, f)


if __name__ == "__main__":
  main(int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:6])
