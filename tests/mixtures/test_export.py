"""JSONL export: same seed same bytes, disjoint shards that add up, mixture rows that follow
hand-computed shares in an interleaved order, and a bounded number of open files."""

import collections
import gzip
import json
import math
import os
import threading
import time

import pytest
import seqio

from flan_jax import errors
from flan_jax.data import truncation
from flan_jax.mixtures import builder, export, recipe, spill as spill_lib
from tests.mixtures import hand_catalog, plain_tasks

TASK = "toy.category:zs_noopt"
FLAN2021_MIX = "test_export_flan2021"
TWO_TASK_MIX = "test_export_two"
TWO_TASKS = ("two.a:zs_noopt", "two.b:zs_noopt")
# Weights by hand under the balanced rule (hand_catalog.FLAN2021): opt10 2,500 per format, noopt10 5,000 per format,
# big 7,500 per format and 0.3 x 7,500 for inv.
HAND_WEIGHTS = {
    **{f"flan2021.opt10:{f}": 2_500 for f in hand_catalog.FOUR},
    **{f"flan2021.noopt10:{f}": 5_000 for f in ("zs_noopt", "fs_noopt")},
    **{f"flan2021.big:{f}": 7_500 for f in hand_catalog.FOUR},
    "flan2021.big:inv": 2_250,
}


@pytest.fixture(scope="module", autouse=True)
def registered():
  recipe.register()
  plain_tasks.register_text_tasks([t for ds in hand_catalog.FLAN2021 for t in ds.tasks])
  builder.register_flat_mixture(
      FLAN2021_MIX, recipe.recipe_rates("flan2022_flan2021", hand_catalog.FLAN2021,
                                        rule="balanced"))
  plain_tasks.register_text_tasks(TWO_TASKS)
  builder.register_flat_mixture(TWO_TASK_MIX, [(TWO_TASKS[0], 1.0), (TWO_TASKS[1], 3.0)])


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


def test_mixture_needs_num_examples(tmp_path):
  with pytest.raises(errors.ConfigError, match="num-examples"):
    export.export(export.ExportConfig(FLAN2021_MIX, str(tmp_path / "x.jsonl")))


def test_parse_shard():
  assert export.parse_shard("2/4") == (2, 4)
  with pytest.raises(errors.ConfigError):
    export.parse_shard("4/4")
  assert [export.shard_size(10, i, 3) for i in range(3)] == [4, 3, 3]


def _rows(tmp_path, name, file, split="train", **kw):
  cfg = export.ExportConfig(name, str(tmp_path / file), split=split, **kw)
  assert export.export(cfg, progress=False) == len(_lines(cfg.out))
  return [json.loads(x) for x in _lines(cfg.out)]


def test_mixture_rows_follow_hand_computed_shares(tmp_path):
  """3,000 rows of the flan2021-like catalog of test_recipe: each task's row count lies within
  4 binomial standard deviations of 3,000 x its share computed by hand there, and every row's
  text comes from the task it names."""
  n = 3_000
  rows = _rows(tmp_path, FLAN2021_MIX, "m.jsonl", num_examples=n, seed=1)
  assert len(rows) == n
  counts = collections.Counter(r["task"] for r in rows)
  for task, weight in HAND_WEIGHTS.items():
    share = weight / hand_catalog.FLAN2021_TOTAL
    sigma = math.sqrt(n * share * (1 - share))
    assert abs(counts[task] - n * share) <= 4 * sigma + 1, (task, counts[task], n * share)
  assert sum(counts.values()) == n and set(counts) <= set(HAND_WEIGHTS)
  assert all(r["inputs"].startswith(r["task"] + " #") for r in rows)
  assert {r["format"] for r in rows} == {"zs_opt", "fs_opt", "zs_noopt", "fs_noopt", "inv"}


def test_mixture_rows_are_interleaved_like_independent_draws(tmp_path):
  """Tasks at rates 1:3 drawn independently switch between consecutive rows with
  probability 2 x 1/4 x 3/4 = 0.375: about 750 switches in 2,000 rows, not 1 (grouped)."""
  rows = _rows(tmp_path, TWO_TASK_MIX, "m.jsonl", num_examples=2_000, seed=3)
  tasks = [r["task"] for r in rows]
  assert tasks.count(TWO_TASKS[1]) == pytest.approx(1_500, abs=4 * math.sqrt(2_000 * 3 / 16))
  switches = sum(a != b for a, b in zip(tasks, tasks[1:]))
  assert 0.375 * 1_999 * 0.85 < switches < 0.375 * 1_999 * 1.15


def test_mixture_same_seed_same_bytes_whatever_the_spill_layout(tmp_path, monkeypatch):
  kw = dict(num_examples=500, seed=7)
  a = _export_bytes(tmp_path, "a.jsonl.gz", **kw)
  assert a == _export_bytes(tmp_path, "b.jsonl.gz", **kw)
  assert a != _export_bytes(tmp_path, "c.jsonl.gz", num_examples=500, seed=8)
  monkeypatch.setattr(export, "_BUCKET_ROWS", 7)  # 72 buckets, flushed every few rows.
  monkeypatch.setattr(export, "_SPILL_BUFFER_BYTES", 100)
  assert a == _export_bytes(tmp_path, "d.jsonl.gz", **kw)
  assert sorted(p.name for p in tmp_path.iterdir()) == [
      "a.jsonl.gz", "b.jsonl.gz", "c.jsonl.gz", "d.jsonl.gz"]  # Spill files removed.


def _export_bytes(tmp_path, file, **kw):
  cfg = export.ExportConfig(FLAN2021_MIX, str(tmp_path / file), **kw)
  export.export(cfg, progress=False)
  with open(cfg.out, "rb") as f:
    return f.read()


def test_mixture_shards_add_up(tmp_path):
  parts = [_rows(tmp_path, TWO_TASK_MIX, f"s{i}.jsonl", num_examples=9, seed=4,
                 shard_index=i, num_shards=2) for i in range(2)]
  assert [len(p) for p in parts] == [5, 4]
  assert parts[0] == _rows(tmp_path, TWO_TASK_MIX, "again.jsonl", num_examples=9, seed=4,
                           shard_index=0, num_shards=2)


def test_open_files_stay_bounded_over_100_tasks(tmp_path, monkeypatch):
  """100 tasks, 400 rows: sampled every millisecond, the process never holds more than a few
  files beyond those it had before the export (the old exporter held one per task)."""
  names = plain_tasks.register_text_tasks([f"fd.t{i:03d}:zs_noopt" for i in range(100)], 8)
  if "test_fd_mix" not in seqio.MixtureRegistry.names():
    seqio.MixtureRegistry.add("test_fd_mix", [(n, 1.0) for n in names])
  monkeypatch.setattr(export, "_SPILL_BUFFER_BYTES", 2_000)  # Flush (open files) often.
  monkeypatch.setattr(export, "_BUCKET_ROWS", 16)  # 25 buckets.
  before = len(os.listdir("/proc/self/fd"))
  most, done = [before], threading.Event()

  def sample():
    while not done.is_set():
      most[0] = max(most[0], len(os.listdir("/proc/self/fd")))
      time.sleep(0.001)

  sampler = threading.Thread(target=sample, daemon=True)
  sampler.start()
  try:
    rows = _rows(tmp_path, "test_fd_mix", "fd.jsonl", num_examples=400, seed=0)
  finally:
    done.set()
    sampler.join()
  assert len(rows) == 400 and len({r["task"] for r in rows}) > 90
  assert most[0] - before <= 8, (before, most[0])


def test_spill_buckets_double_and_are_yielded_once_complete(tmp_path):
  """Buckets of 2, 4, 4 rows for 10 positions with first 2 and largest 4: [0,2) [2,6) [6,10);
  a bucket comes out only once the caller says every position below its end was added."""
  spill = spill_lib.PositionSpill(str(tmp_path), 10, bucket_rows=4, buffer_bytes=10,
                                  first_bucket_rows=2)
  assert spill.num_buckets == 3
  spill.add([7, 0, 3], [b"r7\n", b"r0\n", b"r3\n"])
  assert list(spill.ready_chunks(1)) == []  # Position 1 is not there yet.
  spill.add([1], [b"r1\n"])
  assert list(spill.ready_chunks(2)) == [(b"r0\nr1\n", 2)]
  spill.add([2, 4, 5, 9, 8, 6], [b"r2\n", b"r4\n", b"r5\n", b"r9\n", b"r8\n", b"r6\n"])
  assert list(spill.ready_chunks(6)) == [(b"r2\nr3\nr4\nr5\n", 4)]
  assert list(spill.ordered_chunks()) == [(b"r6\nr7\nr8\nr9\n", 4)]
  assert os.listdir(tmp_path) == []


def test_mixture_export_writes_its_first_rows_before_rendering_every_task(tmp_path, monkeypatch):
  """100 tasks, 400 rows: the first chunk comes out after the tasks drawn in its first rows
  were rendered, long before all 100 (the rows are checked byte for byte against other spill
  layouts by test_mixture_same_seed_same_bytes_whatever_the_spill_layout)."""
  names = plain_tasks.register_text_tasks([f"fd.t{i:03d}:zs_noopt" for i in range(100)], 8)
  if "test_fd_mix" not in seqio.MixtureRegistry.names():
    seqio.MixtureRegistry.add("test_fd_mix", [(n, 1.0) for n in names])
  rendered, rendered_at_first_chunk = [], []
  real_spill = export._spill_task_rows

  def counting_spill(task, *args):
    rendered.append(task.name)
    return real_spill(task, *args)

  monkeypatch.setattr(export, "_spill_task_rows", counting_spill)
  cfg = export.ExportConfig("test_fd_mix", str(tmp_path / "x.jsonl"), num_examples=400, seed=0)
  plan = export.plan_rows(seqio.get_mixture_or_task("test_fd_mix"), cfg)
  lines = []
  for chunk, _ in export.mixture_chunks(plan, cfg, str(tmp_path), export._NoBar()):
    rendered_at_first_chunk = rendered_at_first_chunk or list(rendered)
    lines.extend(chunk.splitlines())
  first_rows = [json.loads(x)["task"] for x in lines[:export._FIRST_BUCKET_ROWS]]
  assert set(rendered_at_first_chunk) == set(first_rows)  # Those tasks and no others.
  assert len(rendered_at_first_chunk) <= 32 < len(set(rendered)) == len(rendered)
  rows = [json.loads(x) for x in lines]
  assert len(rows) == 400 and all(r["inputs"].startswith(r["task"] + " #") for r in rows)
