"""Plain text of the toy train split as prompts look, used to train the toy vocabulary."""

from __future__ import annotations

from flan_jax.data import formats
from flan_jax.data import options
from flan_jax.data import templates as templates_lib
from flan_jax.data.toy import source
from flan_jax.data.toy import templates as toy_templates


def options_block_python(choices: list[str], i: int) -> str:
  """Cycles through the list styles so every header, marker and ending is in the corpus."""
  style = options.MARKER_STYLES[i % len(options.MARKER_STYLES)]
  header = options.HEADERS[i % len(options.HEADERS)]
  ending = options.ENDINGS[i % len(options.ENDINGS)]
  lines = [f"{style.markers[k]} {c}" for k, c in enumerate(choices)]
  return "\n".join([header] + lines) + ending


def vocab_training_lines(config: source.ToyConfig = source.ToyConfig()) -> list[str]:
  """One line per rendered train record (fixed order), plus the engine's fixed wording."""
  lines = []
  for ts in toy_templates.TOY_TEMPLATE_SETS:
    pool = ts.templates + ts.inverted + formats.cot_arrangements(ts) if ts.rationale_field else (
        ts.templates + ts.inverted)
    for i, record in enumerate(source.records(ts.name, "train", config)):
      template = pool[i % len(pool)]
      if ts.turns_field:  # Cut dialogs at a turn, as the tf.data pipeline does.
        turns = record[ts.turns_field]
        cut = 1 + i % (len(turns) - 1)
        record = {templates_lib.DIALOG_CONTEXT: "\n".join(turns[:cut]),
                  templates_lib.DIALOG_TURN: turns[cut]}
      block = options_block_python(record[ts.options_field], i) if ts.options_field else ""
      lines.append(templates_lib.render_python(template.input, record, block))
      lines.append(templates_lib.render_python(template.target, record))
      if ts.rationale_field and i % 3 == 0:
        lines.append(f"{record[ts.rationale_field]} {formats.COT_ANSWER_PHRASE} "
                     f"{record[ts.answer_field]}")
  lines.extend(formats.COT_CUES)
  lines.extend(options.HEADERS)
  lines.extend(e.strip() for e in options.ENDINGS if e.strip())
  return lines
