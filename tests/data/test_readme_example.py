"""The README's "Add a task" template set, read from the README itself and rendered in every
format it supports: no doubled answer cue, the CoT cue before the template's cue, options
listed, few-shot exemplars counted and apart from option lines."""

import os
import re

import pytest
import seqio

from flan_jax.data import formats
from flan_jax.data import layout
from flan_jax.data import options
from flan_jax.data import registration
from flan_jax.data import testing
from tests.data import byte_tokens

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")
CAPITALS = [("Bolivia", "Sucre", ["Lima", "Quito", "Sucre"]),
            ("Peru", "Lima", ["Lima", "Bogota", "Quito"]),
            ("Chile", "Santiago", ["Santiago", "Sucre", "Caracas"]),
            ("Ecuador", "Quito", ["Asuncion", "Quito", "Lima"])]
CUES = {"Your answer:", "A:"} | {e.strip() for e in options.ENDINGS if e.strip()}


def readme_template_set():
  """Executes the README's example up to where it needs a real vocabulary and files."""
  text = open(README, encoding="utf-8").read()
  section = text[text.index("## Add a task"):]
  block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
  namespace = {}
  exec(block[:block.index("# Your model's vocabulary")], namespace)  # pylint: disable=exec-used
  return namespace["TRIVIA"]


def _records(split, n):
  out = []
  for i in range(n):
    country, capital, choices = CAPITALS[i % len(CAPITALS)]
    out.append({"question": f"What is the capital of {country} ({split} {i})?", "answer": capital,
                "options": choices, "explanation": f"{capital} is the seat of government."})
  return out


@pytest.fixture(scope="module", name="rows")
def _rows():
  ts = readme_template_set()
  data = {"train": _records("train", 30), "validation": _records("validation", 24)}
  source = seqio.FunctionDataSource(
      lambda split, shuffle_files: testing.records_dataset(data[split]),
      splits=("train", "validation"))
  names = registration.register_template_tasks("readme", ts, source, byte_tokens.features())
  out = {}
  for name in names:
    ds = seqio.get_mixture_or_task(name).get_dataset(
        {"inputs": 1 << 20, "targets": 1 << 20}, split="validation", shuffle=False)
    out[name.split(":")[1]] = list(ds.as_numpy_iterator())
  yield out
  for name in names:
    seqio.TaskRegistry.remove(name)


def test_every_format_is_registered(rows):
  assert set(rows) == {"zs_opt", "zs_noopt", "fs_opt", "fs_noopt", "fsmix_opt", "fsmix_noopt",
                       "cot", "fs_cot", "inv", "cot_inv"}
  assert all(len(r) == 24 for r in rows.values())


def _query(prompt):
  """The query part of a few-shot prompt: what follows the last exemplar's answer."""
  return re.split(r"\n(?:Answer|A|Reply): [^\n]*\n+", prompt)[-1]


def test_no_doubled_cue_and_cot_cue_before_the_templates_cue(rows):
  for fmt, fmt_rows in rows.items():
    for r in fmt_rows:
      prompt, template = r["inputs_pretokenized"].decode(), r["template"].decode()
      testing.assert_no_placeholders(prompt + r["targets_pretokenized"].decode())
      query = _query(prompt) if formats.FORMATS[fmt].few_shot else prompt
      cue_lines = [line for line in query.split("\n") if line in CUES]
      assert len(cue_lines) <= 1, (fmt, prompt)
      lines = query.split("\n")
      own_cue = {"trivia/quiz": "Your answer:", "trivia/qa": "A:"}.get(template)
      if own_cue and fmt in ("zs_opt", "zs_noopt", "cot", "fs_cot"):
        assert lines[-1] == own_cue, (fmt, prompt)
      if fmt in ("cot", "fs_cot"):
        cot_line = lines[-2] if own_cue else lines[-1]
        if fmt == "fs_cot" and not own_cue:
          cot_line = lines[-2]  # then the answer lead closes the query.
        assert cot_line in formats.COT_CUES, (fmt, prompt)


def test_readme_quiz_template_in_zs_opt(rows):
  quiz = [r["inputs_pretokenized"].decode() for r in rows["zs_opt"]
          if r["template"] == b"trivia/quiz"]
  assert quiz
  for prompt in quiz:
    assert prompt.endswith("\nYour answer:")
    body = prompt.split("\n")[-2]
    assert body.split(" ", 1)[1] in ("Lima", "Quito", "Sucre", "Bogota", "Santiago", "Caracas",
                                     "Asuncion")  # the last option line, then the template's cue.


def test_few_shot_counts_and_exemplars_apart_from_options(rows):
  leads = tuple(lead + " " for lead in layout.ANSWER_LEADS) + ("Your answer: ", "A: ")
  for fmt in ("fs_opt", "fsmix_opt", "fs_noopt", "fsmix_noopt", "fs_cot"):
    for r in rows[fmt]:
      prompt, k = r["inputs_pretokenized"].decode(), int(r["num_exemplars"])
      assert k in (2, 3, 5)
      assert prompt.count("What is the capital of") == k + 1
      lines = prompt.split("\n")
      for before, line in zip(lines, lines[1:]):
        if before.startswith("- "):  # an option line: next is an option, or an answer cue.
          assert (line.startswith("- ") or line.startswith(leads) or line in CUES
                  or line in layout.ANSWER_LEADS), prompt


def _marker(line):
  """The marker a choice line starts with ('A.', '(b)', 'iv.', '3)'), or None."""
  found = re.match(r"^(\([A-Za-z0-9]+\)|[A-Za-z0-9]+[.)]) ", line)
  return found.group(1) if found else None


def test_option_markers_never_read_like_the_answer_cue(rows):
  """`qa` ends with `A:`: its choices are never marked `A.`, `(A)` or `a)` (nor, in few-shot
  prompts, where an exemplar's answer follows `A:`)."""
  checked = 0
  for fmt in ("zs_opt", "fs_opt"):
    for r in rows[fmt]:
      prompt = r["inputs_pretokenized"].decode()
      if "\nA:" not in prompt + "\n":
        continue
      markers = [m for m in map(_marker, prompt.split("\n")) if m]
      letters = {m.strip("().").lower() for m in markers}
      assert "a" not in letters, prompt
      checked += bool(markers)
  assert checked  # Some prompts do list marked choices before an `A:` cue.


def test_a_template_with_a_letter_cue_gets_other_marker_styles():
  from flan_jax.data import options as options_lib  # pylint: disable=g-import-not-at-top
  names = [s.name for s in options_lib.MARKER_STYLES]
  remap = options_lib.clean_styles(["A:"])
  chosen = {names[remap[i]] for i in range(len(names))}
  assert chosen.isdisjoint({"upper_dot", "upper_paren", "lower_paren"})
  kept = [names[i] for i in range(len(names)) if remap[i] == i]
  assert kept == ["dash", "number_dot", "number_paren", "roman_dot", "roman_paren"]
  assert options_lib.clean_styles(["Answer:", "Your pick:"]) == list(range(len(names)))
