"""`python -m flan_jax.train --gin_file=...`: the same as `flan-jax train`."""

import sys

from flan_jax.cli.main import main

if __name__ == "__main__":
  sys.exit(main(["train"] + sys.argv[1:]))
