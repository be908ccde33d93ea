"""Prompt templates researchers write: (input pattern, target pattern) pairs with `{field}` slots.

A `TemplateSet` groups the templates of one dataset with its record schema, so that a
placeholder the dataset does not provide is caught when the task is registered.
"""

from __future__ import annotations

import dataclasses
import json
import re
import string
from typing import Any, Iterable, Mapping, Sequence

from flan_jax import errors

# Placeholders filled by the engine rather than read from the record.
OPTIONS_SLOT = "options"
# Slots the engine fills per prompt (see layout.py); no record field may use these names.
ENGINE_SLOTS = ("_options_ending", "_cot_cue")
# Dialog records (a list of turns) are cut at a seeded turn into these two text fields.
DIALOG_CONTEXT, DIALOG_TURN = "context", "turn"

_NO_OPTIONS_RE = re.compile(r"[ \t]*\n*[ \t]*\{options\}")


class TemplateError(errors.FlanJaxError, ValueError):
  """A template is malformed or uses a placeholder its dataset does not provide."""


def placeholders(pattern: str) -> list[str]:
  """Returns the `{field}` names in `pattern`, in order (format specs are rejected)."""
  names = []
  try:
    parsed = list(string.Formatter().parse(pattern))
  except ValueError as e:  # e.g. "expected '}' before end of string".
    raise TemplateError(
        f"Unbalanced brace in {pattern!r} ({e}): write {{{{ and }}}} for literal braces, "
        "{field} for a field.") from None
  for _, name, spec, conv in parsed:
    if name is None:
      continue
    if spec or conv or not name.isidentifier():
      raise TemplateError(f"Placeholder {{{name}}} in {pattern!r} must be a plain field name.")
    names.append(name)
  return names


def split_pattern(pattern: str) -> list[tuple[str, str | None]]:
  """Splits a pattern into (literal, field-or-None) pieces for tf.strings.join."""
  pieces = []
  for literal, name, _, _ in string.Formatter().parse(pattern):
    pieces.append((literal.replace("{{", "{").replace("}}", "}"), name))
  return pieces


def strip_options(pattern: str) -> str:
  """The same instruction with the `{options}` block (and the line break before it) removed."""
  return _NO_OPTIONS_RE.sub("", pattern)


@dataclasses.dataclass(frozen=True)
class Template:
  """One instruction: an input pattern and a target pattern over record fields.

  `{options}` in `input` marks where the answer choices go in options formats; it is
  dropped (with its line break) in no-options formats.
  """
  name: str
  input: str
  target: str = "{answer}"

  def fields(self) -> set[str]:
    """Record fields this template reads (engine slots excluded)."""
    return (set(placeholders(self.input)) | set(placeholders(self.target))) - {OPTIONS_SLOT}

  def uses_options(self) -> bool:
    return OPTIONS_SLOT in placeholders(self.input)


@dataclasses.dataclass(frozen=True)
class TemplateSet:
  """All templates of one dataset plus its record schema.

  fields: the record's text fields. options_field: a list-of-strings field holding the
  answer choices (None when the task has none). rationale_field enables chain-of-thought;
  turns_field (a list of strings) enables dialog inversion.
  """
  name: str
  fields: tuple[str, ...]
  templates: tuple[Template, ...]
  inverted: tuple[Template, ...] = ()
  answer_field: str = "answer"
  question_field: str = "question"
  options_field: str | None = None
  rationale_field: str | None = None
  turns_field: str | None = None

  def __post_init__(self):
    object.__setattr__(self, "fields", tuple(self.fields))
    object.__setattr__(self, "templates", tuple(self.templates))
    object.__setattr__(self, "inverted", tuple(self.inverted))

  def validate(self) -> None:
    """Raises TemplateError naming the template and field when a placeholder is unknown."""
    if not self.templates:
      raise TemplateError(f"Template set {self.name!r} has no templates.")
    for attr in ("options_field", "turns_field"):
      field = getattr(self, attr)
      if field and field not in self.fields:
        raise TemplateError(f"Template set {self.name!r}: {attr}={field!r} is not one of its "
                            f"fields ({', '.join(self.fields)}).")
    available = set(self.text_fields())
    required = [("answer_field", self.answer_field)]
    if self.rationale_field:
      required.append(("rationale_field", self.rationale_field))
    for attr, field in required:
      if field not in available:
        raise TemplateError(
            f"Template set {self.name!r}: {attr}={field!r} is not one of its fields "
            f"({', '.join(sorted(available))}).")
    reserved = sorted(set(self.fields) & set(ENGINE_SLOTS))
    if reserved:
      raise TemplateError(f"Template set {self.name!r}: field name(s) {reserved} are reserved for "
                          "the engine; rename them (e.g. with a pre_render step).")
    seen = set()
    for template in self.templates + self.inverted:
      if template.name in seen:
        raise TemplateError(f"Template set {self.name!r}: template name {template.name!r} repeats.")
      seen.add(template.name)
      try:
        used = template.fields()
      except TemplateError as e:
        raise TemplateError(f"Template {self.name}/{template.name}: {e}") from None
      for field in sorted(used):
        if field not in available:
          raise TemplateError(
              f"Template {self.name}/{template.name}: placeholder {{{field}}} is not a field "
              f"of the dataset. Available fields: {', '.join(sorted(available))}.")
      if template.uses_options() and not self.options_field:
        raise TemplateError(
            f"Template {self.name}/{template.name} uses {{options}} but the template set "
            "declares no options_field.")

  def text_fields(self) -> tuple[str, ...]:
    """Fields that hold one string each: list fields excluded, dialog context/turn added."""
    out = tuple(f for f in self.fields if f not in (self.options_field, self.turns_field))
    return out + ((DIALOG_CONTEXT, DIALOG_TURN) if self.turns_field else ())

  def record_fields(self) -> tuple[str, ...]:
    """Fields a record of the source must carry (before dialog fields are derived)."""
    return self.fields


def _template_from_dict(d: Mapping[str, Any]) -> Template:
  unknown = set(d) - {"name", "input", "target"}
  if unknown:
    raise TemplateError(f"Template entry {d!r} has unknown keys {sorted(unknown)}.")
  return Template(name=d["name"], input=d["input"], target=d.get("target", "{answer}"))


def template_set_from_dict(d: Mapping[str, Any]) -> TemplateSet:
  """Builds a TemplateSet from the declarative form (the dict a YAML/JSON file holds)."""
  d = dict(d)
  d["templates"] = tuple(_template_from_dict(t) for t in d.get("templates", ()))
  d["inverted"] = tuple(_template_from_dict(t) for t in d.get("inverted", ()))
  known = {f.name for f in dataclasses.fields(TemplateSet)}
  unknown = set(d) - known
  if unknown:
    raise TemplateError(f"Template set file has unknown keys {sorted(unknown)}; known: {sorted(known)}.")
  template_set = TemplateSet(**d)
  template_set.validate()
  return template_set


def load_template_set(path: str) -> TemplateSet:
  """Reads a TemplateSet from a .yaml/.yml or .json file."""
  with open(path, encoding="utf-8") as f:
    text = f.read()
  if path.endswith((".yaml", ".yml")):
    import yaml  # pylint: disable=g-import-not-at-top
    data = yaml.safe_load(text)
  else:
    data = json.loads(text)
  return template_set_from_dict(data)


def render_python(pattern: str, record: Mapping[str, Any], options_block: str = "") -> str:
  """Plain-Python rendering of one pattern (reference path for tests, vocab text and benches)."""
  values = {k: v for k, v in record.items() if isinstance(v, str)}
  values[OPTIONS_SLOT] = options_block
  return pattern.format_map(values)


def literal_text(template_sets: Iterable[TemplateSet]) -> list[str]:
  """The fixed wording of every template (used to train the toy vocabulary)."""
  out = []
  for ts in template_sets:
    for t in ts.templates + ts.inverted:
      for pattern in (t.input, t.target):
        out.extend(lit for lit, _ in split_pattern(pattern) if lit.strip())
  return out


def check_unique_names(template_sets: Sequence[TemplateSet]) -> None:
  names = [ts.name for ts in template_sets]
  dupes = sorted({n for n in names if names.count(n) > 1})
  if dupes:
    raise TemplateError(f"Template set names repeat: {dupes}.")
