"""Random T5 parameters and tree comparison shared by the interop tests."""

import jax
import jax.numpy as jnp
import numpy as np

from flan_jax.interop import param_tree
from flan_jax.models import t5


def init_params(config: t5.T5Config, seed: int = 0) -> dict:
  """Float32 numpy params of `Transformer(config)`, unboxed (as checkpoints hold them)."""
  one = jnp.ones((1, 3), jnp.int32)
  init = jax.jit(lambda r: t5.Transformer(config).init(r, one, one, one, enable_dropout=False))
  return jax.tree.map(np.asarray, param_tree.unbox(init(jax.random.PRNGKey(seed))["params"]))


def assert_same(a, b) -> None:
  assert jax.tree.structure(a) == jax.tree.structure(b)
  jax.tree.map(np.testing.assert_array_equal, a, b)
