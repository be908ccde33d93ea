"""Held-in evaluation: the validation sets of datasets Flan trains on (BoolQ, ARC-Easy,
ARC-Challenge, AI2 middle-school science, ANLI R1-R3, RTE), one fixed zero-shot prompt each.

Tasks `held_in.{dataset}:zs_opt` read the same TFDS datasets as the flan2021 collection, with
field mappings of their own here (plain Python on decoded records, so they are easy to check).
Scored by exact match of the generated answer and, where the choices are listed, by rank
classification. Records are read when a dataset is built, never at registration.
"""

from __future__ import annotations

from flan_jax.catalog import spec as catalog_spec

COLLECTION = "held_in"
FORMAT = "zs_opt"
SPLIT = "validation"
NLI_3 = ("yes", "it is not possible to tell", "no")  # ANLI labels 0, 1, 2.
NLI_2 = ("yes", "no")                                # RTE labels 0 (entailment), 1.

# dataset -> (TFDS name:version, validation size). Versions as the flan2021 collection reads
# them (project facts file flan_catalog/flan2021.tsv); sizes are the TFDS validation splits.
# The mixture's rates are equal whatever the sizes: the suite score is a macro average.
DATASETS = {
    "bool_q": ("bool_q:1.0.0", 3270),
    "arc_easy": ("ai2_arc/ARC-Easy:1.0.0", 570),
    "arc_challenge": ("ai2_arc/ARC-Challenge:1.0.0", 299),
    "ai2_science_middle": ("unified_qa/ai2_science_middle:1.0.0", None),  # Counted on read.
    "anli_r1": ("anli/r1:0.1.0", 1000),
    "anli_r2": ("anli/r2:0.1.0", 1000),
    "anli_r3": ("anli/r3:0.1.0", 1200),
    "rte": ("super_glue/rte:1.0.2", 277),
}


def task_name(dataset: str) -> str:
  return f"{COLLECTION}.{dataset}:{FORMAT}"


def datasets() -> list[catalog_spec.DatasetSpec]:
  """One spec per held-in dataset (8); cheap: no TensorFlow or SeqIO import."""
  specs = []
  for name, (tfds_name, _) in DATASETS.items():
    data = catalog_spec.DataRequirement(catalog_spec.TFDS, tfds_name)  # preflight: `tfds build`
    specs.append(catalog_spec.DatasetSpec(COLLECTION, name, (task_name(name),), data,
                                          has_options=name != "ai2_science_middle",
                                          held_out=True))
  return specs


def _text(value) -> str:
  return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _options(choices) -> str:
  return "OPTIONS:\n" + "\n".join(f"- {c}" for c in choices)


def bool_q_row(record) -> dict:
  choices = ["no", "yes"]
  return {"inputs": f"{_text(record['passage'])}\n\nQuestion: {_text(record['question'])}?\n"
                    f"Answer yes or no.\n{_options(choices)}",
          "targets": "yes" if bool(record["answer"]) else "no", "choices": choices}


def arc_row(record) -> dict:
  labels = [_text(l) for l in record["choices"]["label"]]
  texts = [_text(t) for t in record["choices"]["text"]]
  key = _text(record["answerKey"])
  return {"inputs": f"Question: {_text(record['question'])}\n{_options(texts)}\nAnswer:",
          "targets": texts[labels.index(key)] if key in labels else key, "choices": texts}


def ai2_science_row(record) -> dict:
  return {"inputs": f"{_text(record['input'])}\nAnswer:", "targets": _text(record["output"])}


def anli_row(record) -> dict:
  return {"inputs": f"Premise: {_text(record['context'])}\nHypothesis: "
                    f"{_text(record['hypothesis'])}\nDoes the premise entail the hypothesis?\n"
                    f"{_options(NLI_3)}",
          "targets": NLI_3[int(record["label"])], "choices": list(NLI_3)}


def rte_row(record) -> dict:
  return {"inputs": f"Premise: {_text(record['premise'])}\nHypothesis: "
                    f"{_text(record['hypothesis'])}\nDoes the premise entail the hypothesis?\n"
                    f"{_options(NLI_2)}",
          "targets": NLI_2[int(record["label"])], "choices": list(NLI_2)}


ROW_BUILDERS = {"bool_q": bool_q_row, "arc_easy": arc_row, "arc_challenge": arc_row,
                "ai2_science_middle": ai2_science_row, "anli_r1": anli_row, "anli_r2": anli_row,
                "anli_r3": anli_row, "rte": rte_row}


def read_rows(dataset: str, split: str, check_prepared: bool = True):
  """The task's rows, read from the prepared TFDS dataset (TFDS_DATA_DIR or the default)."""
  import os  # pylint: disable=g-import-not-at-top
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  from flan_jax.readers import tfds_check  # pylint: disable=g-import-not-at-top
  tfds_name = DATASETS[dataset][0]
  data_dir = os.environ.get("TFDS_DATA_DIR")
  if check_prepared:
    tfds_check.require_prepared(tfds_name, data_dir)
  records = tfds.as_numpy(tfds.load(tfds_name, split=split, data_dir=data_dir,
                                    shuffle_files=False))
  build = ROW_BUILDERS[dataset]
  return [dict(build(r), idx=f"{dataset}:{i}") for i, r in enumerate(records)]


def register_dataset(spec: catalog_spec.DatasetSpec, *, render_seed: int = 0,
                     few_shot: str | None = None,
                     check_prepared: bool = True) -> list[str]:
  """Registers `held_in.{dataset}:zs_opt` (idempotent); reads no record."""
  del render_seed, few_shot  # One fixed prompt per dataset: nothing is drawn.
  import functools  # pylint: disable=g-import-not-at-top
  from flan_jax.evaluation import answer_extraction, suite_tasks  # pylint: disable=g-import-not-at-top
  return [suite_tasks.register_suite_task(
      task_name(spec.name),
      functools.partial(read_rows, spec.name, check_prepared=check_prepared),
      splits=(SPLIT,), postprocess_fn=answer_extraction.direct_answer,
      info=suite_tasks.SuiteTaskInfo(COLLECTION, spec.name),
      with_choices=spec.has_options,
      num_input_examples={SPLIT: DATASETS[spec.name][1]} if DATASETS[spec.name][1] else None)]


def mixtures() -> dict[str, list[tuple[str, float]]]:
  return {"held_in": [(task_name(name), 1.0) for name in DATASETS]}
