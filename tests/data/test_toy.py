"""The generated toy collection: deterministic, structured, validation disjoint from train."""

from flan_jax.data import testing
from flan_jax.data.toy import families
from flan_jax.data.toy import source
from flan_jax.data.toy import templates as toy_templates

SMALL = source.ToyConfig(train_size=300, validation_size=50, seed=3)


def test_generation_is_deterministic_and_seeded():
  a = families.generate("arithmetic", "train", 50, seed=1)
  assert a == families.generate("arithmetic", "train", 50, seed=1)
  assert a != families.generate("arithmetic", "train", 50, seed=2)


def test_validation_never_repeats_train():
  for family in families.FAMILIES:
    train = {families._content(r) for r in source.records(family, "train", SMALL)}
    val = source.records(family, "validation", SMALL)
    assert len(val) == 50
    assert not train & {families._content(r) for r in val}


def test_records_follow_their_schema():
  for family, fam in families.FAMILIES.items():
    for record in source.records(family, "train", SMALL)[:50]:
      assert set(record) == set(fam.fields) | {"idx"}
      if "options" in record:
        assert record["answer"] in record["options"]
        assert len(set(record["options"])) == len(record["options"])


def test_category_has_exactly_one_word_of_the_asked_category():
  for r in source.records("category", "train", SMALL):
    members = [w for w in r["options"] if w in families.CATEGORIES[r["category"]]]
    assert members == [r["answer"]] and 3 <= len(r["options"]) <= 4


def test_arithmetic_rationale_ends_with_the_answer():
  for r in source.records("arithmetic", "train", SMALL)[:100]:
    assert r["rationale"].rstrip(".").endswith("= " + r["answer"])
    assert eval(r["rationale"].split(" = ")[-2].split(". ")[-1]) == int(r["answer"])  # pylint: disable=eval-used


def test_toy_templates_cover_their_fields_and_render():
  for ts in toy_templates.TOY_TEMPLATE_SETS:
    testing.assert_templates_cover_fields(ts)
    record = source.records(ts.name, "train", SMALL)[0]
    for fmt in ("zs_noopt",) + (("zs_opt",) if ts.options_field else ()):
      for row in testing.render_records(ts, [record], fmt):
        testing.assert_no_placeholders(row["inputs"] + row["targets"])
