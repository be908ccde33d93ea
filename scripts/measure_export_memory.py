"""Exports N rows of a mixture (default: 1,000,000 of toy_flan) to a temp file and prints
peak resident memory and rows/s.

  python scripts/measure_export_memory.py --num-examples 1000000
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _rss_mib() -> float:
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB.


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--name", default="toy_flan")
  parser.add_argument("--num-examples", type=int, default=1_000_000)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args()
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  from flan_jax.mixtures import export, recipe  # pylint: disable=g-import-not-at-top
  catalog.register_catalog()
  recipe.register()
  baseline = _rss_mib()
  with tempfile.TemporaryDirectory() as tmp:
    cfg = export.ExportConfig(args.name, os.path.join(tmp, "rows.jsonl.gz"),
                              num_examples=args.num_examples, seed=args.seed)
    start = time.perf_counter()
    rows = export.export(cfg, progress=False)
    seconds = time.perf_counter() - start
    size = os.path.getsize(cfg.out)
  print(f"name={args.name} rows={rows} seconds={seconds:.1f} rows_per_s={rows / seconds:.0f} "
        f"file_mib={size / 2**20:.1f} peak_rss_mib={_rss_mib():.0f} "
        f"rss_after_imports_mib={baseline:.0f}")


if __name__ == "__main__":
  main()
