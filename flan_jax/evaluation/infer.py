"""Loading a trained MODEL_DIR for prediction, and writing JSONL predictions."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Iterator, Mapping

import flax.linen as nn
import jax
import numpy as np
import seqio

from flan_jax.catalog import lookup as catalog
from flan_jax.data import few_shot
from flan_jax.data import t5_features
from flan_jax.evaluation.predict import DecodeOptions, Predictor, eos_id_of
from flan_jax.models import families
from flan_jax.runtime import checkpoints, model_dir as model_dir_lib, param_layout, partitioning


@dataclasses.dataclass
class LoadedModel:
  """A trained model ready to predict on the current mesh."""
  model: nn.Module
  params: Any
  param_shardings: Any
  mesh: Any
  rules: partitioning.LogicalRules
  task_feature_lengths: Mapping[str, int]
  step: int


def use_run_vocabulary(model_dir: str) -> None:
  """Tasks looked up from now on tokenize with the vocabulary the run trained with (its
  TrainConfig.vocabulary, or MODEL_DIR's copy of its tokenizer.json), unless
  $FLAN_JAX_VOCABULARY already says otherwise."""
  if not os.environ.get(t5_features.VOCABULARY_ENV) and model_dir_lib.read_run_record(model_dir):
    t5_features.use_vocabulary(model_dir_lib.saved_vocabulary(model_dir))


def use_run_task_modules(model_dir: str) -> None:
  """Tasks looked up from now on include those of the modules the run trained with (its
  TrainConfig.mixture_or_task_module), so `--task_module` need not be repeated."""
  record = model_dir_lib.read_run_record(model_dir) or {}
  catalog.add_task_modules(record.get("train_config", {}).get("mixture_or_task_module"))


def load_model_dir(model_dir: str, partition: partitioning.PartitionConfig,
                   step: int | None = None) -> LoadedModel:
  """Restores the params of MODEL_DIR's latest (or given) checkpoint onto a mesh."""
  run = model_dir_lib.require_run_record(model_dir)
  family_name, fields = model_dir_lib.model_config_of(run)
  family = families.family_by_config_name(family_name)
  config = family.config_cls(**fields)
  model = family.build(config)
  lengths = run["train_config"]["task_feature_lengths"]
  mesh = partitioning.create_mesh(partition)
  rules = partition.rules()
  store = checkpoints.CheckpointStore(model_dir, period=0)
  with jax.set_mesh(mesh), nn.logical_axis_rules(rules):
    abstract, shardings, _ = param_layout.param_layout(model, lengths, mesh, rules)
    params, step = store.restore_params(abstract, step)
  return LoadedModel(model, params, shardings, mesh, rules, lengths, int(step))


def iterate_examples(name: str, split: str, lengths: Mapping[str, int],
                     num_examples: int | None) -> Iterator[tuple[str, dict]]:
  """(task name, example) pairs of a task or of each task of a mixture, in order."""
  provider = catalog.get_mixture_or_task(name)
  tasks = provider.tasks if isinstance(provider, seqio.Mixture) else [provider]
  scans = few_shot.SharedScans()  # A dataset's few-shot formats scan its train split once.
  for task in tasks:
    if split not in task.splits:
      continue
    with few_shot.shared_pool_scans(scans):  # Only while the task's pipeline is built.
      ds = task.get_dataset(dict(lengths), split=split, shuffle=False, num_epochs=1)
    if num_examples:
      ds = ds.take(num_examples)
    for example in ds.as_numpy_iterator():
      yield task.name, example


def prompts_cut(name: str, split: str, input_length: int,
                num_examples: int | None = None) -> dict[str, tuple[int, int, int]]:
  """{task: (prompts longer than input_length, prompts read, longest)} for the tasks of a task
  or mixture whose prompts (EOS included) do not fit: eval and infer cut those from the end."""
  provider = catalog.get_mixture_or_task(name)
  tasks = provider.tasks if isinstance(provider, seqio.Mixture) else [provider]
  scans = few_shot.SharedScans()
  out = {}
  for task in tasks:
    if split not in task.splits:
      continue
    with few_shot.shared_pool_scans(scans):
      ds = task.get_dataset(None, split=split, shuffle=False, num_epochs=1)
    if num_examples:
      ds = ds.take(num_examples)
    lengths = [len(example["inputs"]) for example in ds.as_numpy_iterator()]
    over = sum(length > input_length for length in lengths)
    if over:
      out[task.name] = (over, len(lengths), max(lengths))
  return out


def warn_prompts_cut(name: str, split: str, input_length: int,
                     num_examples: int | None = None) -> None:
  """Prints one warning line per task whose prompts are longer than the run's input length."""
  import sys  # pylint: disable=g-import-not-at-top
  for task, (over, total, longest) in prompts_cut(name, split, input_length, num_examples).items():
    print(f"flan-jax: warning: {over} of {total} prompts of {task} are longer than the run's "
          f"input length ({longest} > {input_length} tokens) and are cut from the end, losing "
          "their question: pass --inputs_length to read them whole.", file=sys.stderr)


def write_predictions(loaded: LoadedModel, name: str, split: str, out_path: str,
                      num_examples: int | None = None, batch_size: int = 64,
                      overwrite: bool = False, options: DecodeOptions = DecodeOptions()) -> int:
  """Decodes examples (greedy unless `options` say otherwise) and writes JSONL rows
  {task, inputs, targets, prediction}.

  The file appears only when complete (see flan_jax/output_files.py); an existing one is
  refused unless `overwrite`, and kept as it was if decoding fails.
  """
  from flan_jax import output_files  # pylint: disable=g-import-not-at-top
  lengths = loaded.task_feature_lengths
  predictor = Predictor(loaded.model, loaded.mesh, loaded.rules, loaded.param_shardings,
                        batch_size, max_decode_length=lengths["targets"],
                        eos_id=eos_id_of(name), options=options)
  rows, count = [], 0
  with output_files.atomic_output(out_path, "w", overwrite, encoding="utf-8") as out, \
      jax.set_mesh(loaded.mesh), \
      nn.logical_axis_rules(loaded.rules):
    for task_name, example in iterate_examples(name, split, lengths, num_examples):
      rows.append((task_name, example))
      if len(rows) == predictor.batch_size:
        count += _flush(rows, predictor, loaded, out)
        rows = []
    count += _flush(rows, predictor, loaded, out)
  return count


def _flush(rows, predictor: Predictor, loaded: LoadedModel, out) -> int:
  if not rows:
    return 0
  length = loaded.task_feature_lengths["inputs"]
  inputs = np.zeros((len(rows), length), np.int32)
  for i, (_, example) in enumerate(rows):
    tokens = example["inputs"][:length]
    inputs[i, :len(tokens)] = tokens
  predictions = predictor.predict_tokens(loaded.params, inputs)
  for (task_name, example), tokens in zip(rows, predictions):
    vocab = catalog.get_mixture_or_task(task_name).output_features["targets"].vocabulary
    row = {"task": task_name,
           "inputs": _text(example, "inputs", vocab),
           "targets": _text(example, "targets", vocab),
           "prediction": vocab.decode([int(t) for t in tokens])}
    out.write(json.dumps(row, ensure_ascii=False) + "\n")
  return len(rows)


def _text(example: dict, key: str, vocab: seqio.Vocabulary) -> str:
  raw = example.get(f"{key}_pretokenized")
  if raw is None:
    return vocab.decode([int(t) for t in example[key]])
  return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
