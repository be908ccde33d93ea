"""Draws a mixture's composition (matplotlib is optional and imported only here)."""

from __future__ import annotations

from flan_jax import errors
from flan_jax.mixtures import rates

_MAX_BARS = 60


def plot_composition(st: rates.MixtureStats, path: str) -> None:
  """Writes a PNG: submixture shares (if nested) and the largest task shares."""
  try:
    import matplotlib  # pylint: disable=g-import-not-at-top
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise errors.ConfigError(
        "--plot needs matplotlib: `pip install matplotlib` (or `pip install -e .[plot]`).") from None
  tasks = sorted(st.shares.items(), key=lambda kv: -kv[1])[:_MAX_BARS]
  panels = 2 if st.submixtures else 1
  fig, axes = plt.subplots(1, panels, figsize=(6 * panels + 4, max(4, 0.22 * len(tasks))),
                           squeeze=False)
  ax = axes[0][-1]
  ax.barh([t for t, _ in tasks][::-1], [100 * s for _, s in tasks][::-1])
  ax.set_xlabel("expected share of examples (%)")
  ax.set_title(f"{st.name}: tasks ({len(tasks)} of {len(st.shares)} shown)")
  ax.tick_params(axis="y", labelsize=7)
  if st.submixtures:
    sub = axes[0][0]
    sub.pie(list(st.submixtures.values()), labels=list(st.submixtures), autopct="%.1f%%")
    sub.set_title("submixtures")
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)
