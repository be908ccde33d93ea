"""host_memory: freed host memory is reused on CPU hosts (counted in page faults by the kernel)."""

import os
import subprocess
import sys
import textwrap

import pytest

from flan_jax.runtime import host_memory

# Allocates, fills and frees 256 MiB twice from a worker thread (as XLA:CPU allocates a step's
# temporaries), and prints the minor page faults of the second round, as counted by the kernel.
_PROBE = textwrap.dedent("""
    import ctypes, resource, threading
    from flan_jax.runtime import host_memory
    applied = host_memory.keep_freed_memory()
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = (ctypes.c_size_t,)
    libc.memset.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t)
    libc.free.argtypes = (ctypes.c_void_p,)
    size, faults = 256 << 20, []
    def one_round():
      before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
      block = libc.malloc(size)
      libc.memset(block, 1, size)
      libc.free(block)
      faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    for _ in range(2):
      worker = threading.Thread(target=one_round)
      worker.start()
      worker.join()
    print(applied, faults[1])
""")


def _second_round_faults(choice: str) -> tuple[str, int]:
  env = dict(os.environ, FLAN_JAX_HOST_MALLOC=choice, JAX_PLATFORMS="cpu")
  out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True,
                       text=True, check=True).stdout.split()
  return out[0], int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc settings")
def test_freed_block_is_reused_instead_of_faulted_in_again():
  pages = (256 << 20) // os.sysconf("SC_PAGE_SIZE")
  applied, faults = _second_round_faults("auto")
  assert applied == "True"
  assert faults < pages // 100  # The freed block came back: no fresh pages to fault in.
  applied, faults = _second_round_faults("system")
  assert applied == "False"
  assert faults > pages // 2  # glibc's default: a fresh mmap, every page faulted in again.


def test_accelerator_hosts_are_left_alone(monkeypatch):
  monkeypatch.setenv("JAX_PLATFORMS", "cpu")
  assert not host_memory.accelerator_host()
  monkeypatch.setenv("JAX_PLATFORMS", "tpu,cpu")
  assert host_memory.accelerator_host()
  monkeypatch.setenv(host_memory.ENV_VAR, "auto")
  assert not host_memory.keep_freed_memory()  # Nothing set on a TPU host.


def test_unknown_setting_names_the_variable(monkeypatch):
  monkeypatch.setenv(host_memory.ENV_VAR, "jemalloc")
  with pytest.raises(ValueError, match="FLAN_JAX_HOST_MALLOC='jemalloc'"):
    host_memory.keep_freed_memory()
