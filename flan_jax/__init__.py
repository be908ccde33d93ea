"""flan_jax: Flan-style instruction finetuning on JAX, from a laptop to a TPU pod."""

__version__ = "0.1.0"
