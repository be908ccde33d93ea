"""The NIv2 collection: each Super-Natural Instructions task file is its own task
(`niv2.{task}:{zs_noopt|fs_noopt}`), so the per-task cap applies to each.

zs_noopt: the task's own Definition, then the instance. fs_noopt follows FLAN's NIv2
few-shot form: the Definition once, then one of the task's own Positive Examples with its
output and explanation, then the instance (the example is drawn per instance from the
task's positive examples). The 57 MMLU-derived tasks are not in the table. One DatasetSpec
per task id (1,551): the five ids that name two files register both files' tasks under it.
Files are `tasks/{file stem}.json`, the stem from the table (41 have hyphens).

Sizes: with FLAN_JAX_NIV2_DIR pointing at the repository copy, each spec counts the train
records of its task files (each file parsed once, its count cached on disk); otherwise, or
when a file is missing, it assumes DEFAULT_TRAIN_EXAMPLES per file (the Flan 2022 per-task
cap of NIv2, "at least the cap") and says so (`num_train_examples_estimated`).
"""

from __future__ import annotations

import dataclasses
import functools

import os

from flan_jax.catalog import spec as catalog_spec
from flan_jax.data import formats
from flan_jax.readers import layouts as source_layouts
from flan_jax.readers import niv2_files
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

# fs_noopt: the definition once, one worked positive example with its explanation, the query.
NIV2_INLINE_EXAMPLE_TEMPLATES = TemplateSet(
    name="niv2_inline_example",
    fields=("definition", "input", "answer", "ex_input", "ex_output", "ex_explanation"),
    question_field="input",
    templates=(
        Template("example_then_new", "{definition}\n\nExample: {ex_input}\nAnswer: {ex_output}\n"
                 "Because: {ex_explanation}\n\nNow this one: {input}\nAnswer:"),
        Template("worked_example", "Task: {definition}\nA worked example.\nInput: {ex_input}\n"
                 "Output: {ex_output}\nExplanation: {ex_explanation}\n\nInput: {input}\n"
                 "Output:"),
        Template("learn_from_example", "Read the task and the solved example, then solve the "
                 "new case.\n{definition}\n\n{ex_input}\nSolved: {ex_output}\n"
                 "Reason: {ex_explanation}\n\nNew case: {input}\nSolved:"),
        Template("instruction_example", "Instruction: {definition}\nFor instance, \"{ex_input}\" "
                 "gives \"{ex_output}\". {ex_explanation}\n\nYour turn: {input}\nResponse:"),
        Template("definition_demo", "{definition}\nDemonstration:\n{ex_input}\n-> {ex_output}\n"
                 "({ex_explanation})\nTry it:\n{input}\n->"),
    ))
INLINE_FEW_SHOT = formats.PromptFormat(
    "fs_noopt", "few-shot: the definition once, one of the task's positive examples with its "
    "explanation, then the query (FLAN's NIv2 form)")


def task_id(task: str) -> str:
  """'task067' of 'task067_abductivenli_answer_generation'."""
  return task.split("_", 1)[0]


@functools.lru_cache(maxsize=1)
def _files_by_id() -> dict[str, tuple[str, ...]]:
  out: dict[str, list[str]] = {}
  for task, _, _ in niv2_tasks.TASKS:
    out.setdefault(task_id(task), []).append(task)
  return {k: tuple(v) for k, v in out.items()}


def _requirement(files: tuple[str, ...]) -> catalog_spec.DataRequirement:
  return catalog_spec.DataRequirement(
      kind=catalog_spec.LOCAL_DIR, name=source_layouts.NIV2_KEY,
      files=tuple(f"tasks/{niv2_tasks.file_stem(f)}.json" for f in files),
      how_to_get=source_layouts.NIV2_HOW_TO_GET)


def real_train_counts(root: str | None = None) -> dict[str, int]:
  """{task: train records} of the task files present under `root` (default:
  $FLAN_JAX_NIV2_DIR); empty when it is not set. What rates use in place of the estimate."""
  root = root if root is not None else os.environ.get(
      catalog_spec.local_dir_variable(source_layouts.NIV2_KEY), "")
  if not root or not os.path.isdir(os.path.join(root, "tasks")):
    return {}
  stems = ((task, niv2_tasks.file_stem(task)) for task, _, _ in niv2_tasks.TASKS)
  return niv2_files.train_counts(root, stems)


@functools.lru_cache(maxsize=4)
def _specs(root: str) -> tuple[catalog_spec.DatasetSpec, ...]:
  counts = real_train_counts(root)
  specs = []
  for tid, files in _files_by_id().items():
    known = all(f in counts for f in files)
    specs.append(catalog_spec.DatasetSpec(
        collection=COLLECTION, name=tid,
        tasks=tuple(formats.task_name(COLLECTION, f, fmt) for f in files for fmt in FORMATS),
        data=_requirement(files),
        num_train_examples=(sum(counts[f] for f in files) if known
                            else DEFAULT_TRAIN_EXAMPLES * len(files)),
        num_train_examples_estimated=not known))
  return tuple(specs)


def datasets() -> list[catalog_spec.DatasetSpec]:
  """One spec per NIv2 task id (imports no TensorFlow; with FLAN_JAX_NIV2_DIR set, counts
  the train records of the task files found there)."""
  return list(_specs(os.environ.get(catalog_spec.local_dir_variable(source_layouts.NIV2_KEY), "")))


def register_dataset(spec: catalog_spec.DatasetSpec, *, render_seed: int,
                     few_shot: str = "flan") -> list[str]:
  """Registers the task file(s) of one id (idempotent); files are read only by get_dataset."""
  from flan_jax.readers import niv2 as niv2_source  # pylint: disable=g-import-not-at-top
  from flan_jax.data import registration  # pylint: disable=g-import-not-at-top
  from flan_jax.data import t5_features  # pylint: disable=g-import-not-at-top
  if spec.name not in _files_by_id():
    raise KeyError(f"{spec.name!r} is not an NIv2 task id of the catalog "
                   "(tasks/tables/niv2_tasks.py).")
  names = []
  for task in _files_by_id()[spec.name]:
    source = niv2_source.niv2_source(task, niv2_tasks.file_stem(task))
    names += registration.register_template_tasks(
        COLLECTION, dataclasses.replace(NIV2_TEMPLATES, name=task), source,
        t5_features.output_features(), prompt_formats=("zs_noopt",), seed=render_seed,
        few_shot=few_shot)
    names += registration.register_template_tasks(
        COLLECTION, dataclasses.replace(NIV2_INLINE_EXAMPLE_TEMPLATES, name=task), source,
        t5_features.output_features(), prompt_formats=(INLINE_FEW_SHOT,), seed=render_seed,
        few_shot=few_shot)
  return names
