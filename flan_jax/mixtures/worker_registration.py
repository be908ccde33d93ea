"""Imported by Beam workers (and only there): registers the catalog, the recipe mixtures and
the user task modules at import, with the render seed `flan-jax cache` passed through the
environment, so `seqio.TaskRegistry.get(name)` works inside a worker process."""

import os

from flan_jax.catalog import lookup as catalog

catalog.add_task_modules([m for m in os.environ.get(catalog.TASK_MODULES_ENV, "").split(",") if m])
_SEED = os.environ.get(catalog.RENDER_SEED_ENV)
catalog.register_catalog(int(_SEED) if _SEED else None)
catalog.register_names(catalog.recipe_mixture_names(), int(_SEED) if _SEED else None)
