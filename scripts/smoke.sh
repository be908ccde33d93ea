#!/usr/bin/env bash
# The CPU smoke finetune: trains a tiny T5 on the built-in toy_flan mixture over 8
# emulated CPU devices (mesh data=4 x model=2), evaluates it and writes predictions.
#   scripts/smoke.sh                # MODEL_DIR defaults to outputs/smoke_cpu
#   MODEL_DIR=/tmp/x scripts/smoke.sh
# Running it again resumes from the latest checkpoint in MODEL_DIR.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/env.sh"
cd "$ROOT"
MODEL_DIR="${MODEL_DIR:-$ROOT/outputs/smoke_cpu}"
flan-jax train --cpu_devices=8 --gin_file=runs/smoke_cpu.gin \
  --gin.MODEL_DIR="'$MODEL_DIR'" "$@"
flan-jax infer --cpu_devices=8 --num_partitions=2 --model_dir="$MODEL_DIR" \
  --task=toy_zero_shot --num_examples=2 --out="$MODEL_DIR/predictions.jsonl" \
  --overwrite  # The smoke run's own file, made anew from the latest checkpoint.
echo "First predictions ($MODEL_DIR/predictions.jsonl):"
head -n 3 "$MODEL_DIR/predictions.jsonl"
echo
echo "TensorBoard logs: tensorboard --logdir $MODEL_DIR"
