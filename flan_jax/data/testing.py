"""Test helpers for researchers who write templates and register tasks (like seqio.test_utils).

    ts = TemplateSet(...)
    testing.assert_renders(ts, {"question": "2+2?", "answer": "4"}, "plain",
                           inputs="Q: 2+2?", targets="4")
    testing.assert_templates_cover_fields(ts)
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Sequence

import tensorflow as tf

from flan_jax.data import formats as formats_lib
from flan_jax.data import rendering
from flan_jax.data import templates as templates_lib

_LEFTOVER_RE = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def record_tensors(record: Mapping[str, Any]) -> dict[str, tf.Tensor]:
  """One record as tensors (str -> scalar, list -> 1-D string tensor), as a source yields it."""
  return {k: tf.constant([str(x) for x in v] if isinstance(v, (list, tuple)) else str(v),
                         dtype=tf.string) for k, v in record.items()}


def records_dataset(records: Sequence[Mapping[str, Any]]) -> tf.data.Dataset:
  """A tf.data.Dataset of records (str fields -> scalars, list fields -> 1-D string tensors)."""
  if not records:
    raise ValueError("records_dataset needs at least one record.")
  columns = {}
  for key, first in records[0].items():
    values = [r[key] for r in records]
    if isinstance(first, (list, tuple)):
      flat = tf.constant([str(v) for row in values for v in row], dtype=tf.string)
      columns[key] = tf.RaggedTensor.from_row_lengths(flat, [len(row) for row in values])
    else:
      columns[key] = tf.constant([str(v) for v in values], dtype=tf.string)
  return tf.data.Dataset.from_tensor_slices(columns)


def _spec(ts: templates_lib.TemplateSet, prompt_format: str, template: str | None,
          seed: int, task_name: str) -> rendering.RenderSpec:
  fmt = formats_lib.FORMATS[prompt_format]
  if fmt.few_shot:
    raise ValueError("render_records renders one record at a time; few-shot needs a task: "
                     "use flan_jax.catalog.testing.render_task(task_name, ...).")
  pool = formats_lib.templates_for(ts, fmt)
  if template is not None:
    pool = tuple(t for t in pool if t.name == template)
    if not pool:
      names = [t.name for t in formats_lib.templates_for(ts, fmt)]
      raise ValueError(f"No template {template!r} in {ts.name!r} for {prompt_format}; has {names}.")
  return rendering.RenderSpec(task_name=task_name, template_set=ts, fmt=fmt, templates=pool,
                              seed=seed)


def render_records(ts: templates_lib.TemplateSet, records: Sequence[Mapping[str, Any]],
                   prompt_format: str = "zs_noopt", template: str | None = None, seed: int = 0,
                   task_name: str = "test") -> list[dict[str, str]]:
  """Renders records with the pipeline's own render function (run eagerly: no tracing, so
  it is quick enough for property tests); returns decoded text features."""
  ts.validate()
  spec = _spec(ts, prompt_format, template, seed, task_name)
  render = rendering.zero_shot_fn(spec)
  cut = rendering.dialog_fn(spec) if ts.turns_field else (lambda ex: ex)
  out = []
  for record in records:
    ex = cut(record_tensors(record))
    batch = {k: (tf.RaggedTensor.from_tensor(v[None]) if v.shape.rank == 1 else v[None])
             for k, v in ex.items()}
    rendered = render(batch)
    out.append({k: v.numpy()[0].decode("utf-8") for k, v in rendered.items()})
  return out


def assert_renders(ts: templates_lib.TemplateSet, record: Mapping[str, Any], template: str, *,
                   inputs: str, targets: str, prompt_format: str = "zs_noopt",
                   seed: int = 0) -> None:
  """Asserts one record renders to exactly `inputs` / `targets` under one template."""
  out = render_records(ts, [record], prompt_format, template, seed)[0]
  assert out["inputs"] == inputs, f"inputs differ:\n{out['inputs']!r}\n!=\n{inputs!r}"
  assert out["targets"] == targets, f"targets differ:\n{out['targets']!r}\n!=\n{targets!r}"


def assert_no_placeholders(text: str) -> None:
  """Asserts no `{field}` placeholder survived rendering."""
  left = _LEFTOVER_RE.findall(text)
  assert not left, f"unfilled placeholders {left} in {text!r}"


def assert_templates_cover_fields(ts: templates_lib.TemplateSet,
                                  ignore: Iterable[str] = ()) -> None:
  """Asserts every text field is read by some template (an unused field is usually a typo)."""
  ts.validate()
  used = set()
  for t in ts.templates + ts.inverted:
    used |= t.fields()
  if ts.rationale_field:
    used.add(ts.rationale_field)
  unused = set(ts.text_fields()) - used - set(ignore)
  assert not unused, f"Template set {ts.name!r}: no template reads field(s) {sorted(unused)}."
