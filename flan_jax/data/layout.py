"""Where the engine's pieces go in a template: options block, options ending, CoT cue, the
few-shot answer lead and the instruction. Pure Python over pattern strings, decided once per
template, so the rules are property-tested over thousands of random templates without TF.

Rules (each keeps a prompt free of doubled or misplaced cues):
- A template's own answer cue is its last line when that line ends with ':' ("A:",
  "Your answer:"); on a line that also holds a field, the cue is the text after the field's
  last sentence break ("{question} Answer:" -> "Answer:").
- The randomized options ending ("Answer:", ...) follows the block only when the template
  leaves the prompt open there: nothing after `{options}` and no cue right before it.
- Options a template does not place go before its own cue, else at the end.
- The CoT cue goes before the template's own cue, else at the end.
- Few-shot exemplars end with an answer lead ("Answer: 4") unless the template ends with
  its own cue, so an answer never reads as one more option line whatever the separator.
"""

from __future__ import annotations

import dataclasses
import re
import string

from flan_jax.data import templates as templates_lib

OPTIONS = "{" + templates_lib.OPTIONS_SLOT + "}"
# Engine slots filled per prompt (names no record field may take, see TemplateSet.validate).
ENDING_SLOT, COT_SLOT = templates_lib.ENGINE_SLOTS

# Few-shot answer leads (our wording): one is drawn per prompt.
ANSWER_LEADS = ("Answer:", "A:", "Reply:")
# Where a few-shot prompt states the instruction: with every exemplar (inline), once before
# the exemplars, or once after them (just before the query).
PLACEMENTS = ("inline", "before", "after")

_SENTENCE_BREAK = re.compile(r"[.?!)\]\"']\s+")


def _escape(literal: str) -> str:
  return literal.replace("{", "{{").replace("}", "}}")


def _raw_pieces(line: str) -> list[tuple[str, str | None]]:
  """(raw literal, field) pieces of one pattern line, literals kept in their escaped form."""
  return [(_escape(lit), name) for lit, name, _, _ in string.Formatter().parse(line)]


def answer_cue_start(pattern: str) -> int | None:
  """Index in `pattern` where its own closing answer cue starts, or None if it has none."""
  stripped = pattern.rstrip()
  if not stripped.endswith(":"):
    return None
  start = stripped.rfind("\n") + 1
  pieces = _raw_pieces(stripped[start:])
  if not any(name is not None for _, name in pieces):
    return start  # The whole last line is the cue.
  trailing = pieces[-1][0] if pieces[-1][1] is None else ""
  if not re.search(r"[A-Za-z0-9]", trailing):
    return start  # "Answer for {product}:": the line is the cue.
  breaks = list(_SENTENCE_BREAK.finditer(trailing))
  offset = breaks[-1].end() if breaks else len(trailing) - len(trailing.lstrip())
  if not trailing[offset:offset + 1].isupper():
    return start  # "The word {word} means:": no cue of its own on the line; keep it whole.
  return len(stripped) - len(trailing) + offset


def _join_lines(*parts: str) -> str:
  return "\n".join(p for p in parts if p)


def _insert_before_cue(pattern: str, insert: str) -> str:
  """`insert` on its own line before the pattern's own cue, else on a last line of its own."""
  cue = answer_cue_start(pattern)
  if cue is None:
    return _join_lines(pattern.rstrip(), insert)
  return _join_lines(pattern[:cue].rstrip(), insert, pattern[cue:].rstrip())


def _ending_allowed(pattern: str) -> bool:
  """The options ending may follow the block: it closes the prompt and no cue precedes it."""
  at = pattern.rfind(OPTIONS)
  before, after = pattern[:at], pattern[at + len(OPTIONS):]
  return not after.strip() and not before.rstrip().endswith(":")


def compose_input(pattern: str, *, options: bool, cot: bool) -> str:
  """The input pattern a format renders: options placed (or dropped), ending and CoT slots."""
  if not options:
    out = templates_lib.strip_options(pattern)
  else:
    out = pattern if OPTIONS in pattern else _insert_before_cue(pattern, OPTIONS)
    if _ending_allowed(out):
      at = out.rfind(OPTIONS) + len(OPTIONS)
      out = out[:at] + "{" + ENDING_SLOT + "}" + out[at:]
  if cot:
    out = _insert_before_cue(out, "{" + COT_SLOT + "}")
  return out


def split_instruction(pattern: str) -> tuple[str, str] | None:
  """(instruction text, rest of the pattern) when the pattern opens with field-free lines that are not a label
  ("Solve this.\\n{question}"), else None. Few-shot prompts may state it once."""
  lines = pattern.split("\n")
  head = []
  for line in lines:
    if any(name is not None for _, name in _raw_pieces(line)):
      break
    head.append(line)
  instruction = "\n".join(head).strip()
  rest = "\n".join(lines[len(head):]).strip("\n")
  if not instruction or instruction.endswith(":"):
    return None
  fields = set(templates_lib.placeholders(rest)) - {templates_lib.OPTIONS_SLOT}
  if not fields:
    return None
  return instruction.replace("{{", "{").replace("}}", "}"), rest


@dataclasses.dataclass(frozen=True)
class CompiledTemplate:
  """One template laid out for one format: the patterns the renderer fills."""
  input: str             # with engine slots ({options}, {_options_ending}, {_cot_cue})
  target: str
  ends_with_cue: bool    # the input ends with the template's own answer cue
  instruction: str       # "" when the template has no separable instruction
  body: str              # the input without the instruction (== input when there is none)
  body_ends_with_cue: bool


def compile_template(template: templates_lib.Template, *, options: bool,
                     cot: bool) -> CompiledTemplate:
  """Lays out one template for a format (see the module rules)."""
  full = compose_input(template.input, options=options, cot=cot)
  split = split_instruction(template.input)
  instruction, body = "", full
  if split is not None:
    instruction = split[0]
    body = compose_input(split[1], options=options, cot=cot)
  return CompiledTemplate(
      input=full, target=template.target, ends_with_cue=answer_cue_start(full) is not None,
      instruction=instruction, body=body, body_ends_with_cue=answer_cue_start(body) is not None)


def exemplar_joiner(ends_with_cue: bool, lead: str) -> str:
  """Text between an exemplar's input and its target."""
  return " " if ends_with_cue else f"\n{lead} "


def query_tail(ends_with_cue: bool, lead: str) -> str:
  """Text after the query's input, so it asks for the answer the way the exemplars give it."""
  return "" if ends_with_cue else f"\n{lead}"


def fill(pattern: str, values: dict[str, str]) -> str:
  """Plain-Python fill of a composed pattern (the reference for the tf.data renderer)."""
  return pattern.format_map(values)
