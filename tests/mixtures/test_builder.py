"""The mixture plan: caps, inverted rate, format groups and nested weights (no data read)."""

import math

import pytest

from flan_jax import errors
from flan_jax.data import formats
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


def test_caps_format_split_and_inverted_rate():
  """Rates inside a submix, by hand: a.big (100k, capped at 30k) has all four groups, so
  each format gets 30k x 1/4 = 7,500 and `inv` (group zs_noopt) 0.3 x 7,500; a.small (1k)
  has only zs_opt and zs_noopt, each 1k x 1/2."""
  rows = {r.task: r for r in builder.plan_mixture(_spec(), TASKS, _count).rows}
  assert rows["a.big:zs_opt"].rate == pytest.approx(7_500)
  assert rows["a.big:fs_noopt"].rate == pytest.approx(7_500)
  assert rows["a.big:inv"].rate == pytest.approx(2_250)
  assert rows["a.small:zs_opt"].rate == pytest.approx(500)
  assert rows["a.small:zs_noopt"].rate == pytest.approx(500)
  # b.x (50k, capped at 20k), two-way: zs holds zs_noopt and cot, fs holds fs_noopt.
  assert rows["b.x:zs_noopt"].rate == pytest.approx(5_000)
  assert rows["b.x:cot"].rate == pytest.approx(5_000)
  assert rows["b.x:fs_noopt"].rate == pytest.approx(10_000)


def test_format_groups():
  assert builder.format_group("fsmix_opt", builder.FOUR_WAY) == "fs_opt"
  assert builder.format_group("inv", builder.FOUR_WAY) == "zs_noopt"
  assert builder.format_group("cot", builder.TWO_WAY) == "zs"
  assert builder.format_group("fs_cot", builder.TWO_WAY) == "fs"
  rows = {r.task: r.group for r in builder.plan_mixture(_spec(), TASKS, _count).rows}
  assert rows["a.big:inv"] == "zs_noopt" and rows["b.x:cot"] == "zs"


def test_shares_by_hand():
  """Submix a (0.6) sums 4 x 7,500 + 2,250 + 2 x 500 = 33,250; submix b (0.4) 20,000."""
  plan = builder.plan_mixture(_spec(), TASKS, _count)
  shares = plan.shares()
  assert math.isclose(sum(shares.values()), 1.0)
  assert plan.submix_shares() == pytest.approx({"a": 0.6, "b": 0.4})
  assert shares["a.big:zs_noopt"] == pytest.approx(0.6 * 7_500 / 33_250)
  assert shares["a.big:inv"] == pytest.approx(0.6 * 2_250 / 33_250)
  assert shares["a.small:zs_opt"] == pytest.approx(0.6 * 500 / 33_250)
  assert shares["b.x:fs_noopt"] == pytest.approx(0.4 * 0.5)
  assert shares["b.x:cot"] == pytest.approx(0.4 * 0.25)


def test_truncate_names_capped_tasks():
  spec = _spec(cap_mode="truncate")
  rates = dict(builder.plan_mixture(spec, TASKS, _count).flat_rates())
  assert "a.big:zs_opt#cap30000" in rates and "b.x:cot#cap20000" in rates
  assert formats.base_task_name("a.big:zs_opt#cap30000") == "a.big:zs_opt"


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
