"""Imported by Beam workers (and only there): registers the catalog and the recipe mixtures
at import, so `seqio.TaskRegistry.get(name)` works inside a worker process."""

from flan_jax.data import catalog
from flan_jax.mixtures import recipe

catalog.register_catalog()
recipe.register()
