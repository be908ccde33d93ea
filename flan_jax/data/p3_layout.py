"""Where P3 subsets come from and how a user gets them (no TensorFlow import: the catalog
lists these steps without building anything)."""

from __future__ import annotations

from flan_jax.data import local_data

P3_KEY = "P3"  # FLAN_JAX_P3_DIR
HUB_REPO = "bigscience/P3"


def how_to_get(subset: str) -> str:
  """The exact steps that make `subset` readable."""
  var = local_data.env_var(P3_KEY)
  return (f"`pip install -e '.[hf]'`, then `hf download {HUB_REPO} --repo-type dataset "
          f"--include 'data/{subset}/*' --local-dir DIR` and `export {var}=DIR` (with {var} "
          "unset, the subset is fetched from the hub into the Hugging Face cache on first use).")
