"""MMLU as the Flan papers scored it: `mmlu_{subject}_direct` and `mmlu_{subject}_cot`, 57 subjects.

Direct prompts are byte-identical to the Flan MMLU script's (hendrycks/test `evaluate_flan.py`):
a header line, 5 dev exemplars, the query ending "Answer:"; exemplars are dropped from the end
while the prompt (EOS included) is longer than PROMPT_TOKEN_BUDGET tokens of the task's
vocabulary. Two quirks of that script are kept on purpose, as its published figures saw them:
- the header reads `about  abstract algebra.` (two spaces: its subject formatting puts a space
  before every word);
- cells are read as `pandas.read_csv(header=None)` reads them, column by column: `None`, `NA`,
  `null`, an empty cell and pandas' other missing-value spellings print as `nan`; a column whose
  every cell is a number prints as pandas types it (all integers: `7` for `007`; otherwise
  floats: `3.0` for `3`, `nan` for a missing cell).
One difference, at an edge no real file reaches: where the query alone is over the budget, the
reference's loop goes on below zero exemplars; here the prompt keeps none and is left whole.
Scored by rank classification over the letters A-D (the published protocol) and by generation
(the first letter read). CoT: the same exemplars, the query asks to think step by step and the
letter is read after "the answer is". Files come from $FLAN_JAX_MMLU_DIR in MMLU's own layout
({dev,val,test}/{subject}_{split}.csv).
"""

from __future__ import annotations

import csv
import os
import re

from flan_jax.catalog import spec as catalog_spec

COLLECTION = "mmlu"
FORMATS = ("direct", "cot")
LETTERS = ("A", "B", "C", "D")
NUM_SHOTS = 5
PROMPT_TOKEN_BUDGET = 2048  # As the published Flan-T5 numbers: prompts of at most 2048 tokens.
COT_CUE = "Let's think step by step."
ENV_KEY = "MMLU"
FLAG = "--mmlu_dir"
LAYOUT = "{dev,val,test}/{subject}_{split}.csv (MMLU's data/ folder)"
HOW_TO_GET = ("wget https://people.eecs.berkeley.edu/~hendrycks/data.tar && tar xf data.tar && "
              "export FLAN_JAX_MMLU_DIR=$PWD/data  (or pass --mmlu_dir to flan-jax eval)")
# Our split names -> MMLU's file suffixes, the reported split (test) first. Exemplars always
# come from dev.
SPLIT_FILES = {"test": "test", "validation": "val"}

# Subject -> (subcategory, category), from MMLU's own categories.py (as listed in the project
# facts file flan_catalog/mmlu_subjects.tsv): STEM 18, humanities 13, social sciences 12,
# other 14. "other" stands for "other (business, health, misc.)".
SUBJECTS = {
    "abstract_algebra": ("math", "STEM"),
    "anatomy": ("health", "other"),
    "astronomy": ("physics", "STEM"),
    "business_ethics": ("business", "other"),
    "clinical_knowledge": ("health", "other"),
    "college_biology": ("biology", "STEM"),
    "college_chemistry": ("chemistry", "STEM"),
    "college_computer_science": ("computer science", "STEM"),
    "college_mathematics": ("math", "STEM"),
    "college_medicine": ("health", "other"),
    "college_physics": ("physics", "STEM"),
    "computer_security": ("computer science", "STEM"),
    "conceptual_physics": ("physics", "STEM"),
    "econometrics": ("economics", "social sciences"),
    "electrical_engineering": ("engineering", "STEM"),
    "elementary_mathematics": ("math", "STEM"),
    "formal_logic": ("philosophy", "humanities"),
    "global_facts": ("other", "other"),
    "high_school_biology": ("biology", "STEM"),
    "high_school_chemistry": ("chemistry", "STEM"),
    "high_school_computer_science": ("computer science", "STEM"),
    "high_school_european_history": ("history", "humanities"),
    "high_school_geography": ("geography", "social sciences"),
    "high_school_government_and_politics": ("politics", "social sciences"),
    "high_school_macroeconomics": ("economics", "social sciences"),
    "high_school_mathematics": ("math", "STEM"),
    "high_school_microeconomics": ("economics", "social sciences"),
    "high_school_physics": ("physics", "STEM"),
    "high_school_psychology": ("psychology", "social sciences"),
    "high_school_statistics": ("math", "STEM"),
    "high_school_us_history": ("history", "humanities"),
    "high_school_world_history": ("history", "humanities"),
    "human_aging": ("health", "other"),
    "human_sexuality": ("culture", "social sciences"),
    "international_law": ("law", "humanities"),
    "jurisprudence": ("law", "humanities"),
    "logical_fallacies": ("philosophy", "humanities"),
    "machine_learning": ("computer science", "STEM"),
    "management": ("business", "other"),
    "marketing": ("business", "other"),
    "medical_genetics": ("health", "other"),
    "miscellaneous": ("other", "other"),
    "moral_disputes": ("philosophy", "humanities"),
    "moral_scenarios": ("philosophy", "humanities"),
    "nutrition": ("health", "other"),
    "philosophy": ("philosophy", "humanities"),
    "prehistory": ("history", "humanities"),
    "professional_accounting": ("other", "other"),
    "professional_law": ("law", "humanities"),
    "professional_medicine": ("health", "other"),
    "professional_psychology": ("psychology", "social sciences"),
    "public_relations": ("politics", "social sciences"),
    "security_studies": ("politics", "social sciences"),
    "sociology": ("culture", "social sciences"),
    "us_foreign_policy": ("politics", "social sciences"),
    "virology": ("health", "other"),
    "world_religions": ("philosophy", "humanities"),
}


def task_name(subject: str, fmt: str) -> str:
  return f"mmlu_{subject}_{fmt}"


def datasets() -> list[catalog_spec.DatasetSpec]:
  """One spec per subject (57); cheap: no TensorFlow or SeqIO import."""
  return [catalog_spec.DatasetSpec(
      COLLECTION, s, tuple(task_name(s, f) for f in FORMATS),
      catalog_spec.DataRequirement(catalog_spec.LOCAL_DIR, ENV_KEY, how_to_get=HOW_TO_GET,
                                   files=(f"dev/{s}_dev.csv", f"test/{s}_test.csv")),
      has_options=True, held_out=True) for s in SUBJECTS]


def header(subject: str) -> str:
  """The reference header: a space before each word of the subject, after "about " (so two)."""
  spaced = "".join(f" {word}" for word in subject.split("_"))
  return f"The following are multiple choice questions (with answers) about {spaced}."


def format_question(row: list[str], answer: str | None) -> str:
  """Question, the four lettered choices, then "Answer: X" (exemplar) or "Answer:" (query)."""
  lines = [row[0]] + [f"{letter}. {choice}" for letter, choice in zip(LETTERS, row[1:5])]
  lines.append(f"Answer: {answer}" if answer else "Answer:")
  return "\n".join(lines)


def render_prompt(subject: str, exemplars: list[list[str]], query: list[str], fmt: str,
                  count_tokens, budget: int = PROMPT_TOKEN_BUDGET) -> str:
  """Header, up to NUM_SHOTS dev exemplars, the query; drops exemplars from the end while the
  prompt plus EOS exceeds `budget` tokens (count_tokens: str -> int, the task's vocabulary)."""
  question = format_question(query, None) + (f" {COT_CUE}" if fmt == "cot" else "")
  shots = [format_question(row, row[5].strip()) for row in exemplars[:NUM_SHOTS]]
  while True:
    prompt = "\n\n".join([header(subject)] + shots + [question])
    if not shots or count_tokens(prompt) + 1 <= budget:
      return prompt
    shots.pop()


# The cells pandas.read_csv reads as missing by default (its na_values); they print as "nan".
PANDAS_MISSING = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"})
_INTEGER = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|Inf|INF)")


def as_pandas_prints(column: list[str]) -> list[str]:
  """A CSV column's cells as `"{}".format(cell)` prints them after pandas.read_csv: missing
  cells `nan`; an all-integer column as int64; another all-numeric column as float64."""
  present = [cell for cell in column if cell not in PANDAS_MISSING]
  missing = len(present) < len(column)
  if present and not missing and all(_INTEGER.fullmatch(c) for c in present):
    return [str(int(c)) for c in column]
  if present and all(_INTEGER.fullmatch(c) or _FLOAT.fullmatch(c) for c in present):
    return ["nan" if c in PANDAS_MISSING else str(float(c)) for c in column]
  return ["nan" if c in PANDAS_MISSING else c for c in column]


def read_csv(path: str) -> list[list[str]]:
  """MMLU CSV rows (no header): question, A, B, C, D, answer letter; each column's cells as the
  reference script prints them (see as_pandas_prints)."""
  with open(path, encoding="utf-8", newline="") as f:
    rows = [r for r in csv.reader(f) if r]
  for number, row in enumerate(rows, 1):
    if len(row) != 6 or row[5].strip() not in LETTERS:
      raise ValueError(f"{path}:{number}: expected 6 columns (question, A, B, C, D, answer "
                       f"letter A-D), got {row!r}.")
  columns = [as_pandas_prints([row[i] for row in rows]) for i in range(5)]
  return [[column[n] for column in columns] + [row[5]] for n, row in enumerate(rows)]


def files(subject: str, split: str) -> list[str]:
  """The dev (exemplar) file and the split's file of a subject."""
  from flan_jax.evaluation import suite_tasks  # pylint: disable=g-import-not-at-top
  root = suite_tasks.local_dir(ENV_KEY, FLAG, LAYOUT)
  suffix = SPLIT_FILES[split]
  return [os.path.join(root, "dev", f"{subject}_dev.csv"),
          os.path.join(root, suffix, f"{subject}_{suffix}.csv")]


def read_rows(subject: str, fmt: str, split: str, budget: int = PROMPT_TOKEN_BUDGET,
              count_tokens=None):
  """The task's rows {inputs, targets, choices, idx}, read from $FLAN_JAX_MMLU_DIR now."""
  from flan_jax.evaluation import suite_tasks  # pylint: disable=g-import-not-at-top
  variable = f"FLAN_JAX_{ENV_KEY}_DIR"
  dev, rows = (read_csv(suite_tasks.require_file(path, variable, LAYOUT))
               for path in files(subject, split))
  if count_tokens is None:
    vocabulary = suite_tasks.output_features()["inputs"].vocabulary
    count_tokens = lambda text: len(vocabulary.encode(text))
  return [{"inputs": render_prompt(subject, dev, row, fmt, count_tokens, budget),
           "targets": row[5].strip(), "choices": list(LETTERS), "idx": f"{subject}:{i}"}
          for i, row in enumerate(rows)]


def register_dataset(spec: catalog_spec.DatasetSpec, *, render_seed: int = 0,
                     few_shot: str | None = None) -> list[str]:
  """Registers `mmlu_{subject}_direct` and `_cot` (idempotent); reads no file."""
  del render_seed, few_shot  # MMLU prompts are fixed: nothing is drawn.
  import functools  # pylint: disable=g-import-not-at-top
  from flan_jax.evaluation import answer_extraction, suite_tasks  # pylint: disable=g-import-not-at-top
  category = SUBJECTS[spec.name][1]
  return [suite_tasks.register_suite_task(
      task_name(spec.name, fmt), functools.partial(read_rows, spec.name, fmt),
      splits=tuple(SPLIT_FILES), postprocess_fn=answer_extraction.choice_letter,
      info=suite_tasks.SuiteTaskInfo(f"mmlu_{fmt}", spec.name, category,
                                     files=functools.partial(files, spec.name)),
      with_choices=True) for fmt in FORMATS]


def mixtures() -> dict[str, list[tuple[str, float]]]:
  """mmlu_direct and mmlu_cot: the 57 subjects at equal rate (scored as the subject average)."""
  return {f"mmlu_{fmt}": [(task_name(s, fmt), 1.0) for s in SUBJECTS] for fmt in FORMATS}
