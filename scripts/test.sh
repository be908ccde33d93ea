#!/usr/bin/env bash
# Runs the whole test suite (8 emulated CPU devices; see tests/conftest.py).
#   scripts/test.sh                 # everything
#   scripts/test.sh tests/training  # a part; any pytest arguments work
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/env.sh" test
cd "$ROOT"
exec python -m pytest "${@:-tests}"
