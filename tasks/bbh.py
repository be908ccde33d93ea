"""BIG-Bench Hard as the Flan papers scored it: `bbh_{subtask}_direct` and `bbh_{subtask}_cot`.

3-shot prompts from the suite's own `cot-prompts/{subtask}.txt` (direct prompts keep the same
three exemplars with the answer only), exact match on the answer (CoT: read after "the answer
is", trailing period dropped), suite score = macro average over the 27 files. Files are read
from $FLAN_JAX_BBH_DIR (layout of github.com/suzgunmirac/BIG-Bench-Hard) when a dataset is
built, never at import or registration.
"""

from __future__ import annotations

import json
import os
import re

from flan_jax.catalog import spec as catalog_spec

COLLECTION = "bbh"
SUITE_SPLIT = "test"
FORMATS = ("direct", "cot")
COT_CUE = "Let's think step by step."
ENV_KEY = "BBH"
FLAG = "--bbh_dir"
LAYOUT = "bbh/{subtask}.json and cot-prompts/{subtask}.txt"
HOW_TO_GET = ("git clone https://github.com/suzgunmirac/BIG-Bench-Hard && "
              "export FLAN_JAX_BBH_DIR=$PWD/BIG-Bench-Hard  (or pass --bbh_dir to flan-jax eval)")

# The 27 BBH files and their example counts (source: the BBH repository's bbh/ folder, as
# listed in the project facts file flan_catalog/bbh_subtasks.tsv; 6,511 examples in all).
SUBTASKS = {
    "boolean_expressions": 250,
    "causal_judgement": 187,
    "date_understanding": 250,
    "disambiguation_qa": 250,
    "dyck_languages": 250,
    "formal_fallacies": 250,
    "geometric_shapes": 250,
    "hyperbaton": 250,
    "logical_deduction_five_objects": 250,
    "logical_deduction_seven_objects": 250,
    "logical_deduction_three_objects": 250,
    "movie_recommendation": 250,
    "multistep_arithmetic_two": 250,
    "navigate": 250,
    "object_counting": 250,
    "penguins_in_a_table": 146,
    "reasoning_about_colored_objects": 250,
    "ruin_names": 250,
    "salient_translation_error_detection": 250,
    "snarks": 178,
    "sports_understanding": 250,
    "temporal_sequences": 250,
    "tracking_shuffled_objects_five_objects": 250,
    "tracking_shuffled_objects_seven_objects": 250,
    "tracking_shuffled_objects_three_objects": 250,
    "web_of_lies": 250,
    "word_sorting": 250,
}

_EXEMPLAR_BREAK = re.compile(r"\n[ \t]*\n(?=Q: )")


def task_name(subtask: str, fmt: str) -> str:
  return f"bbh_{subtask}_{fmt}"


def datasets() -> list[catalog_spec.DatasetSpec]:
  """One spec per BBH file (27); cheap: no TensorFlow or SeqIO import."""
  return [catalog_spec.DatasetSpec(
      COLLECTION, s, tuple(task_name(s, f) for f in FORMATS),
      catalog_spec.DataRequirement(catalog_spec.LOCAL_DIR, ENV_KEY, how_to_get=HOW_TO_GET,
                                   files=(f"bbh/{s}.json", f"cot-prompts/{s}.txt")),
      num_train_examples=None, held_out=True) for s in SUBTASKS]


def parse_cot_prompts(text: str) -> tuple[str, list[tuple[str, str]]]:
  """A cot-prompts file -> (task description, [(question, worked answer)] in file order).

  Layout: a canary line, a line `-----`, the description (one paragraph or more: snarks has
  two), then exemplars `Q: ...\\nA: Let's think step by step. ... So the answer is X.`, each
  starting after a blank line. Everything before the first such `Q: ` is the description.
  """
  lines = text.replace("\r\n", "\n").split("\n")
  if "-----" in [l.strip() for l in lines]:
    lines = lines[[l.strip() for l in lines].index("-----") + 1:]
  body = "\n".join(lines).strip()
  blocks = _EXEMPLAR_BREAK.split(body)
  if blocks[0].startswith("Q: "):
    raise ValueError("BBH prompt file has no task description before its first 'Q: ' exemplar.")
  description, exemplars = blocks[0].strip(), []
  for block in blocks[1:]:
    block = block.strip()
    if not block.startswith("Q: ") or "\nA:" not in block:
      raise ValueError(f"BBH prompt exemplar does not read 'Q: ...\\nA: ...': {block[:80]!r}")
    question, _, answer = block[3:].partition("\nA:")
    exemplars.append((question.strip(), answer.strip()))
  return description, exemplars


def render_prompt(description: str, exemplars: list[tuple[str, str]], question: str,
                  fmt: str) -> str:
  """The 3-shot prompt: description, exemplars (CoT: worked; direct: answer only), the query.

  As the BBH authors' own prompts (their code-davinci-002-outputs `input` fields): the direct
  prompt opens with the description's first paragraph only (snarks' second paragraph, a
  definition of sarcasm, is in its CoT prompt alone).
  """
  from flan_jax.evaluation import answer_extraction  # pylint: disable=g-import-not-at-top
  if fmt != "cot":
    description = description.split("\n\n")[0]
  shots = []
  for q, worked in exemplars:
    answer = worked if fmt == "cot" else answer_extraction.after_answer_phrase(worked)
    shots.append(f"Q: {q}\nA: {answer}")
  query = f"Q: {question}\nA:" + (f" {COT_CUE}" if fmt == "cot" else "")
  return "\n\n".join([description] + shots + [query])


def files(subtask: str, split: str = SUITE_SPLIT) -> list[str]:
  """The data and prompt files of a subtask (SuiteDataMissingError if the folder is unset)."""
  from flan_jax.evaluation import suite_tasks  # pylint: disable=g-import-not-at-top
  del split  # BBH has one split of examples.
  root = suite_tasks.local_dir(ENV_KEY, FLAG, LAYOUT)
  return [os.path.join(root, "bbh", f"{subtask}.json"),
          os.path.join(root, "cot-prompts", f"{subtask}.txt")]


def read_rows(subtask: str, fmt: str, split: str = SUITE_SPLIT):
  """The task's rows {inputs, targets, idx}, read from $FLAN_JAX_BBH_DIR now."""
  from flan_jax.evaluation import suite_tasks  # pylint: disable=g-import-not-at-top
  variable = f"FLAN_JAX_{ENV_KEY}_DIR"
  data_file, prompt_file = (suite_tasks.require_file(path, variable, LAYOUT)
                            for path in files(subtask, split))
  with open(prompt_file, encoding="utf-8") as f:
    description, exemplars = parse_cot_prompts(f.read())
  with open(data_file, encoding="utf-8") as f:
    examples = json.load(f)["examples"]
  return [{"inputs": render_prompt(description, exemplars, ex["input"], fmt),
           "targets": str(ex["target"]).strip(), "idx": f"{subtask}:{i}"}
          for i, ex in enumerate(examples)]


def register_dataset(spec: catalog_spec.DatasetSpec, *, render_seed: int = 0,
                     few_shot: str | None = None) -> list[str]:
  """Registers `bbh_{subtask}_direct` and `_cot` (idempotent); reads no file."""
  del render_seed, few_shot  # The BBH prompts are fixed: nothing is drawn.
  import functools  # pylint: disable=g-import-not-at-top
  from flan_jax.evaluation import answer_extraction, suite_tasks  # pylint: disable=g-import-not-at-top
  names = []
  for fmt in FORMATS:
    names.append(suite_tasks.register_suite_task(
        task_name(spec.name, fmt), functools.partial(read_rows, spec.name, fmt),
        splits=(SUITE_SPLIT,),
        postprocess_fn=(answer_extraction.cot_answer if fmt == "cot"
                        else answer_extraction.direct_answer),
        info=suite_tasks.SuiteTaskInfo(f"bbh_{fmt}", spec.name,
                                       files=functools.partial(files, spec.name)),
        num_input_examples={SUITE_SPLIT: SUBTASKS[spec.name]}))
  return names


def mixtures() -> dict[str, list[tuple[str, float]]]:
  """bbh_direct and bbh_cot: the 27 files at equal rate (the score is their macro average)."""
  return {f"bbh_{fmt}": [(task_name(s, fmt), 1.0) for s in SUBTASKS] for fmt in FORMATS}
