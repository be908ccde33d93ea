"""Templates: placeholder parsing, validation at registration, declarative files."""

import json

import pytest

from flan_jax.data import templates
from flan_jax.data.templates import Template, TemplateSet


def _set(**kwargs):
  base = dict(name="qa", fields=("question", "answer", "options"), options_field="options",
              templates=(Template("plain", "Q: {question}\n{options}"),))
  base.update(kwargs)
  return TemplateSet(**base)


def test_placeholders_in_order():
  assert templates.placeholders("{a} and {b}, {a}") == ["a", "b", "a"]


def test_placeholder_with_format_spec_is_rejected():
  with pytest.raises(templates.TemplateError, match="plain field name"):
    templates.placeholders("{a:>3}")


def test_unknown_placeholder_names_template_field_and_available_fields():
  ts = _set(templates=(Template("typo", "Q: {qustion}"),))
  with pytest.raises(templates.TemplateError) as e:
    ts.validate()
  msg = str(e.value)
  assert "qa/typo" in msg and "{qustion}" in msg
  assert "answer, question" in msg  # the fields that are available.


def test_options_slot_needs_options_field():
  ts = _set(options_field=None, fields=("question", "answer"))
  with pytest.raises(templates.TemplateError, match="options_field"):
    ts.validate()


def test_missing_rationale_field_is_reported():
  with pytest.raises(templates.TemplateError, match="rationale_field"):
    _set(rationale_field="why").validate()


def test_repeated_template_names_are_rejected():
  t = Template("same", "{question}")
  with pytest.raises(templates.TemplateError, match="repeats"):
    _set(templates=(t, t)).validate()


def test_strip_options_removes_block_and_its_line_break():
  assert templates.strip_options("Q: {question}\n{options}\nAnswer:") == "Q: {question}\nAnswer:"
  assert templates.strip_options("{question} {options}") == "{question}"


def test_dialog_sets_expose_context_and_turn():
  ts = TemplateSet(name="chat", fields=("turns",), turns_field="turns", answer_field="turn",
                   templates=(Template("next", "{context}", "{turn}"),))
  ts.validate()
  assert ts.text_fields() == ("context", "turn")


def test_declarative_json_and_yaml(tmp_path):
  data = {"name": "qa", "fields": ["question", "answer"],
          "templates": [{"name": "plain", "input": "Q: {question}"}],
          "inverted": [{"name": "inv", "input": "A: {answer}", "target": "{question}"}]}
  (tmp_path / "qa.json").write_text(json.dumps(data))
  (tmp_path / "qa.yaml").write_text(
      "name: qa\nfields: [question, answer]\ntemplates:\n"
      "  - {name: plain, input: 'Q: {question}'}\n"
      "inverted:\n  - {name: inv, input: 'A: {answer}', target: '{question}'}\n")
  from_json = templates.load_template_set(str(tmp_path / "qa.json"))
  from_yaml = templates.load_template_set(str(tmp_path / "qa.yaml"))
  assert from_json == from_yaml
  assert from_json.templates[0].target == "{answer}"


def test_declarative_file_is_validated(tmp_path):
  (tmp_path / "bad.json").write_text(json.dumps(
      {"name": "qa", "fields": ["question", "answer"],
       "templates": [{"name": "t", "input": "{context}"}]}))
  with pytest.raises(templates.TemplateError, match="qa/t.*context"):
    templates.load_template_set(str(tmp_path / "bad.json"))


@pytest.mark.parametrize("pattern", ["Q: {question\n{options}", "Q: {question}}", "Q: {{question}"])
def test_unbalanced_brace_names_the_template_and_the_set(pattern):
  with pytest.raises(templates.TemplateError) as e:
    _set(templates=(Template("plain", "{question}"), Template("broken", pattern))).validate()
  msg = str(e.value)
  assert "qa/broken" in msg and "Unbalanced brace" in msg and "{{" in msg


def test_unbalanced_brace_in_a_yaml_file_names_the_template(tmp_path):
  (tmp_path / "bad.yaml").write_text(
      "name: qa\nfields: [question, answer]\ntemplates:\n  - {name: ok, input: 'Q: {question}'}\n"
      "  - {name: oops, input: 'Q: {question'}\n")
  with pytest.raises(templates.TemplateError, match="qa/oops: Unbalanced brace"):
    templates.load_template_set(str(tmp_path / "bad.yaml"))


def test_engine_slot_names_are_reserved():
  with pytest.raises(templates.TemplateError, match="reserved"):
    _set(fields=("question", "answer", "options", "_cot_cue")).validate()
