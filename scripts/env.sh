# Sourced by scripts/smoke.sh and scripts/test.sh: creates (or reuses) the local virtual
# environment .venv and installs flan_jax into it, editable, with the given extras.
#   source scripts/env.sh            # runtime dependencies only
#   source scripts/env.sh test       # plus the test extras
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EXTRAS="${1:-}"
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c \
        'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 12) else 1)' \
        2>/dev/null; then
      PYTHON="$candidate"; break
    fi
  done
fi
if [ -z "$PYTHON" ]; then
  echo "flan_jax needs Python 3.11 or 3.12 (set PYTHON=/path/to/python)." >&2; exit 1
fi
VENV="${FLAN_JAX_VENV:-$ROOT/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating virtual environment $VENV with $PYTHON ..."
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
fi
# Reinstall only when setup.py or the extras change.
STAMP="$VENV/.flan_jax-$(cat "$ROOT/setup.py" | sha256sum | cut -c1-16)-${EXTRAS:-base}"
if [ ! -f "$STAMP" ]; then
  SPEC="$ROOT"
  [ -n "$EXTRAS" ] && SPEC="$ROOT[$EXTRAS]"
  echo "Installing flan_jax${EXTRAS:+[$EXTRAS]} into $VENV (first time takes a few minutes) ..."
  "$VENV/bin/python" -m pip install -q -e "$SPEC"
  touch "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
