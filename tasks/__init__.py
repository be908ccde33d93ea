"""The flan_jax task catalog (installed as `flan_jax_tasks`).

Importing this package registers nothing: call `flan_jax.catalog.lookup.register_catalog()`.
"""
