"""`python -m flan_jax.train --gin_file=...`: the same as `flan-jax train`."""

import sys

from flan_jax.cli import train as _train_cli
from flan_jax.cli.main import run_user_facing

if __name__ == "__main__":
  sys.exit(run_user_facing(_train_cli.main, sys.argv[1:]))
