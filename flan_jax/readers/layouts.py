"""Where the local/hub collections' data comes from and how a user gets it.

No TensorFlow import: the catalog lists these steps (preflight) without building anything.
"""

from __future__ import annotations

from flan_jax.readers import local_data

P3_KEY = "P3"  # FLAN_JAX_P3_DIR
P3_HUB_REPO = "bigscience/P3"
NIV2_KEY = "NIV2"  # FLAN_JAX_NIV2_DIR
NIV2_REPO = "https://github.com/allenai/natural-instructions"
COT_KEY = "COT"  # FLAN_JAX_COT_DIR


def p3_how_to_get(subset: str) -> str:
  """The exact steps that make a P3 subset readable."""
  var = local_data.env_var(P3_KEY)
  return (f"`pip install -e '.[hf]'`, then `hf download {P3_HUB_REPO} --repo-type dataset "
          f"--include '{subset}/*' --local-dir DIR` and `export {var}=DIR` (with {var} "
          "unset, the subset is fetched from the hub into the Hugging Face cache on first use).")


NIV2_HOW_TO_GET = (f"`git clone --depth 1 {NIV2_REPO} DIR` and "
                   f"`export {local_data.env_var(NIV2_KEY)}=DIR` (the folder holding tasks/).")


def cot_file(dataset: str) -> str:
  """The CoT file name of `dataset` inside FLAN_JAX_COT_DIR."""
  return f"{dataset}_train.tsv"


COT_REPO = "https://github.com/google-research/FLAN"


def cot_how_to_get(dataset: str) -> str:
  return (f"put `{cot_file(dataset)}` (tab-separated question, answer, rationale, the form of "
          f"google-research/FLAN's flan/v2/cot_data/: `git clone --depth 1 {COT_REPO} FLAN`) "
          f"in a folder and `export {local_data.env_var(COT_KEY)}=DIR` (e.g. "
          "FLAN/flan/v2/cot_data).")
