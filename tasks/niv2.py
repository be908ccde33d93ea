"""The NIv2 collection: each Super-Natural Instructions task file is its own task
(`niv2.{task file stem}:{zs_noopt|fs_noopt}`), so the per-task cap applies to each.

The instruction is the task's own Definition; few-shot exemplars are the task's own train
instances (each task reads only its own file). The 57 MMLU-derived tasks are not in the
table. One DatasetSpec per task id (1,551): the five ids that name two files in the
repository register both files' tasks under that id.

Sizes: the files' instance counts are not in the catalog, so each spec assumes
DEFAULT_TRAIN_EXAMPLES (the Flan 2022 per-task cap of NIv2, i.e. "at least the cap"); the
SeqIO source counts the real number from the file when a mixture asks for it.
"""

from __future__ import annotations

import dataclasses
import functools

from flan_jax.data import catalog_spec
from flan_jax.data import formats
from flan_jax.data import source_layouts
from flan_jax.data.templates import Template, TemplateSet
from flan_jax_tasks.tables import niv2_tasks

COLLECTION = "niv2"
FORMATS = ("zs_noopt", "fs_noopt")
DEFAULT_TRAIN_EXAMPLES = 5000

NIV2_TEMPLATES = TemplateSet(
    name="niv2", fields=("definition", "input", "answer"), question_field="input",
    templates=(
        Template("definition_then_input", "{definition}\n\n{input}"),
        Template("labeled", "Task: {definition}\n\nInput: {input}\nOutput:"),
        Template("instruction_input", "Instruction: {definition}\n{input}\nResponse:"),
        Template("follow", "Follow the task description below.\n{definition}\n\n{input}"),
        Template("input_last", "{definition}\nHere is the input.\n{input}"),
    ))


def task_id(task: str) -> str:
  """'task067' of 'task067_abductivenli_answer_generation'."""
  return task.split("_", 1)[0]


@functools.lru_cache(maxsize=1)
def _files_by_id() -> dict[str, tuple[str, ...]]:
  out: dict[str, list[str]] = {}
  for task, _, _ in niv2_tasks.TASKS:
    out.setdefault(task_id(task), []).append(task)
  return {k: tuple(v) for k, v in out.items()}


@functools.lru_cache(maxsize=1)
def _specs() -> tuple[catalog_spec.DatasetSpec, ...]:
  def requirement(files):
    return catalog_spec.DataRequirement(
        kind=catalog_spec.LOCAL_DIR, name=source_layouts.NIV2_KEY,
        files=tuple(f"tasks/{f}.json" for f in files), how_to_get=source_layouts.NIV2_HOW_TO_GET)

  return tuple(
      catalog_spec.DatasetSpec(
          collection=COLLECTION, name=tid,
          tasks=tuple(formats.task_name(COLLECTION, f, fmt) for f in files for fmt in FORMATS),
          data=requirement(files), num_train_examples=DEFAULT_TRAIN_EXAMPLES * len(files))
      for tid, files in _files_by_id().items())


def datasets() -> list[catalog_spec.DatasetSpec]:
  """One spec per NIv2 task id (reads nothing, imports no TensorFlow)."""
  return list(_specs())


def register_dataset(spec: catalog_spec.DatasetSpec, *, render_seed: int,
                     few_shot: str = "flan") -> list[str]:
  """Registers the task file(s) of one id (idempotent); files are read only by get_dataset."""
  from flan_jax.data import niv2_source  # pylint: disable=g-import-not-at-top
  from flan_jax.data import registration  # pylint: disable=g-import-not-at-top
  from flan_jax.data import t5_features  # pylint: disable=g-import-not-at-top
  if spec.name not in _files_by_id():
    raise KeyError(f"{spec.name!r} is not an NIv2 task id of the catalog "
                   "(tasks/tables/niv2_tasks.py).")
  names = []
  for task in _files_by_id()[spec.name]:
    names += registration.register_template_tasks(
        COLLECTION, dataclasses.replace(NIV2_TEMPLATES, name=task),
        niv2_source.niv2_source(task), t5_features.output_features(),
        prompt_formats=FORMATS, seed=render_seed, few_shot=few_shot)
  return names
