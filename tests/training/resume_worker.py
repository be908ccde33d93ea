"""A training process the kill/preemption tests can signal.

Usage: python -m tests.training.resume_worker MODEL_DIR TRAIN_STEPS SUMMARY_JSON
"""

import json
import os
import sys


def main(model_dir: str, train_steps: int, summary_path: str) -> None:
  os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
  os.environ["JAX_PLATFORMS"] = "cpu"
  from tests.training import test_resume
  summary = test_resume.run_training(model_dir, train_steps)
  with open(summary_path, "w") as f:
    json.dump({"final_step": summary["final_step"], "preempted": summary["preempted"]}, f)


if __name__ == "__main__":
  main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
