"""Every command-line test starts and ends with an empty gin config (commands bind gin)."""

import gin
import pytest


@pytest.fixture(autouse=True)
def _clean_gin():
  gin.clear_config()
  yield
  gin.clear_config()
