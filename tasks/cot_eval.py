"""Chain-of-thought evaluation: GSM8K, StrategyQA, SVAMP, ASDiv, CommonsenseQA (`cot_eval.{d}:cot`).

Zero-shot CoT prompts ("Q: ...\\nA: Let's think step by step."); the answer is read after
"the answer is" and compared as the datasets are scored: the final number (GSM8K, SVAMP),
ASDiv's answer (a number, `9 (apples)` -> 9, or text as written: `Yes`, `Mrs. Hilt`,
`3:30 p.m.`; units in parentheses of a text answer are kept without them), yes/no (StrategyQA:
its prompt ends with the line `Answer yes or no.`, added here since the question alone does not
say the answer is a yes or a no), the choice letter (CommonsenseQA, which also lists its
choices for rank classification). Files are read, in each dataset's released layout, from
$FLAN_JAX_COT_EVAL_DIR when a dataset is built (never at registration):

    gsm8k/test.jsonl                   {"question", "answer": "... #### 72"}
    svamp/SVAMP.json                   [{"Body", "Question", "Answer": 8.0, ...}]
    asdiv/ASDiv.xml                    <Problem><Body/><Question/><Answer>9 (apples)</Answer>
    strategyqa/strategyqa_train.json   [{"question", "answer": true, ...}]  (labelled release)
    commonsense_qa/dev_rand_split.jsonl either layout, row by row:
        original release  {"question": {"stem", "choices": [{"label", "text"}]}, "answerKey"}
        Hugging Face      {"question": "...", "choices": {"label": [...], "text": [...]},
                           "answerKey"}
"""

from __future__ import annotations

import json
import os
import re

from flan_jax.catalog import spec as catalog_spec

COLLECTION = "cot_eval"
FORMAT = "cot"
SPLIT = "test"
COT_CUE = "Let's think step by step."
ENV_KEY = "COT_EVAL"
FLAG = "--cot_eval_dir"
LAYOUT = ("gsm8k/test.jsonl, svamp/SVAMP.json, asdiv/ASDiv.xml, "
          "strategyqa/strategyqa_train.json and commonsense_qa/dev_rand_split.jsonl")

# dataset -> (file under $FLAN_JAX_COT_EVAL_DIR, answer kind, where to get it).
DATASETS = {
    "gsm8k": ("gsm8k/test.jsonl", "number",
              "https://github.com/openai/grade-school-math (grade_school_math/data/test.jsonl)"),
    "svamp": ("svamp/SVAMP.json", "number", "https://github.com/arkilpatel/SVAMP (SVAMP.json)"),
    "asdiv": ("asdiv/ASDiv.xml", "number_or_text",
              "https://github.com/chaochun/nlu-asdiv-dataset (dataset/ASDiv.xml)"),
    "strategyqa": ("strategyqa/strategyqa_train.json", "yes_no",
                   "https://allenai.org/data/strategyqa (strategyqa_dataset.zip)"),
    "commonsense_qa": ("commonsense_qa/dev_rand_split.jsonl", "letter",
                       "https://www.tau-nlp.org/commonsenseqa (dev_rand_split.jsonl)"),
}


def task_name(dataset: str) -> str:
  return f"{COLLECTION}.{dataset}:{FORMAT}"


def datasets() -> list[catalog_spec.DatasetSpec]:
  """One spec per CoT eval dataset (5); cheap: no TensorFlow or SeqIO import."""
  specs = []
  for name, (path, _, source) in DATASETS.items():
    how = (f"download {source} to $FLAN_JAX_COT_EVAL_DIR/{path} "
           f"(or pass {FLAG} to flan-jax eval)")
    data = catalog_spec.DataRequirement(catalog_spec.LOCAL_DIR, ENV_KEY, manual=True,
                                        how_to_get=how, files=(path,))
    specs.append(catalog_spec.DatasetSpec(COLLECTION, name, (task_name(name),), data,
                                          has_options=name == "commonsense_qa", held_out=True))
  return specs


def prompt(question: str) -> str:
  return f"Q: {question.strip()}\nA: {COT_CUE}"


def _number(value) -> str:
  """8.0 -> '8', 2.50 -> '2.5', '1,200' -> '1200'."""
  text = str(value).replace(",", "").strip()
  if re.fullmatch(r"-?\d+\.\d*", text):
    text = text.rstrip("0").rstrip(".")
  return text


def gsm8k_rows(text: str) -> list[dict]:
  rows = []
  for line in text.splitlines():
    if line.strip():
      record = json.loads(line)
      rows.append({"inputs": prompt(record["question"]),
                   "targets": _number(record["answer"].split("####")[-1])})
  return rows


def svamp_rows(text: str) -> list[dict]:
  return [{"inputs": prompt(f"{r['Body'].strip()} {r['Question'].strip()}"),
           "targets": _number(r["Answer"])} for r in json.loads(text)]


_ASDIV_NUMBER = re.compile(r"\s*(-?[\d,]*\.?\d+)\s*(\([^()]*\))?\s*")


def asdiv_target(answer: str, problem_id: str) -> str:
  """`9 (apples)` -> '9'; a text answer as written, parentheses dropped ('3:30 p.m.',
  `2 (hours) 30 (minutes)` -> '2 hours 30 minutes'); ValueError if empty."""
  number = _ASDIV_NUMBER.fullmatch(answer)
  if number:
    return _number(number.group(1))
  text = " ".join(re.sub(r"\(([^()]*)\)", r"\1", answer).split())
  if not text:
    raise ValueError(f"ASDiv problem {problem_id} has an empty <Answer>.")
  return text


def asdiv_rows(text: str) -> list[dict]:
  import xml.etree.ElementTree as ET  # pylint: disable=g-import-not-at-top
  rows = []
  for problem in ET.fromstring(text).iter("Problem"):
    question = f"{problem.findtext('Body', '').strip()} {problem.findtext('Question', '').strip()}"
    rows.append({"inputs": prompt(question),
                 "targets": asdiv_target(problem.findtext("Answer") or "", problem.get("ID"))})
  return rows


def strategyqa_rows(text: str) -> list[dict]:
  return [{"inputs": prompt(r["question"] + "\nAnswer yes or no."),
           "targets": "yes" if r["answer"] else "no"} for r in json.loads(text)]


def commonsense_qa_question(record: dict) -> tuple[str, list[tuple[str, str]]]:
  """(question, [(label, text)]) of a row in either layout (see the module docstring)."""
  question = record.get("question")
  if isinstance(question, dict):  # Original release: choices nested under the question.
    return question["stem"], [(c["label"], c["text"]) for c in question["choices"]]
  choices = record.get("choices")
  if isinstance(question, str) and isinstance(choices, dict):  # Hugging Face layout.
    return question, list(zip(choices["label"], choices["text"]))
  raise ValueError("a CommonsenseQA row has neither layout: expected 'question' {stem, "
                   "choices} or 'question' text with 'choices' {label, text}; got keys "
                   f"{sorted(record)}.")


def commonsense_qa_rows(text: str) -> list[dict]:
  rows = []
  for line in text.splitlines():
    if not line.strip():
      continue
    record = json.loads(line)
    stem, choices = commonsense_qa_question(record)
    listed = "\n".join(f"({label}) {choice}" for label, choice in choices)
    rows.append({"inputs": prompt(f"{stem}\nAnswer Choices:\n{listed}"),
                 "targets": record["answerKey"], "choices": [label for label, _ in choices]})
  return rows


ROW_READERS = {"gsm8k": gsm8k_rows, "svamp": svamp_rows, "asdiv": asdiv_rows,
               "strategyqa": strategyqa_rows, "commonsense_qa": commonsense_qa_rows}


def files(dataset: str, split: str = SPLIT) -> list[str]:
  """The one evaluation file a dataset reads."""
  from flan_jax.evaluation import suite_tasks  # pylint: disable=g-import-not-at-top
  del split  # One evaluation file per dataset.
  return [os.path.join(suite_tasks.local_dir(ENV_KEY, FLAG, LAYOUT), DATASETS[dataset][0])]


def read_rows(dataset: str, split: str = SPLIT) -> list[dict]:
  """The task's rows, read from $FLAN_JAX_COT_EVAL_DIR now."""
  from flan_jax.evaluation import suite_tasks  # pylint: disable=g-import-not-at-top
  path = suite_tasks.require_file(files(dataset, split)[0], f"FLAN_JAX_{ENV_KEY}_DIR", LAYOUT)
  with open(path, encoding="utf-8") as f:
    rows = ROW_READERS[dataset](f.read())
  return [dict(row, idx=f"{dataset}:{i}") for i, row in enumerate(rows)]


def register_dataset(spec: catalog_spec.DatasetSpec, *, render_seed: int = 0,
                     few_shot: str | None = None) -> list[str]:
  """Registers `cot_eval.{dataset}:cot` (idempotent); reads no file."""
  del render_seed, few_shot  # One fixed prompt per dataset: nothing is drawn.
  import functools  # pylint: disable=g-import-not-at-top
  from flan_jax.evaluation import answer_extraction, suite_tasks  # pylint: disable=g-import-not-at-top
  kind = DATASETS[spec.name][1]
  extract = {"number": answer_extraction.last_number, "yes_no": answer_extraction.yes_no,
             "letter": answer_extraction.choice_letter,
             "number_or_text": answer_extraction.answer_text}[kind]
  metrics = ([answer_extraction.number_or_text_accuracy] if kind == "number_or_text" else None)
  return [suite_tasks.register_suite_task(
      task_name(spec.name), functools.partial(read_rows, spec.name), splits=(SPLIT,),
      postprocess_fn=extract, metric_fns=metrics,
      info=suite_tasks.SuiteTaskInfo(COLLECTION, spec.name,
                                     files=functools.partial(files, spec.name)),
      with_choices=spec.has_options)]


def mixtures() -> dict[str, list[tuple[str, float]]]:
  return {"cot_eval": [(task_name(name), 1.0) for name in DATASETS]}
