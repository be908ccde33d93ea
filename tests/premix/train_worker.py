"""A training process on a premix that the kill test can signal.

Usage: python -m tests.premix.train_worker MODEL_DIR PREMIX_DIR SUMMARY_JSON
"""

import json
import os
import sys


def main(model_dir: str, premix_dir: str, summary_path: str) -> None:
  os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
  os.environ["JAX_PLATFORMS"] = "cpu"
  from tests.premix import test_training
  summary = test_training.run_training(model_dir, premix_dir)
  with open(summary_path, "w") as f:
    json.dump({"final_step": summary["final_step"]}, f)


if __name__ == "__main__":
  main(*sys.argv[1:4])
