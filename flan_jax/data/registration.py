"""Turns a TemplateSet + data source into one SeqIO task per prompt format.

Registration validates templates and builds seqio.Task objects only: no dataset is built
and no record is read until `get_dataset` is called.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import Callable, Iterable, Mapping, Sequence

import seqio
import tensorflow as tf

from flan_jax import errors
from flan_jax.data import few_shot
from flan_jax.data import formats as formats_lib
from flan_jax.data import rendering
from flan_jax.data import templates as templates_lib
from flan_jax.data import metrics


@dataclasses.dataclass(frozen=True)
class TaskInfo:
  """What `flan-jax tasks list` shows about a registered task."""
  name: str
  collection: str
  dataset: str
  prompt_format: str
  num_templates: int
  description: str = ""


_INFO: dict[str, TaskInfo] = {}


def task_info(name: str) -> TaskInfo | None:
  return _INFO.get(name)


def strip_text(text, example=None, is_target=False):
  """Postprocess: whitespace-trimmed text, so predictions compare to target strings."""
  del example, is_target
  if isinstance(text, bytes):
    text = text.decode("utf-8", errors="replace")
  return str(text).strip()


def extract_cot_answer(text, example=None, is_target=False):
  """Postprocess for CoT: the text after the last fixed answer phrase (all of it if absent)."""
  text = strip_text(text, example, is_target)
  phrase = formats_lib.COT_ANSWER_PHRASE
  return text.rsplit(phrase, 1)[-1].strip() if phrase in text else text


def check_fields(dataset: tf.data.Dataset, *, dataset_name: str, fields: Sequence[str]):
  """Reads nothing; fails early, naming the dataset, when declared fields are missing."""
  available = set(dataset.element_spec)
  missing = [f for f in fields if f not in available]
  if missing:
    raise templates_lib.TemplateError(
        f"Dataset {dataset_name!r} lacks declared field(s) {missing}; it provides "
        f"{sorted(available)}. Fix the TemplateSet fields or add a preprocessor that maps them.")
  return dataset


def tokenize_in_batches(dataset: tf.data.Dataset, output_features: Mapping[str, seqio.Feature],
                        batch_size: int = rendering.RENDER_BATCH) -> tf.data.Dataset:
  """Reads inputs/targets text; writes their token ids and keeps the text as *_pretokenized.

  Same output as seqio.preprocessors.tokenize, but one SentencePiece call per batch of
  examples instead of per example (about twice the throughput on CPU). Batches as large as
  the render's: a task's first example waits for one of them.
  """

  @tf.autograph.experimental.do_not_convert
  def fn(batch):
    out = dict(batch)
    for name, feature in output_features.items():
      out[f"{name}_pretokenized"] = batch[name]
      out[name] = tf.cast(feature.vocabulary.encode_tf(batch[name]), feature.dtype)
    return out

  return dataset.batch(batch_size).map(fn, num_parallel_calls=tf.data.AUTOTUNE).unbatch()


def _output_features_check(output_features: Mapping[str, seqio.Feature]) -> None:
  if set(output_features) != {"inputs", "targets"}:
    raise ValueError(f"Template tasks need 'inputs' and 'targets' features, got {sorted(output_features)}.")
  for name, feature in output_features.items():
    for attribute, what, fix in _VOCABULARY_FILES:
      path = getattr(feature.vocabulary, attribute, None)
      if path and "://" not in path and not os.path.isfile(path):
        raise errors.ConfigError(f"Feature {name!r}: the {what} {path!r} does not exist. {fix}")


# (vocabulary attribute naming its file, what the file is, how to fix a missing one).
_VOCABULARY_FILES = (
    ("_sentencepiece_model_file", "SentencePiece model",
     "Give the path of your model's spm.model, or use flan_jax.data.vocab.toy_vocabulary() "
     "to try things out with the tiny smoke model."),
    ("tokenizer_file", "tokenizer file",
     "Give the path of a tokenizer.json, or of a checkpoint directory holding one (gin "
     "VOCABULARY / $FLAN_JAX_VOCABULARY)."),
)


def register_template_tasks(
    collection: str,
    template_set: templates_lib.TemplateSet,
    source: seqio.DataSource,
    output_features: Mapping[str, seqio.Feature],
    *,
    prompt_formats: Iterable[str | formats_lib.PromptFormat] | None = None,
    seed: int = rendering.DEFAULT_RENDER_SEED,
    token_budget: int = 1920,
    pool_size: int = 1024,
    pool_scan_limit: int | None = 100_000,
    pre_render: Sequence[Callable] = (),
    metric_fns: Sequence[Callable] = (metrics.accuracy,),
    shuffle_buffer_size: int | None = seqio.SHUFFLE_BUFFER_SIZE,
    answer_not_in_options: str = "error",
    few_shot: str = "paper",
) -> list[str]:
  """Registers `{collection}.{dataset}:{format}` tasks; returns their names.

  Names already registered are skipped, so calling this twice is harmless. `pre_render`
  preprocessors (e.g. field renames for a TFDS source) run before rendering. Sources that
  shuffle fully themselves can use a small `shuffle_buffer_size` (faster first batch).
  `answer_not_in_options`: "error" (default) refuses a record whose answer is not one of its
  options, naming the task, record and options; "drop" skips and counts such records
  (`rendering.answers_not_in_options(task)`). A `PromptFormat` object in `prompt_formats`
  replaces the built-in format of that name for this set (e.g. NIv2's fs_noopt, whose
  templates hold the task's own example inline, so it renders without drawn exemplars).
  `few_shot`: how few-shot prompts are built, "paper" (2, 3 or 5 exemplars) or "flan"
  (FLAN's code: x-shot and template-mix five-shot; see `formats.FEW_SHOT_STYLES`).
  """
  template_set.validate()
  formats_lib.check_few_shot_style(few_shot)
  _output_features_check(output_features)
  supported = {f.name: f for f in formats_lib.formats_for(template_set)}
  wanted = list(prompt_formats) if prompt_formats is not None else list(supported)
  supported.update({f.name: f for f in wanted if isinstance(f, formats_lib.PromptFormat)})
  wanted = [getattr(f, "name", f) for f in wanted]
  unsupported = [f for f in wanted if f not in supported]
  if unsupported:
    raise templates_lib.TemplateError(
        f"Template set {template_set.name!r} does not support format(s) {unsupported}; "
        f"it supports {sorted(supported)}.")
  names = []
  for fmt_name in wanted:
    fmt = formats_lib.styled(supported[fmt_name], few_shot)
    name = formats_lib.task_name(collection, template_set.name, fmt_name)
    names.append(name)
    if name in seqio.TaskRegistry.names():
      continue
    spec = rendering.RenderSpec(
        task_name=name, template_set=template_set, fmt=fmt,
        templates=formats_lib.templates_for(template_set, fmt), seed=seed,
        token_budget=token_budget, pool_size=pool_size, pool_scan_limit=pool_scan_limit,
        answer_not_in_options=answer_not_in_options)
    seqio.TaskRegistry.add(
        name,
        source=source,
        preprocessors=_preprocessors(spec, source, list(pre_render)),
        output_features=output_features,
        postprocess_fn=extract_cot_answer if fmt.cot else strip_text,
        metric_fns=list(metric_fns),
        shuffle_buffer_size=shuffle_buffer_size,
    )
    _INFO[name] = TaskInfo(name, collection, template_set.name, fmt_name, len(spec.templates),
                           fmt.description)
  return names


def _preprocessors(spec: rendering.RenderSpec, source: seqio.DataSource,
                   pre_render: list[Callable]) -> list[Callable]:
  """user pre_render -> field check -> dialog cut -> render -> tokenize -> cache -> EOS."""
  ts = spec.template_set
  before = list(pre_render)
  before.append(functools.partial(check_fields, dataset_name=ts.name, fields=ts.record_fields()))
  if ts.turns_field:
    before.append(functools.partial(rendering.derive_dialog_fields, spec=spec))
  steps = list(before)
  if spec.fmt.few_shot:
    # The pool scan depends on the user's steps and, for dialogs, on the seeded cut.
    scan_key = (tuple(pre_render), spec.prefix() if ts.turns_field else None)
    steps.append(functools.partial(few_shot.render_few_shot, spec=spec, source=source,
                                   pre_render=_chain(before), scan_key=scan_key))
  else:
    steps.append(functools.partial(rendering.render_zero_shot, spec=spec))
  # Cache after tokenizing, before trimming/EOS: rendering draws templates and exemplars
  # from hashes of spec.seed and the record, not from seqio's seeds, so a cached example
  # is exactly what on-the-fly preprocessing yields.
  steps += [tokenize_in_batches, seqio.CacheDatasetPlaceholder(),
            seqio.preprocessors.append_eos_after_trim]
  return steps


def _chain(fns: Sequence[Callable]) -> Callable[[tf.data.Dataset], tf.data.Dataset]:
  def apply(ds):
    for fn in fns:
      ds = fn(ds)
    return ds
  return apply
