"""Renders records into (inputs, targets) strings inside tf.data, with no Python round trip.

Each template is laid out for its format once, in plain Python (`layout`: where the options,
their ending and the CoT cue go), then split into literals and slots; `tf.strings.join` fills
them per batch, and every random choice (template, list style, CoT cue) is a stateless draw
keyed by (render seed, task name, example key), see `seeding`.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Mapping

import tensorflow as tf

from flan_jax import errors
from flan_jax.data import formats as formats_lib
from flan_jax.data import layout
from flan_jax.data import options as options_lib
from flan_jax.data import seeding
from flan_jax.data import templates as templates_lib

# A task's render seed is fixed when it is registered (catalog.get_mixture_or_task(name,
# render_seed=...) re-registers with another one); there is no process-wide override.
DEFAULT_RENDER_SEED = 0


# What to do with a record whose answer is not among its listed options (options formats).
ANSWER_NOT_IN_OPTIONS = ("error", "drop")


@dataclasses.dataclass(frozen=True)
class RenderSpec:
  """Everything a task's render step needs; fixed at registration."""
  task_name: str
  template_set: templates_lib.TemplateSet
  fmt: formats_lib.PromptFormat
  templates: tuple[templates_lib.Template, ...]
  seed: int = DEFAULT_RENDER_SEED
  token_budget: int = 1920
  pool_size: int = 1024
  # Few-shot pools are drawn from at most this many train records (in source order): one
  # pass over an 11M-dialog split would delay every few-shot dataset by minutes. None: all.
  pool_scan_limit: int | None = 100_000
  answer_not_in_options: str = "error"  # "error": refuse, naming the record; "drop": count

  def __post_init__(self):
    if self.answer_not_in_options not in ANSWER_NOT_IN_OPTIONS:
      raise ValueError(f"{self.task_name}: answer_not_in_options={self.answer_not_in_options!r}; "
                       f"use one of {ANSWER_NOT_IN_OPTIONS}.")

  def prefix(self) -> str:
    """Hash prefix of every draw: the task's render seed and its name."""
    return f"{self.seed}|{self.task_name}"

  def template_names(self) -> tf.Tensor:
    return tf.constant([f"{self.template_set.name}/{t.name}" for t in self.templates])

  @functools.cached_property
  def compiled(self) -> tuple[layout.CompiledTemplate, ...]:
    """The templates laid out for this format (pure Python, once per spec)."""
    return tuple(layout.compile_template(t, options=self.fmt.options, cot=self.fmt.cot)
                 for t in self.templates)


  @functools.cached_property
  def clean_style_table(self) -> tuple[int, ...]:
    """Flat [1 + leads, templates, styles] table: the marker style a prompt uses for each
    drawn style, given its few-shot answer lead (0: none, i: ANSWER_LEADS[i-1]) and its
    template, so that no marker reads like the prompt's answer cue (options.clean_styles).
    Template-mix prompts avoid the cues of every template they may show."""
    cues = [_own_cue(t.input) for t in self.templates]
    everyone = cues if self.fmt.template_mix else None
    return tuple(style for lead in ("",) + layout.ANSWER_LEADS for i in range(len(cues))
                 for style in options_lib.clean_styles([lead] + (everyone or [cues[i]])))


def _own_cue(pattern: str) -> str:
  start = layout.answer_cue_start(pattern)
  return "" if start is None else pattern[start:].strip()


_COUNTERS: dict[tuple[str, str], tf.Variable] = {}


def counter(task_name: str, reason: str) -> tf.Variable:
  """The int64 variable counting `reason` events of a task in this process (made on first use)."""
  if (task_name, reason) not in _COUNTERS:
    with tf.init_scope():
      _COUNTERS[(task_name, reason)] = tf.Variable(0, dtype=tf.int64, trainable=False)
  return _COUNTERS[(task_name, reason)]


def counted(task_name: str, reason: str) -> int:
  """How many `reason` events of `task_name` were counted in this process so far."""
  var = _COUNTERS.get((task_name, reason))
  return int(var.numpy()) if var is not None else 0


def answers_not_in_options(task_name: str) -> int:
  """Records of `task_name` dropped because their answer is not among their options."""
  return counted(task_name, "answer_not_in_options")


@dataclasses.dataclass(frozen=True)
class PromptDraw:
  """The per-prompt random choices shared by a query and its exemplars."""
  options: options_lib.OptionsDraw
  cot_cue: tf.Tensor


def draw_template(spec: RenderSpec, prefix: str, key: tf.Tensor) -> tf.Tensor:
  """The template index of each key (scalar or [B])."""
  return seeding.hash_index(prefix, key, "template", len(spec.templates))


def draw_prompt(spec: RenderSpec, prefix: str, key: tf.Tensor, template: tf.Tensor,
                lead: tf.Tensor | None = None) -> PromptDraw:
  """Draws list style and CoT cue per prompt (scalar or [B]), keyed by example and template;
  `lead`: the index of the few-shot answer lead in layout.ANSWER_LEADS, if any."""
  key_t = tf.strings.join([key, "/", tf.strings.as_string(template)])
  if spec.fmt.options and spec.fmt.random_options:
    styles = len(options_lib.MARKER_STYLES)
    drawn = seeding.hash_index(prefix, key_t, "marker", styles)
    row = template if lead is None else (lead + 1) * len(spec.templates) + template
    opts = options_lib.OptionsDraw(
        style=tf.gather(tf.constant(spec.clean_style_table, tf.int64), row * styles + drawn),
        header=seeding.hash_index(prefix, key_t, "header", len(options_lib.HEADERS)),
        ending=seeding.hash_index(prefix, key_t, "ending", len(options_lib.ENDINGS)))
  else:
    opts = options_lib.fixed_draw()
  cue = seeding.hash_index(prefix, key_t, "cot_cue", len(formats_lib.COT_CUES))
  return PromptDraw(options=opts, cot_cue=cue)


def as_text(t: tf.Tensor) -> tf.Tensor:
  return t if t.dtype == tf.string else tf.strings.as_string(t)


def _fill(pattern: str, fields: Mapping[str, tf.Tensor], batch: tf.Tensor) -> tf.Tensor:
  parts = [tf.fill([batch], "")]
  for literal, name in templates_lib.split_pattern(pattern):
    if literal:
      parts.append(literal)
    if name is not None:
      parts.append(fields[name])
  return tf.strings.join(parts)


@dataclasses.dataclass(frozen=True)
class Rendered:
  """[B] rendered inputs and targets, whether each answer was among its options, and (when
  asked for) the inputs without the template's instruction."""
  inputs: tf.Tensor
  targets: tf.Tensor
  answer_found: tf.Tensor
  bodies: tf.Tensor | None = None


def render_rows(spec: RenderSpec, fields: Mapping[str, tf.Tensor], choices: tf.RaggedTensor | None,
                template_rows: tf.Tensor, draw: PromptDraw, *, bodies: bool = False) -> Rendered:
  """Renders a batch of records ([B] fields, [B, None] choices), row b with template_rows[b].

  bodies=True also renders each input without its instruction (few-shot may state it once),
  from the same option lines and answers.
  """
  ts, fmt = spec.template_set, spec.fmt
  batch = tf.shape(template_rows)[0]
  in_fields, tgt_fields = dict(fields), dict(fields)
  found = tf.fill([batch], True)
  if fmt.options:
    rows = options_lib.ChoiceRows.of(choices)
    block, markers = options_lib.format_options(rows, draw.options)
    in_fields[templates_lib.OPTIONS_SLOT] = block
    in_fields[layout.ENDING_SLOT] = tf.broadcast_to(options_lib.ending_text(draw.options), [batch])
    tgt_fields[ts.answer_field], found = options_lib.answer_targets(
        rows, markers, fields[ts.answer_field], draw.options)
  if fmt.cot:
    cue = tf.gather(tf.constant(formats_lib.COT_CUES), draw.cot_cue)
    in_fields[layout.COT_SLOT] = tf.broadcast_to(cue, [batch])
  inputs, targets, body_inputs = [], [], []
  for compiled in spec.compiled:
    inputs.append(_fill(compiled.input, in_fields, batch))
    targets.append(_fill(compiled.target, tgt_fields, batch))
    if bodies:
      body_inputs.append(_fill(compiled.body, in_fields, batch))
  pick = tf.stack([tf.cast(template_rows, tf.int32), tf.range(batch)], axis=1)
  inputs = tf.gather_nd(tf.stack(inputs), pick)
  targets = tf.gather_nd(tf.stack(targets), pick)
  if fmt.cot:
    targets = tf.strings.join(
        [fields[ts.rationale_field], f" {formats_lib.COT_ANSWER_PHRASE} ", targets])
  return Rendered(inputs, targets, found,
                  tf.gather_nd(tf.stack(body_inputs), pick) if bodies else None)


def check_answers(spec: RenderSpec, found: tf.Tensor, key: tf.Tensor,
                  answers: tf.Tensor, choices: tf.RaggedTensor | None) -> list[tf.Tensor]:
  """In 'error' mode, a check that raises AnswerNotInOptionsError for the first bad record
  (naming its file:line, task, answer and options); in 'drop' mode, counts the bad rows.
  Returns the ops to depend on."""
  if choices is None:
    return []
  bad = tf.logical_not(found)
  if spec.answer_not_in_options == "drop":
    return [counter(spec.task_name, "answer_not_in_options").assign_add(
        tf.reduce_sum(tf.cast(bad, tf.int64)))]
  first = tf.argmax(tf.cast(bad, tf.int32), output_type=tf.int32)

  def refuse(record_key, answer, options):
    raise errors.noted_in_pipeline(answer_not_in_options_error(
        spec.task_name, record_key.numpy().decode(), answer.numpy().decode(),
        [o.decode() for o in options.numpy()]))

  return [tf.cond(tf.reduce_any(bad), lambda: tf.py_function(
      refuse, [tf.gather(key, first), tf.gather(answers, first), tf.gather(choices, first)],
      Tout=tf.bool), lambda: tf.constant(True))]


class AnswerNotInOptionsError(errors.FlanJaxError, ValueError):
  """A record's answer is not among its options (options formats, 'error' mode)."""


def answer_not_in_options_error(task_name: str, key: str, answer: str,
                                options: list[str]) -> AnswerNotInOptionsError:
  """The error for a record whose answer is not among its options, led by the record's
  `file:line` when its source can say (JSON-lines sources can)."""
  where = _locate(task_name, key)
  return AnswerNotInOptionsError(
      f"{where + ': ' if where else ''}record {key!r} of task {task_name} has answer "
      f"{answer!r}, which is not among its options {options}. Fix the record (the answer "
      "must equal one option exactly), or register with answer_not_in_options='drop' to "
      "skip and count such records.")


def _locate(task_name: str, key: str) -> str | None:
  """`file:line` of a task's record, if its source has a `locate(key)` method."""
  import seqio  # pylint: disable=g-import-not-at-top
  try:
    return seqio.TaskRegistry.get(task_name).source.locate(key)
  except Exception:  # pylint: disable=broad-except  # Only the message gets less precise.
    return None


def record_fields(spec: RenderSpec, ex: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
  """The record's text fields as strings (non-string fields are formatted)."""
  return {f: as_text(ex[f]) for f in spec.template_set.text_fields()}


def choices_of(spec: RenderSpec, batch: Mapping[str, tf.Tensor]) -> tf.RaggedTensor | None:
  """The [B, None] choices of a batch of records (None outside options formats)."""
  field = spec.template_set.options_field
  if not field or not spec.fmt.options:
    return None
  value = batch[field]
  return value if isinstance(value, tf.RaggedTensor) else tf.RaggedTensor.from_tensor(value)


def zero_shot_fn(spec: RenderSpec):
  """The batched render function: a dict of [B] fields (+ [B, None] choices) -> [B] texts.

  Every op works on the whole batch, so tf.data pays per-op overhead once per batch.
  """
  prefix = spec.prefix()
  names = spec.template_names()
  text_fields = spec.template_set.text_fields()

  @tf.autograph.experimental.do_not_convert  # Plain graph code; skipping autograph is faster.
  def fn(batch):
    key = seeding.example_key(batch, text_fields)
    template = draw_template(spec, prefix, key)
    draw = draw_prompt(spec, prefix, key, template)
    fields = record_fields(spec, batch)
    choices = choices_of(spec, batch)
    rows = render_rows(spec, fields, choices, template, draw)
    checks = check_answers(spec, rows.answer_found, key,
                           fields[spec.template_set.answer_field], choices)
    with tf.control_dependencies(checks):
      out = {"inputs": tf.identity(rows.inputs), "targets": tf.identity(rows.targets),
             "template": tf.gather(names, template),
             "prompt_format": tf.fill(tf.shape(rows.inputs), spec.fmt.name)}
    if choices is not None and spec.answer_not_in_options == "drop":
      out[KEEP_FIELD] = rows.answer_found
    return out

  return fn


KEEP_FIELD = "_keep"


def drop_unkept(dataset: tf.data.Dataset) -> tf.data.Dataset:
  """Filters out rows whose KEEP_FIELD is False (if the field exists) and removes it."""
  if KEEP_FIELD not in dataset.element_spec:
    return dataset
  dataset = dataset.filter(tf.autograph.experimental.do_not_convert(lambda ex: ex[KEEP_FIELD]))
  return dataset.map(tf.autograph.experimental.do_not_convert(
      lambda ex: {k: v for k, v in ex.items() if k != KEEP_FIELD}))


# Records per render call. In a mixture every task renders (and tokenizes) one such batch
# before its first example, so smaller batches bring the first packed batch sooner: toy_flan
# (51 tasks) at 64 instead of 128 read its first batch ~6.5 s sooner, with no lower
# examples/s after it (docs/BENCHMARKS.md, "Input pipeline").
RENDER_BATCH = 64


def render_zero_shot(dataset: tf.data.Dataset, *, spec: RenderSpec) -> tf.data.Dataset:
  """Reads the template set's fields (+ options, idx); writes inputs, targets, template,
  prompt_format. Renders RENDER_BATCH examples per call, then unbatches (order kept); in
  'drop' mode, records whose answer is not an option are counted and left out."""
  keep = set(spec.template_set.text_fields()) | {seeding.KEY_FIELD}
  if spec.fmt.options and spec.template_set.options_field:
    keep.add(spec.template_set.options_field)
  dataset = dataset.map(tf.autograph.experimental.do_not_convert(
      lambda ex: {k: v for k, v in ex.items() if k in keep}))
  return drop_unkept(dataset.ragged_batch(RENDER_BATCH)
                     .map(zero_shot_fn(spec), num_parallel_calls=tf.data.AUTOTUNE).unbatch())


def derive_dialog_fields(dataset: tf.data.Dataset, *, spec: RenderSpec) -> tf.data.Dataset:
  """Reads the turns list; writes `context` (the turns before a seeded cut) and `turn` (the
  turn at the cut), so dialog templates and dialog inversion are ordinary templates."""
  return dataset.map(dialog_fn(spec), num_parallel_calls=tf.data.AUTOTUNE)


def dialog_fn(spec: RenderSpec):
  """The per-example dialog cut of derive_dialog_fields."""
  ts = spec.template_set
  prefix = spec.prefix()
  record_text = [f for f in ts.fields if f != ts.turns_field]

  @tf.autograph.experimental.do_not_convert
  def fn(ex):
    turns = ex[ts.turns_field]
    joined = tf.strings.reduce_join(turns, separator="\n")
    key = ex[seeding.KEY_FIELD] if seeding.KEY_FIELD in ex else tf.strings.as_string(
        tf.strings.to_hash_bucket_fast(joined, 2**62))
    n = tf.shape(turns, out_type=tf.int64)[0]
    cut = 1 + tf.math.floormod(seeding.hash_index(prefix, key, "dialog_turn", 2**62),
                               tf.maximum(n - 1, 1))
    out = {k: v for k, v in ex.items() if k in record_text or k == seeding.KEY_FIELD}
    out[templates_lib.DIALOG_CONTEXT] = tf.strings.reduce_join(turns[:cut], separator="\n")
    out[templates_lib.DIALOG_TURN] = tf.gather(turns, tf.minimum(cut, n - 1))
    return out

  return fn
