"""FLAN's own templates on request: the loader reads a checkout's flan/v2/templates.py.

The checkout here is a small hand-written file in FLAN's format (a `PATTERNS` dict of
(inputs, targets) pairs with `{field}` and `{options_}` slots, importing its sibling
`flan_templates_branched` as FLAN's does); its wording is made up for the test.
"""

import sys
import textwrap

import pytest

from flan_jax import errors
from flan_jax.data import testing
import flan_jax_tasks.flan2021 as flan2021
from flan_jax_tasks.flan2021 import flan_patterns

TEMPLATES_PY = '''\
"""Templates (test double in FLAN's layout)."""
from flan.v2 import flan_templates_branched as flan_templates

PATTERNS = {
    "rte": [
        ("{premise}\\n\\nDoes it follow that \\"{hypothesis}\\"?\\n\\n{options_}", "{answer}"),
        ("P: {premise}\\nH: {hypothesis}\\nEntailed?", "{answer}"),
        ("Write a premise and a hypothesis.", "Premise: {premise}\\nHypothesis: {hypothesis}"),
    ],
    "aeslc": [
        ("Mail:\\n{body}\\n\\nIts subject?", "{subject}"),
        ("Compose a mail titled {subject}.", "{body}"),
    ],
    "anli": [("{context} / {hypothesis} {options_}", "{answer}")],
    "bool_q": [("{title}: {text} -- {question}? {unknown_field}", "{answer}")],
}
PATTERNS_NO_OPTIONS = dict(PATTERNS)
MARKER = flan_templates.MARKER
'''


@pytest.fixture()
def checkout(tmp_path, monkeypatch):
  v2 = tmp_path / "flan" / "v2"
  v2.mkdir(parents=True)
  (v2 / "templates.py").write_text(TEMPLATES_PY)
  (v2 / "flan_templates_branched.py").write_text("MARKER = 'branched'\n")
  monkeypatch.setenv(flan_patterns.ENV, str(tmp_path))
  flan_patterns.load_patterns.cache_clear()
  yield tmp_path
  flan_patterns.load_patterns.cache_clear()


def test_rte_renders_with_flan_patterns(checkout):
  del checkout
  ts = flan2021.template_set_for("rte")
  assert [t.name for t in ts.templates] == ["flan_0", "flan_1", "flan_2"] and not ts.inverted
  record = {"premise": "The cat sat.", "hypothesis": "A cat sat.", "relation": "follows from",
            "options": ["yes", "no"], "answer": "yes"}
  testing.assert_renders(ts, record, "flan_1", inputs="P: The cat sat.\nH: A cat sat.\nEntailed?",
                         targets="yes")
  testing.assert_renders(ts, record, "flan_2", inputs="Write a premise and a hypothesis.",
                         targets="Premise: The cat sat.\nHypothesis: A cat sat.")
  out = testing.render_records(ts, [record], "zs_noopt", template="flan_0")[0]
  assert out["inputs"] == 'The cat sat.\n\nDoes it follow that "A cat sat."?'
  with_options = testing.render_records(ts, [record], "zs_opt", template="flan_0")[0]
  assert with_options["inputs"].startswith('The cat sat.\n\nDoes it follow that "A cat sat."?')
  assert "yes" in with_options["inputs"] and "no" in with_options["inputs"]


def test_fields_are_mapped_per_dataset(checkout):
  del checkout
  ts = flan2021.template_set_for("aeslc")  # FLAN's body/subject are our email/answer.
  record = {"email": "Lunch moved to 1pm.", "answer": "Lunch"}
  testing.assert_renders(ts, record, "flan_0", inputs="Mail:\nLunch moved to 1pm.\n\nIts subject?",
                         targets="Lunch")
  testing.assert_renders(ts, record, "flan_1", inputs="Compose a mail titled Lunch.",
                         targets="Lunch moved to 1pm.")
  anli = flan2021.template_set_for("anli_r2")  # PATTERNS["anli"], context -> premise.
  assert anli.templates[0].input == "{premise} / {hypothesis} {options}"


def test_catalog_lists_flan_formats_without_our_inversion(checkout):
  del checkout
  rte = next(ds for ds in flan2021.datasets() if ds.name == "rte")
  assert "flan2021.rte:inv" not in rte.tasks and "flan2021.rte:zs_opt" in rte.tasks


def test_loader_leaves_no_flan_modules_behind(checkout):
  flan_patterns.load_patterns(str(checkout))
  assert not any(name == "flan" or name.startswith("flan.") for name in sys.modules)


def test_errors_name_what_is_wrong(checkout, tmp_path, monkeypatch):
  with pytest.raises(errors.ConfigError, match=r"reads \['unknown_field'\].*FIELD_NAMES"):
    flan2021.template_set_for("bool_q")
  with pytest.raises(errors.ConfigError, match=r"no PATTERNS\['cola'\]"):
    flan2021.template_set_for("cola")
  monkeypatch.setenv(flan_patterns.ENV, str(tmp_path / "nowhere"))
  with pytest.raises(errors.ConfigError, match="has no flan/v2/templates.py"):
    flan2021.template_set_for("rte")
  broken = tmp_path / "broken" / "flan" / "v2"
  broken.mkdir(parents=True)
  (broken / "templates.py").write_text(textwrap.dedent("import not_a_module_anywhere\n"))
  monkeypatch.setenv(flan_patterns.ENV, str(tmp_path / "broken"))
  with pytest.raises(errors.ConfigError, match="Cannot import FLAN's templates"):
    flan2021.template_set_for("rte")
  del checkout


def test_without_the_variable_our_templates_stay(monkeypatch):
  monkeypatch.delenv(flan_patterns.ENV, raising=False)
  ts = flan2021.template_set_for("rte")
  assert ts.templates == flan2021.adapter_for("rte").template_set.templates


def test_translation_sides_follow_the_pair_direction(checkout):
  """FLAN's sent1/lang1 is English in every pair; ours is the source of the pair's direction:
  en->fr for wmt14_enfr, de->en for wmt16_translate_de_en."""
  (checkout / "flan" / "v2" / "templates.py").write_text(TEMPLATES_PY.replace(
      "PATTERNS = {", 'PATTERNS = {\n    "wmt16_translate": [("{sent2} in {lang1}?", "{sent1}")],\n'
      '    "wmt14_enfr": [("{sent2} in {lang1}?", "{sent1}")],'))
  flan_patterns.load_patterns.cache_clear()
  de = flan2021.template_set_for("wmt16_translate_de_en").templates[0]
  assert (de.input, de.target) == ("{source} in {target_language}?", "{target}")
  fr = flan2021.template_set_for("wmt14_enfr").templates[0]
  assert (fr.input, fr.target) == ("{target} in {source_language}?", "{source}")
