"""The rate rule in `rates` on its own: submix rates and mixture shares, computed by hand."""

import pytest

from flan_jax import errors
from flan_jax.mixtures import rates


def _member(task, group, n, inverted=False):
  return rates.Member(task, task.split(":")[0], group, n, inverted)


def test_submix_rates_by_hand():
  """Cap 4,000, split zs/fs 50/50, inverted rate 0.3:
  a (10k, capped 4k): zs 4k x 0.5 = 2,000; fs 2,000; inv in group zs 0.3 x 2,000 = 600.
  b (1k, zs only): the zs group takes the whole split: 1,000.
  c (100, only inverted tasks): they split it evenly, x 0.3: 100 x 1/2 x 0.3 = 15 each.
  d (200, regular zs; inverted in the absent fs group): zs 200; inv 0.3 x the mean regular
  task (200 / 1) = 60."""
  members = [_member("a:zs", "zs", 10_000), _member("a:fs", "fs", 10_000),
             _member("a:inv", "zs", 10_000, inverted=True), _member("b:zs", "zs", 1_000),
             _member("c:inv1", "zs", 100, True), _member("c:inv2", "fs", 100, True),
             _member("d:zs", "zs", 200), _member("d:inv", "fs", 200, True)]
  got = rates.submix_rates(members, {"zs": 0.5, "fs": 0.5}, cap=4_000, inverted_rate=0.3)
  assert got == pytest.approx({"a:zs": 2_000, "a:fs": 2_000, "a:inv": 600, "b:zs": 1_000,
                               "c:inv1": 15, "c:inv2": 15, "d:zs": 200, "d:inv": 60})


def test_submix_rates_without_cap_and_empty_task():
  """No cap: the full count; a task with 0 examples gets rate 0 and is not counted as a
  regular task of its group, so its sibling takes the whole zs share."""
  members = [_member("a:zs1", "zs", 0), _member("a:zs2", "zs", 900)]
  got = rates.submix_rates(members, {"zs": 1.0}, cap=None, inverted_rate=0.3)
  assert got == {"a:zs1": 0.0, "a:zs2": 900.0}


def test_mixture_shares_renormalize_over_present_submixes():
  """Weights x:3, y:1 present (z has no rate, w weight 0): x gets 3/4 split 1:3 over its
  tasks, y 1/4."""
  shares = rates.mixture_shares(
      {"x": 3.0, "y": 1.0, "z": 2.0, "w": 0.0},
      {"x": {"t1": 1.0, "t2": 3.0}, "y": {"t3": 5.0}, "z": {"t4": 0.0}, "w": {"t5": 7.0}})
  assert shares == {"x": {"t1": 0.1875, "t2": 0.5625}, "y": {"t3": 0.25}, "z": {"t4": 0.0},
                    "w": {"t5": 0.0}}


def test_capped_rate_and_bad_count():
  assert rates.capped_rate(50_000, 30_000) == 30_000.0
  assert rates.capped_rate(7, None) == 7.0
  with pytest.raises(errors.ConfigError, match="Example count must be >= 0"):
    rates.capped_rate(-1, 10)
