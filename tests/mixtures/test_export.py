"""JSONL export: same seed same bytes, disjoint shards that add up, mixture rows drawn
with the rates and rendered one task pipeline at a time."""

import gzip
import json

import numpy as np
import pytest
import seqio

from flan_jax import errors
from flan_jax.mixtures import export, recipe, truncation

TASK = "toy.category:zs_noopt"


@pytest.fixture(scope="module", autouse=True)
def registered():
  recipe.register()
  if "test_export_mix" not in seqio.MixtureRegistry.names():
    seqio.MixtureRegistry.add("test_export_mix", [(TASK, 1.0), ("toy.entailment:zs_opt", 3.0)])


def _export(tmp_path, name, file, **kw):
  cfg = export.ExportConfig(name, str(tmp_path / file), split="validation", **kw)
  written = export.export(cfg, progress=False)
  assert written == len(_lines(cfg.out))
  return cfg.out


def _lines(path):
  opener = gzip.open if path.endswith(".gz") else open
  with opener(path, "rt", encoding="utf-8") as f:
    return f.read().splitlines()


def test_same_seed_same_bytes(tmp_path):
  a = _export(tmp_path, TASK, "a.jsonl.gz", num_examples=30, seed=3)
  b = _export(tmp_path, TASK, "b.jsonl.gz", num_examples=30, seed=3)
  c = _export(tmp_path, TASK, "c.jsonl.gz", num_examples=30, seed=4)
  assert open(a, "rb").read() == open(b, "rb").read()
  assert _lines(a) != _lines(c)
  row = json.loads(_lines(a)[0])
  assert list(row) == list(export.ROW_KEYS)
  assert row["task"] == TASK and row["format"] == "zs_noopt" and row["template"]


def test_shards_are_disjoint_and_add_up(tmp_path):
  name = truncation.truncated_task(TASK, 12)
  whole = _lines(_export(tmp_path, name, "all.jsonl", seed=5))
  assert len(whole) == 12  # A task without --num-examples: one epoch.
  parts = [_lines(_export(tmp_path, name, f"s{i}.jsonl", seed=5, shard_index=i, num_shards=3))
           for i in range(3)]
  assert sum(len(p) for p in parts) == 12
  assert sorted(sum(parts, [])) == sorted(whole)  # Disjoint, and together the whole.


def test_more_rows_than_examples_repeats(tmp_path):
  rows = _lines(_export(tmp_path, truncation.truncated_task(TASK, 5), "r.jsonl",
                        num_examples=12, seed=0))
  assert len(rows) == 12 and len(set(rows)) == 5


def test_mixture_rows_and_count(tmp_path):
  path = _export(tmp_path, "test_export_mix", "m.jsonl", num_examples=40, seed=1)
  again = _export(tmp_path, "test_export_mix", "m2.jsonl", num_examples=40, seed=1)
  assert open(path, "rb").read() == open(again, "rb").read()
  rows = [json.loads(x) for x in _lines(path)]
  assert len(rows) == 40
  assert {r["task"] for r in rows} <= {TASK, "toy.entailment:zs_opt"}
  assert {r["format"] for r in rows} <= {"zs_noopt", "zs_opt"}


def test_mixture_needs_num_examples(tmp_path):
  with pytest.raises(errors.ConfigError, match="num-examples"):
    export.export(export.ExportConfig("test_export_mix", str(tmp_path / "x.jsonl")))


def test_parse_shard():
  assert export.parse_shard("2/4") == (2, 4)
  with pytest.raises(errors.ConfigError):
    export.parse_shard("4/4")
  assert [export.shard_size(10, i, 3) for i in range(3)] == [4, 3, 3]


def test_task_draws_follow_rates_and_do_not_depend_on_chunking(monkeypatch):
  ids = np.concatenate(list(export.task_draws([1.0, 0.0, 3.0], 20_000, seed=7)))
  assert len(ids) == 20_000 and 1 not in ids  # A zero rate is never drawn.
  assert np.mean(ids == 2) == pytest.approx(0.75, abs=0.02)
  monkeypatch.setattr(export, "_DRAW_CHUNK", 999)
  again = np.concatenate(list(export.task_draws([1.0, 0.0, 3.0], 20_000, seed=7)))
  np.testing.assert_array_equal(ids, again)


def test_mixture_builds_one_task_pipeline_at_a_time(tmp_path, monkeypatch):
  inner, live, most = export._task_chunks, [0], [0]

  def counted(*args, **kwargs):
    live[0] += 1
    most[0] = max(most[0], live[0])
    try:
      yield from inner(*args, **kwargs)
    finally:
      live[0] -= 1

  monkeypatch.setattr(export, "_task_chunks", counted)
  out = _export(tmp_path, "test_export_mix", "m.jsonl.gz", num_examples=50, seed=2)
  assert most[0] == 1 and live[0] == 0
  assert [p.name for p in tmp_path.iterdir()] == ["m.jsonl.gz"]  # Spill files removed.
  rows = [json.loads(x) for x in _lines(out)]
  seed = export._sample_seed(export.ExportConfig("test_export_mix", out, seed=2))
  draws = np.concatenate(list(export.task_draws([1.0, 3.0], 50, seed)))
  assert [r["task"] for r in rows] == [[TASK, "toy.entailment:zs_opt"][i] for i in draws]


def test_mixture_shards_add_up_and_iter_rows_matches_export(tmp_path):
  rows = [json.loads(x) for x in _lines(_export(tmp_path, "test_export_mix", "all.jsonl",
                                                num_examples=9, seed=4, num_shards=2))]
  assert len(rows) == 5
  cfg = export.ExportConfig("test_export_mix", "unused", split="validation", num_examples=9,
                            seed=4, num_shards=2)
  assert list(export.iter_rows(seqio.MixtureRegistry.get("test_export_mix"), cfg)) == rows
