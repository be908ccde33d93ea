"""The mixture plan: caps, inverted rate, format groups and nested weights (no data read)."""

import math

import pytest

from flan_jax import errors
from flan_jax.mixtures import builder

TASKS = ["a.big:zs_opt", "a.big:fs_opt", "a.big:zs_noopt", "a.big:fs_noopt", "a.big:inv",
         "a.small:zs_opt", "a.small:zs_noopt", "b.x:zs_noopt", "b.x:fs_noopt", "b.x:cot"]
COUNTS = {"a.big": 100_000, "a.small": 1_000, "b.x": 50_000}


def _count(task):
  return COUNTS[task.split(":")[0]]


def _spec(**kw):
  return builder.MixtureSpec("m", (
      builder.Submix("a", 0.6, 30_000, ("a.*",), builder.FOUR_WAY),
      builder.Submix("b", 0.4, 20_000, ("b.*",), builder.TWO_WAY),
  ), **kw)


def test_caps_and_inverted_rate():
  rows = {r.task: r for r in builder.plan_mixture(_spec(), TASKS, _count).rows}
  assert rows["a.big:zs_opt"].rate == 30_000  # min(100k, 30k)
  assert rows["a.small:zs_opt"].rate == 1_000
  assert rows["a.big:inv"].rate == pytest.approx(0.3 * 30_000)
  assert rows["b.x:zs_noopt"].rate == 20_000


def test_format_groups():
  assert builder.format_group("fsmix_opt", builder.FOUR_WAY) == "fs_opt"
  assert builder.format_group("inv", builder.FOUR_WAY) == "zs_noopt"
  assert builder.format_group("cot", builder.TWO_WAY) == "zs"
  assert builder.format_group("fs_cot", builder.TWO_WAY) == "fs"
  rows = {r.task: r.group for r in builder.plan_mixture(_spec(), TASKS, _count).rows}
  assert rows["a.big:inv"] == "zs_noopt" and rows["b.x:cot"] == "zs"


def test_nested_weights_multiply_out():
  plan = builder.plan_mixture(_spec(), TASKS, _count)
  shares = plan.shares()
  assert math.isclose(sum(shares.values()), 1.0)
  by_sub = {"a": 0.0, "b": 0.0}
  for r in plan.rows:
    by_sub[r.submix] += r.share
  assert by_sub == pytest.approx({"a": 0.6, "b": 0.4})
  # a.big:zs_noopt: weight 0.6 x group 0.25 x 30k / (30k + 1k + 9k) in zs_noopt.
  assert shares["a.big:zs_noopt"] == pytest.approx(0.6 * 0.25 * 30_000 / 40_000)
  # b.x: zs holds zs_noopt (20k) and cot (20k); fs holds fs_noopt alone.
  assert shares["b.x:fs_noopt"] == pytest.approx(0.4 * 0.5)
  assert shares["b.x:cot"] == pytest.approx(0.4 * 0.5 * 0.5)


def test_empty_submix_renormalizes():
  plan = builder.plan_mixture(_spec(), [t for t in TASKS if t.startswith("a.")], _count)
  assert plan.empty_submixes == ("b",)
  assert math.isclose(sum(plan.shares().values()), 1.0)


def test_formats_filter_and_first_match_wins():
  spec = builder.MixtureSpec("m", (
      builder.Submix("cot", 0.5, None, ("*",), builder.TWO_WAY, ("cot",)),
      builder.Submix("rest", 0.5, None, ("*",), builder.TWO_WAY),
  ))
  rows = {r.task: r.submix for r in builder.plan_mixture(spec, TASKS, _count).rows}
  assert rows["b.x:cot"] == "cot" and rows["b.x:zs_noopt"] == "rest"


@pytest.mark.parametrize("kw, match", [
    (dict(cap_mode="clip"), "cap_mode"),
    (dict(inverted_rate=-1), "inverted_rate"),
])
def test_validate(kw, match):
  with pytest.raises(errors.ConfigError, match=match):
    _spec(**kw).validate()


def test_replace_submixes_unknown_name():
  with pytest.raises(errors.UnknownNameError, match="Did you mean"):
    _spec().replace_submixes(weights={"aa": 1.0})
