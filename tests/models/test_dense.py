"""layers.Dense: values against numpy, and the kernel gradient without a transposed copy."""

import re

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flan_jax.models import layers


@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 5), (2, 2, 3, 5)])
def test_project_rows_matches_numpy(shape):
  rng = np.random.RandomState(0)
  x = rng.randn(*shape).astype(np.float32)
  kernel = rng.randn(5, 4).astype(np.float32)
  expected = np.einsum("...i,io->...o", x.astype(np.float64), kernel.astype(np.float64))
  got = np.asarray(layers.project_rows(jnp.asarray(x), jnp.asarray(kernel)))
  assert got.shape == shape[:-1] + (4,)
  np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def _kernel_grad(x):
  dense = layers.Dense(24, ("embed", "mlp"))
  params = nn.unbox(dense.init(jax.random.PRNGKey(0), x)["params"])

  def grad(kernel, x):
    return jax.grad(lambda k: jnp.sum(jnp.sin(dense.apply({"params": {"kernel": k}}, x))))(kernel)
  return grad, params["kernel"]


def test_kernel_gradient_matches_the_hand_derivation():
  x = jnp.asarray(np.random.RandomState(1).randn(4, 16, 8).astype(np.float32))
  grad, kernel = _kernel_grad(x)
  rows = np.asarray(x, np.float64).reshape(-1, 8)
  # d/dK sum(sin(rows @ K)) = rows^T @ cos(rows @ K).
  expected = rows.T @ np.cos(rows @ np.asarray(kernel, np.float64))
  np.testing.assert_allclose(np.asarray(jax.jit(grad)(kernel, x)), expected, rtol=1e-4,
                             atol=1e-4)


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="XLA:CPU's layout choice")
def test_kernel_gradient_compiles_without_a_transposed_copy():
  """Contracting [batch, length] made XLA:CPU write the output gradient transposed first.

  With the rows flattened the weight gradient is one dot of the untransposed operands
  (docs/BENCHMARKS.md, "Transposed copies"); `jnp.dot(x, kernel)` on 3-D x fails this.
  """
  x = jnp.ones((4, 16, 8), jnp.float32)
  grad, kernel = _kernel_grad(x)
  entry = jax.jit(grad).lower(kernel, x).compile().as_text().split("ENTRY", 1)[1]
  names = re.findall(r"%([\w.\-]+) = ", entry)
  assert any(re.search(r" dot\(|__ynn_fusion", line) for line in entry.splitlines())
  assert not [n for n in names if n.startswith(("copy", "transpose"))], entry
