"""The task catalog: registers the modules in `flan_jax_tasks` and looks names up.

Registration only builds seqio.Task / seqio.Mixture objects; no data is read or generated.
"""

from __future__ import annotations

import importlib

import seqio

from flan_jax import errors

# Catalog modules; each exposes `register() -> list[str]` (idempotent).
CATALOG_MODULES = ("flan_jax_tasks.toy", "flan_jax.mixtures.recipe",
                   # Held-out suites (until the lazy catalog registers collections by name).
                   "flan_jax_tasks.bbh", "flan_jax_tasks.mmlu", "flan_jax_tasks.held_in",
                   "flan_jax_tasks.cot_eval")

_HINT = "Run `flan-jax tasks list` to see every task and mixture."


def register_catalog() -> list[str]:
  """Registers every catalog task and mixture (safe to call again); returns their names."""
  names = []
  for module_name in CATALOG_MODULES:
    names += importlib.import_module(module_name).register()
  return names


def list_names() -> list[str]:
  """All registered task and mixture names, sorted."""
  register_catalog()
  return sorted(set(seqio.TaskRegistry.names()) | set(seqio.MixtureRegistry.names()))


def get_mixture_or_task(name: str) -> seqio.Task | seqio.Mixture:
  """The registered task or mixture, or UnknownNameError listing close matches."""
  register_catalog()
  if name in seqio.MixtureRegistry.names():
    return seqio.MixtureRegistry.get(name)
  if name in seqio.TaskRegistry.names():
    return seqio.TaskRegistry.get(name)
  raise errors.unknown_name("task or mixture", name, list_names(), hint=_HINT)
