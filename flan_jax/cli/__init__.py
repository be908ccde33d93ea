"""The `flan-jax` command line."""
