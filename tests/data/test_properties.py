"""Property-based checks of the render step (hypothesis): any record with the declared
fields renders, nothing is left unfilled, options targets are markers or choices, and the
same seed gives the same bytes."""

from hypothesis import given, settings, strategies as st

from flan_jax.data import templates as templates_lib
from flan_jax.data import testing
from flan_jax.data.templates import Template, TemplateSet

# Text without braces or line breaks, so leftover placeholders and option lines are visible.
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
                             blacklist_characters="{}\n\r\x85"), min_size=1, max_size=20)

QA = TemplateSet(
    name="qa", fields=("question", "answer", "options", "context"), options_field="options",
    templates=(Template("a", "{context}\nQ: {question}\n{options}"),
               Template("b", "Read: {context} Then answer {question}.\n{options}\nOK?"),
               Template("c", "{question}", "The answer: {answer}")),
    inverted=(Template("inv", "{answer} answers what, given {context}?", "{question}"),),
)


@st.composite
def records(draw):
  choices = draw(st.lists(TEXT.map(str.strip).filter(bool), min_size=2, max_size=5, unique=True))
  answer = draw(st.sampled_from(choices))
  return {"question": draw(TEXT), "context": draw(TEXT), "answer": answer, "options": choices,
          "idx": str(draw(st.integers(0, 10**9)))}


BATCH = st.lists(records(), min_size=1, max_size=12)


def _reference(pattern, record):
  return templates_lib.render_python(templates_lib.strip_options(pattern), record)


@settings(max_examples=8, deadline=None)
@given(BATCH, st.integers(0, 2**31))
def test_no_options_matches_python_reference_and_fills_everything(batch, seed):
  by_name = {t.name: t for t in QA.templates}
  for record, row in zip(batch, testing.render_records(QA, batch, "zs_noopt", seed=seed)):
    template = by_name[row["template"].split("/")[1]]
    assert row["inputs"] == _reference(template.input, record)
    assert row["targets"] == _reference(template.target, record)
    testing.assert_no_placeholders(row["inputs"] + row["targets"])


@settings(max_examples=8, deadline=None)
@given(BATCH, st.integers(0, 2**31))
def test_options_target_is_a_rendered_marker_or_choice(batch, seed):
  for record, row in zip(batch, testing.render_records(QA, batch, "zs_opt", seed=seed)):
    lines = row["inputs"].split("\n")
    line_of = {}
    for choice in record["options"]:
      hits = [ln for ln in lines if ln.endswith(" " + choice)]
      assert hits, f"choice {choice!r} missing from {row['inputs']!r}"
      line_of[choice] = hits[-1][: -len(choice) - 1]
    target = row["targets"]
    if row["template"].endswith("/c"):
      target = target[len("The answer: "):]
    if line_of[record["answer"]] == "-":
      assert target == record["answer"]
    else:
      assert target == line_of[record["answer"]]


@settings(max_examples=5, deadline=None)
@given(BATCH, st.integers(0, 2**31), st.sampled_from(["zs_opt", "zs_noopt", "inv"]))
def test_same_seed_same_bytes(batch, seed, prompt_format):
  first = testing.render_records(QA, batch, prompt_format, seed=seed)
  again = testing.render_records(QA, batch[::-1], prompt_format, seed=seed)[::-1]
  assert first == again
