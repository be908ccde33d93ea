"""Shared helpers of the collection tests: a dataset reader, registry cleanup, export rows."""

import pytest


def rendered(task_name: str, split: str = "train", limit: int = 100) -> list[dict[str, str]]:
  """The task's rendered examples in source order: inputs/targets text and template."""
  import seqio  # pylint: disable=g-import-not-at-top
  ds = seqio.get_mixture_or_task(task_name).get_dataset(
      sequence_length=None, split=split, shuffle=False)
  out = []
  for ex in ds.take(limit).as_numpy_iterator():
    out.append({"inputs": ex["inputs_pretokenized"].decode(),
                "targets": ex["targets_pretokenized"].decode(),
                "template": ex["template"].decode()})
  return out


@pytest.fixture(autouse=True)
def forget_registered_tasks():
  """Each test registers what it needs; nothing it registers outlives it."""
  import seqio  # pylint: disable=g-import-not-at-top
  before = set(seqio.TaskRegistry.names())
  yield
  for name in set(seqio.TaskRegistry.names()) - before:
    seqio.TaskRegistry.remove(name)


def exported(name: str, split: str = "train") -> list[dict]:
  """The rows `flan-jax export` writes for one epoch of a task (same code path)."""
  import seqio  # pylint: disable=g-import-not-at-top
  from flan_jax.mixtures import export  # pylint: disable=g-import-not-at-top
  provider = seqio.get_mixture_or_task(name)
  return list(export.iter_rows(provider, export.ExportConfig(name=name, out="", split=split)))
