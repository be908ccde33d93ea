"""One premix of the 300 synthetic tasks, built once for the premix tests."""

import pytest

from flan_jax.premix import build
from tests.premix import synthetic

ROWS = 6000


@pytest.fixture(scope="session")
def premix_dir(tmp_path_factory):
  name = synthetic.register()
  out = str(tmp_path_factory.mktemp("premix") / "mix")
  build.build(build.PremixConfig(name, out, num_examples=ROWS, num_files=4), progress=False)
  return out
