"""`python -m flan_jax.train --gin_file=...`: the same as `flan-jax train`."""

import sys

from flan_jax.cli.main import entry

if __name__ == "__main__":
  sys.argv[1:1] = ["train"]
  sys.exit(entry())
