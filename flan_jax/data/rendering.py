"""Renders records into (inputs, targets) strings inside tf.data, with no Python round trip.

Templates are split into literals and field slots once; `tf.strings.join` fills them per
example, and every random choice (template, list style, CoT cue) is a stateless draw keyed
by (render seed, task name, example key), see `seeding`.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

import tensorflow as tf

from flan_jax.data import formats as formats_lib
from flan_jax.data import options as options_lib
from flan_jax.data import seeding
from flan_jax.data import templates as templates_lib

# A task's render seed is fixed when it is registered (catalog.get_mixture_or_task(name,
# render_seed=...) re-registers with another one); there is no process-wide override.
DEFAULT_RENDER_SEED = 0


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

  def prefix(self) -> str:
    """Hash prefix of every draw: the task's render seed and its name."""
    return f"{self.seed}|{self.task_name}"

  def template_names(self) -> tf.Tensor:
    return tf.constant([f"{self.template_set.name}/{t.name}" for t in self.templates])


@dataclasses.dataclass(frozen=True)
class PromptDraw:
  """The per-prompt random choices shared by a query and its exemplars."""
  options: options_lib.OptionsDraw
  cot_cue: tf.Tensor


def draw_template(spec: RenderSpec, prefix: str, key: tf.Tensor) -> tf.Tensor:
  """The template index of each key (scalar or [B])."""
  return seeding.hash_index(prefix, key, "template", len(spec.templates))


def draw_prompt(spec: RenderSpec, prefix: str, key: tf.Tensor, template: tf.Tensor) -> PromptDraw:
  """Draws list style and CoT cue per prompt (scalar or [B]), keyed by example and template."""
  key_t = tf.strings.join([key, "/", tf.strings.as_string(template)])
  if spec.fmt.options and spec.fmt.random_options:
    opts = options_lib.OptionsDraw(
        style=seeding.hash_index(prefix, key_t, "marker", len(options_lib.MARKER_STYLES)),
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


def render_rows(spec: RenderSpec, fields: Mapping[str, tf.Tensor], choices: tf.RaggedTensor | None,
                template_rows: tf.Tensor, draw: PromptDraw) -> tuple[tf.Tensor, tf.Tensor]:
  """Renders a batch of records ([B] fields, [B, None] choices), row b with template_rows[b]."""
  ts, fmt = spec.template_set, spec.fmt
  batch = tf.shape(template_rows)[0]
  in_fields, tgt_fields = dict(fields), dict(fields)
  if fmt.options:
    block, markers = options_lib.format_options(choices, draw.options)
    in_fields[templates_lib.OPTIONS_SLOT] = block
    tgt_fields[ts.answer_field] = options_lib.answer_targets(
        choices, markers, fields[ts.answer_field], draw.options)
  inputs, targets = [], []
  for template in spec.templates:
    pattern = template.input if fmt.options else templates_lib.strip_options(template.input)
    if fmt.options and not template.uses_options():
      pattern += "\n{" + templates_lib.OPTIONS_SLOT + "}"  # Options formats always list them.
    inputs.append(_fill(pattern, in_fields, batch))
    targets.append(_fill(template.target, tgt_fields, batch))
  pick = tf.stack([tf.cast(template_rows, tf.int32), tf.range(batch)], axis=1)
  inputs = tf.gather_nd(tf.stack(inputs), pick)
  targets = tf.gather_nd(tf.stack(targets), pick)
  if fmt.cot:
    cue = tf.gather(tf.constant(formats_lib.COT_CUES), draw.cot_cue)
    inputs = tf.strings.join([inputs, "\n", cue])
    targets = tf.strings.join(
        [fields[ts.rationale_field], f" {formats_lib.COT_ANSWER_PHRASE} ", targets])
  return inputs, targets


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
    inputs, targets = render_rows(spec, record_fields(spec, batch), choices_of(spec, batch),
                                  template, draw)
    return {"inputs": inputs, "targets": targets, "template": tf.gather(names, template),
            "prompt_format": tf.fill(tf.shape(inputs), spec.fmt.name)}

  return fn


RENDER_BATCH = 128


def render_zero_shot(dataset: tf.data.Dataset, *, spec: RenderSpec) -> tf.data.Dataset:
  """Reads the template set's fields (+ options, idx); writes inputs, targets, template,
  prompt_format. Renders RENDER_BATCH examples per call, then unbatches (order kept)."""
  keep = set(spec.template_set.text_fields()) | {seeding.KEY_FIELD}
  if spec.fmt.options and spec.template_set.options_field:
    keep.add(spec.template_set.options_field)
  dataset = dataset.map(tf.autograph.experimental.do_not_convert(
      lambda ex: {k: v for k, v in ex.items() if k in keep}))
  return (dataset.ragged_batch(RENDER_BATCH)
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
