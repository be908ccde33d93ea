"""Test helper for researchers: the rendered text of a catalog task's first examples.

Moved here from `flan_jax.data.testing` (the data package sits below the catalog).
"""

from __future__ import annotations

from flan_jax.catalog import lookup as catalog


def render_task(task_name: str, split: str = "validation", num_examples: int = 3,
                seed: int | None = None) -> list[dict[str, str]]:
  """Text features of a registered task's first examples (any format, few-shot included)."""
  task = catalog.get_mixture_or_task(task_name, render_seed=seed)
  lengths = {"inputs": 1 << 20, "targets": 1 << 20}
  ds = task.get_dataset(lengths, split=split, shuffle=False, use_cached=False)
  rows = list(ds.take(num_examples).as_numpy_iterator())
  keys = ("inputs_pretokenized", "targets_pretokenized", "template", "prompt_format")
  return [{k: r[k].decode("utf-8") for k in keys if k in r} for r in rows]

