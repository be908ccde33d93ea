"""Registers the held-out suites' SeqIO tasks over prompts rendered in Python at read time.

The suites are small (BBH 6.5k, MMLU 14k examples) and their prompts follow fixed protocols
(exemplar files, a length rule), so each task's rows come from a plain Python function run when
the dataset is built. Registering reads no file: `flan-jax evaluate-predictions` works without
the suite's data, and a missing folder fails when a dataset is first built, naming its setting.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Callable, Iterable, Mapping, Sequence

import seqio
import tensorflow as tf

from flan_jax import errors
from flan_jax.data import registration
from flan_jax.data import t5_features

CHOICES = "choices"  # optional feature: the answer choices, each spelled as a target is.


class SuiteDataMissingError(errors.FlanJaxError):
  """A held-out suite's local files are not where its setting points."""


@dataclasses.dataclass(frozen=True)
class SuiteTaskInfo:
  """How a suite task is reported: its suite, its row label and its category (if any);
  `files(split)` lists the local files it reads (checked before a model is loaded)."""
  suite: str
  label: str
  category: str | None = None
  files: Callable[[str], list[str]] | None = None


_INFO: dict[str, SuiteTaskInfo] = {}
_DEFAULT_SPLIT: dict[str, str] = {}  # task -> the split its suite reports (first registered).


def suite_task_info(task_name: str) -> SuiteTaskInfo | None:
  return _INFO.get(task_name)


def default_split(task_names: Sequence[str]) -> str | None:
  """The split the suites report when every task named is a registered suite task and they
  agree on one (BBH, MMLU, CoT eval: `test`; held_in: `validation`); else None."""
  splits = {_DEFAULT_SPLIT.get(name) for name in task_names}
  return splits.pop() if len(splits) == 1 and None not in splits else None


def split_or_default(provider: seqio.Task | seqio.Mixture, requested: str | None,
                     fallback: str) -> str:
  """`requested`, else the split a held-out suite reports (default_split), else `fallback`."""
  if requested:
    return requested
  tasks = provider.tasks if isinstance(provider, seqio.Mixture) else [provider]
  return default_split([t.name for t in tasks]) or fallback


def output_features() -> dict[str, seqio.Feature]:
  """The suites' features: the real collections' (T5's vocabulary, or $FLAN_JAX_VOCABULARY)."""
  return t5_features.output_features()


def local_dir(env_key: str, flag: str, layout: str) -> str:
  """The folder $FLAN_JAX_{env_key}_DIR names; SuiteDataMissingError saying how to set it."""
  variable = f"FLAN_JAX_{env_key}_DIR"
  path = os.environ.get(variable)
  if not path:
    raise SuiteDataMissingError(
        f"{variable} is not set: point it (or `{flag}`) at a folder holding {layout}.")
  if not os.path.isdir(path):
    raise SuiteDataMissingError(
        f"{variable} (or `{flag}`) is {path!r}, which is not a folder; it should hold {layout}.")
  return path


def check_files(task_names: Sequence[str], split: str) -> None:
  """Fails before any model is loaded when a suite task's local files are missing."""
  for name in task_names:
    info = _INFO.get(name)
    if info is not None and info.files is not None:
      for path in info.files(split):
        if not os.path.isfile(path):
          raise SuiteDataMissingError(
              f"{name} needs {path}, which does not exist: the suite's folder (--bbh_dir, "
              "--mmlu_dir, --cot_eval_dir or $FLAN_JAX_*_DIR) must hold its files in their "
              "original layout (see README, Held-out evaluation).")


def require_file(path: str, variable: str, layout: str) -> str:
  """`path`, or SuiteDataMissingError naming the setting and the expected layout."""
  if not os.path.isfile(path):
    raise SuiteDataMissingError(
        f"{path} does not exist: {variable} should point at a folder holding {layout}.")
  return path


Rows = Callable[[str], Iterable[Mapping[str, object]]]


class _RowsDatasetFn:
  """A FunctionDataSource dataset_fn over `rows(split)`: dicts of inputs, targets, idx (+choices).

  `rows(split)` runs (and checks its files) when the dataset is built, so a missing file fails
  there with a clear message instead of deep inside tf.data iteration.
  """

  def __init__(self, rows: Rows, with_choices: bool):
    self._rows = rows
    self._with_choices = with_choices

  def __call__(self, split: str, shuffle_files: bool = False, seed: int | None = None):
    del shuffle_files, seed  # Eval data: always in file order.
    rows = list(self._rows(split))
    signature = {"inputs": tf.TensorSpec([], tf.string), "targets": tf.TensorSpec([], tf.string),
                 "idx": tf.TensorSpec([], tf.string)}
    if self._with_choices:
      signature[CHOICES] = tf.TensorSpec([None], tf.string)
    keys = tuple(signature)
    return tf.data.Dataset.from_generator(
        lambda: ({k: row[k] for k in keys} for row in rows), output_signature=signature)


def register_suite_task(name: str, rows: Rows, *, splits: Sequence[str],
                        postprocess_fn: Callable, info: SuiteTaskInfo,
                        with_choices: bool = False,
                        metric_fns: Sequence[Callable] | None = None,
                        num_input_examples: Mapping[str, int] | None = None) -> str:
  """Registers one eval task (skipped if already registered); returns its name.

  `splits[0]` is the split the suite reports, read by default by eval, infer, show and export.
  """
  from flan_jax.data import metrics  # pylint: disable=g-import-not-at-top
  _INFO[name] = info
  _DEFAULT_SPLIT[name] = splits[0]
  if name in seqio.TaskRegistry.names():
    return name
  source = seqio.FunctionDataSource(_RowsDatasetFn(rows, with_choices), splits=tuple(splits),
                                    num_input_examples=num_input_examples)
  seqio.TaskRegistry.add(
      name, source=source,
      preprocessors=[registration.tokenize_in_batches,
                     seqio.preprocessors.append_eos_after_trim],
      output_features=output_features(), postprocess_fn=postprocess_fn,
      metric_fns=list(metric_fns or (metrics.exact_match,)), shuffle_buffer_size=None)
  return name


def register_mixture(name: str, task_names: Sequence[str]) -> str:
  """An equal-rate mixture of suite tasks (skipped if already registered)."""
  if name not in seqio.MixtureRegistry.names():
    seqio.MixtureRegistry.add(name, [(t, 1.0) for t in task_names])
  return name
