"""Prompt formats, the naming scheme and CoT inversion arrangements."""

import pytest

from flan_jax.data import formats
from flan_jax.data.toy import templates as toy_templates


def test_task_name_round_trip():
  name = formats.task_name("toy", "category", "zs_opt")
  assert name == "toy.category:zs_opt"
  assert formats.parse_task_name(name) == ("toy", "category", "zs_opt")


def test_task_name_rejects_characters_seqio_does_not_allow():
  with pytest.raises(ValueError):
    formats.task_name("toy", "my-set", "zs_opt")


def test_formats_follow_the_schema():
  names = {f.name for f in formats.formats_for(toy_templates.LIST_OPS)}
  assert {"zs_opt", "zs_noopt", "fs_opt", "fs_noopt", "inv"} <= names
  assert "cot" not in names  # list_ops has no rationale.
  dialog = {f.name for f in formats.formats_for(toy_templates.DIALOG)}
  assert "zs_opt" not in dialog and "inv" in dialog


def test_cot_arrangements_cover_every_split_but_the_forward_one():
  arrangements = formats.cot_arrangements(toy_templates.ARITHMETIC)
  assert len(arrangements) == 11  # 3! orders x 2 cuts, minus question -> (rationale, answer).
  for t in arrangements:
    assert t.fields() <= {"question", "rationale", "answer"}
    assert templates_on_both_sides(t)


def templates_on_both_sides(t):
  from flan_jax.data import templates
  return templates.placeholders(t.input) and templates.placeholders(t.target)
