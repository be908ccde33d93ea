"""Prompt layout over thousands of random templates, in plain Python (no TensorFlow per case):
no doubled answer cue, no instruction after the answer cue, options always listed."""

import random

from hypothesis import given, settings, strategies as st

from flan_jax.data import formats
from flan_jax.data import layout
from flan_jax.data import options
from flan_jax.data import templates

# Closing cues a researcher writes, on their own line or at the end of a line with a field.
CUES = ("A:", "Answer:", "Your answer:", "Sentiment label:", "The answer is:")
ENDING_CUES = tuple(e.strip() for e in options.ENDINGS if e.strip())
ALL_CUES = set(CUES) | set(ENDING_CUES)
WORDS = ("Read", "this", "and", "reply", "Solve", "the", "question", "Look", "carefully",
         "please", "now", "Think", "about", "it", "{question}", "{context}")
FIELDS = ("question", "context")
# Each hypothesis example checks this many random cases (hypothesis' per-example overhead
# dominates otherwise): 150 examples x 20 = 3,000 templates per property.
CASES_PER_EXAMPLE = 20
# Hypothesis draws a seed; plain `random` builds the cases (recording every draw is slow).
SEEDS = st.integers(0, 2**63)


def random_template(rng):
  """(input pattern, its own closing cue or None): random lines of words and fields, options
  anywhere or nowhere, and maybe a cue on its own line or closing the last line."""
  lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4))) + rng.choice(["", ".", "?"])
           for _ in range(rng.randint(1, 4))]
  if not any("{" in line for line in lines):
    lines.append("{question}")
  where = rng.choice(["none", "end", "middle", "start"])
  if where == "end":
    lines.append("{options}")
  elif where == "middle":
    lines.insert(rng.randint(1, len(lines)), "{options}")
  elif where == "start":
    lines.insert(0, "{options}")
  cue = rng.choice((None,) + CUES)
  if cue and rng.random() < 0.5 and "{options}" not in lines[-1]:
    lines[-1] = lines[-1].rstrip(".?") + "? " + cue  # "... {question}? Answer:"
  elif cue:
    lines.append(cue)
  return "\n".join(lines), cue


def random_record(rng):
  return {f: "".join(rng.choice("abcdefgh xyz?.,") for _ in range(rng.randint(1, 12))).strip() or "v"
          for f in FIELDS}


def random_choices(rng):
  return rng.sample(["red", "green", "blue", "plum", "teal"], rng.randint(2, 4))


def _options_block(choices, style=0, header=0):
  markers = options.MARKER_STYLES[style].markers
  return "\n".join([options.HEADERS[header]] + [f"{m} {c}" for m, c in zip(markers, choices)])


def _cue_lines(text):
  return [line for line in text.split("\n") if line.strip() in ALL_CUES]


@settings(max_examples=150, deadline=None)
@given(SEEDS)
def test_zs_opt_lists_every_choice_and_never_doubles_the_answer_cue(seed):
  rng = random.Random(seed)
  for _ in range(CASES_PER_EXAMPLE):
    _check_zs_opt(rng)


def _check_zs_opt(rng):
  pattern, cue = random_template(rng)
  record, choices = random_record(rng), random_choices(rng)
  ending = rng.randrange(len(options.ENDINGS))
  style = rng.randrange(len(options.MARKER_STYLES))
  compiled = layout.compile_template(templates.Template("t", pattern), options=True, cot=False)
  block = _options_block(choices, style)
  text = layout.fill(compiled.input, {**record, "options": block,
                                      layout.ENDING_SLOT: options.ENDINGS[ending]})
  assert block in text
  assert len(_cue_lines(text)) <= 1, text
  if cue:
    assert text.endswith(cue), text  # The template's own cue still closes the prompt.
  lines = pattern.split("\n")
  open_after_options = lines[-1] == "{options}" and not lines[-2:-1] == [cue]
  if cue is None and (open_after_options or "{options}" not in pattern):
    # The template leaves the prompt open after the block: the drawn ending closes it.
    assert text.endswith(block + options.ENDINGS[ending]), text


@settings(max_examples=150, deadline=None)
@given(SEEDS)
def test_cot_cue_comes_before_the_templates_own_cue(seed):
  rng = random.Random(seed)
  for _ in range(CASES_PER_EXAMPLE):
    _check_cot(rng)


def _check_cot(rng):
  pattern, cue = random_template(rng)
  record, cot_cue = random_record(rng), rng.choice(formats.COT_CUES)
  compiled = layout.compile_template(templates.Template("t", pattern), options=False, cot=True)
  text = layout.fill(compiled.input, {**record, layout.COT_SLOT: cot_cue})
  assert text.count(cot_cue) == 1
  assert "{options}" not in text and "Choices" not in text
  if cue:
    assert text.endswith(cue), text
    assert text.index(cot_cue) < len(text) - len(cue)
    assert cot_cue not in text[len(text) - len(cue):]
  else:
    assert text.endswith(cot_cue), text
  assert len(_cue_lines(text)) <= 1


@settings(max_examples=100, deadline=None)
@given(SEEDS, st.booleans(), st.booleans())
def test_a_template_ends_with_a_cue_exactly_when_it_was_written_with_one(seed, opts, cot):
  """Few-shot joins an exemplar's answer to its own cue, or adds an answer lead: so the
  layout must recognize the cues researchers write, and nothing else."""
  rng = random.Random(seed)
  for _ in range(CASES_PER_EXAMPLE):
    pattern, cue = random_template(rng)
    compiled = layout.compile_template(templates.Template("t", pattern), options=opts, cot=cot)
    assert compiled.ends_with_cue == (cue is not None), (pattern, compiled.input)


def test_readme_quiz_template_has_one_closing_cue_in_every_ending():
  """The README's example: `...(3) Sucre\\nAnswer:\\nYour answer:` before the fix."""
  pattern = "Quiz time. {question}\n{options}\nYour answer:"
  compiled = layout.compile_template(templates.Template("quiz", pattern), options=True, cot=False)
  for ending in options.ENDINGS:
    text = layout.fill(compiled.input, {"question": "Capital of Bolivia?",
                                        "options": "Options:\n(1) Lima\n(2) Quito\n(3) Sucre",
                                        layout.ENDING_SLOT: ending})
    assert text == "Quiz time. Capital of Bolivia?\nOptions:\n(1) Lima\n(2) Quito\n(3) Sucre\nYour answer:"


def test_cot_cue_before_an_inline_cue():
  compiled = layout.compile_template(templates.Template("qa", "Q: {question} A:"),
                                     options=False, cot=True)
  assert layout.fill(compiled.input, {"question": "2+2?", layout.COT_SLOT: "Show steps."}) == (
      "Q: 2+2?\nShow steps.\nA:")
  compiled = layout.compile_template(templates.Template("qa", "Q: {question}\nA:"),
                                     options=False, cot=True)
  assert layout.fill(compiled.input, {"question": "2+2?", layout.COT_SLOT: "Show steps."}) == (
      "Q: 2+2?\nShow steps.\nA:")


def test_a_lowercase_closing_phrase_is_kept_whole():
  compiled = layout.compile_template(templates.Template("w", "The word {question} means:"),
                                     options=False, cot=True)
  assert layout.fill(compiled.input, {"question": "ox", layout.COT_SLOT: "Think."}) == (
      "Think.\nThe word ox means:")


def test_instruction_split():
  assert layout.split_instruction("Solve this.\n\n{question}\n{options}") == (
      "Solve this.", "{question}\n{options}")
  assert layout.split_instruction("Question:\n{question}") is None  # a label, not an instruction
  assert layout.split_instruction("Q: {question}\nSolve it.") is None
  assert layout.split_instruction("Pick one.\n{options}") is None  # nothing of the record left
  assert layout.split_instruction("Use {{braces}}.\n{question}") == ("Use {braces}.", "{question}")
