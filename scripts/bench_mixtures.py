"""Mixture planning and export at the Flan 2022 collection's real size, on a synthetic catalog.

The catalog has the real shape (71 flan2021 and 193 t0 datasets with 4-7 formats, 1,551 NIv2
tasks x 2, 9 CoT x 3, 2 dialog x 3; `--scale K` repeats every collection K times) and tiny
generated data (plain SeqIO tasks of 20 text records each). Printed side by side:

  stats   `mixtures stats flan2022` equivalent: a fresh process importing the recipe and
          planning every task's rate and share from the specs, vs the old path (nested seqio
          mixtures, `Mixture.get_rate` per task; timed on `--baseline-tasks` tasks and
          extrapolated, since the full run takes minutes).
  export  N rows of the flat flan2022 mixture in a child process: seconds to the first row
          rendered and to the first output byte, rows/s, peak RSS and most open files
          (sampled every 0.1 s). `--export-seconds S` stops it after S seconds and reports
          the rate so far.

  python scripts/bench_mixtures.py --export-rows 100000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

NUM_RECORDS = 20
FOUR = ("zs_opt", "fs_opt", "zs_noopt", "fs_noopt")
SEVEN = FOUR + ("fsmix_opt", "fsmix_noopt", "inv")


def synthetic_specs(scale: int = 1):
  """DatasetSpecs of the collection's real shape with made-up sizes (deterministic)."""
  from flan_jax.catalog import spec as catalog_spec  # pylint: disable=g-import-not-at-top

  def ds(collection, name, formats, n, options):
    return catalog_spec.DatasetSpec(
        collection, name, tuple(f"{collection}.{name}:{f}" for f in formats),
        catalog_spec.DataRequirement(catalog_spec.GENERATED, name), num_train_examples=n,
        has_options=options)

  out = []
  for k in range(scale):
    for i in range(71):
      options = i % 3 != 0
      fmts = SEVEN if options else ("zs_noopt", "fs_noopt", "fsmix_noopt", "inv")
      out.append(ds("flan2021", f"d{k}_{i:03d}", fmts, 1_000 + 997 * i, options))
    for i in range(193):
      options = i % 2 == 0
      out.append(ds("t0", f"d{k}_{i:03d}", FOUR if options else ("zs_noopt", "fs_noopt"),
                    500 + 331 * i, options))
    for i in range(1551):
      out.append(ds("niv2", f"task{k}_{i:04d}", ("zs_noopt", "fs_noopt"), 100 + 13 * i, False))
    for i in range(9):
      out.append(ds("cot", f"d{k}_{i}", ("cot", "fs_cot", "cot_inv"), 2_000 + 1_000 * i, False))
    for i in range(2):
      out.append(ds("dialog", f"d{k}_{i}", ("zs_noopt", "fs_noopt", "inv"), 300_000, False))
  return out


def _stats_child(scale: int) -> None:
  """What `mixtures stats flan2022` does after looking up the specs: plan and format."""
  start = time.perf_counter()
  from flan_jax.mixtures import rates, recipe  # pylint: disable=g-import-not-at-top
  specs = synthetic_specs(scale)
  st = rates.plan_stats(recipe.recipe_plan("flan2022", specs))
  lines = [f"{t}  {st.num_examples[t]}  {st.rates[t]:.4g}  {100 * s:.4f}%"
           for t, s in sorted(st.shares.items(), key=lambda kv: (-kv[1], kv[0]))]
  print(json.dumps({"tasks": len(lines), "seconds_in_process": time.perf_counter() - start,
                    "tensorflow_imported": "tensorflow" in sys.modules}))


def bench_stats(scale: int) -> dict:
  start = time.perf_counter()
  out = subprocess.run([sys.executable, __file__, "--child", "stats", "--scale", str(scale)],
                       capture_output=True, text=True, check=True)
  result = json.loads(out.stdout.strip().splitlines()[-1])
  result["seconds_wall"] = time.perf_counter() - start
  return result


def register_synthetic_tasks(specs) -> list[str]:
  """Plain SeqIO tasks, NUM_RECORDS text records each, for every task of `specs`."""
  import seqio  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  vocab = seqio.PassThroughVocabulary(size=8)
  features = {"inputs": seqio.Feature(vocab), "targets": seqio.Feature(vocab)}
  names = []
  for spec in specs:
    for name in spec.tasks:
      names.append(name)
      if name in seqio.TaskRegistry.names():
        continue

      def make(split, shuffle_files, seed=None, _name=name):
        del split, shuffle_files, seed
        return tf.data.Dataset.from_tensor_slices({
            "inputs_pretokenized": [f"{_name} record {i}" for i in range(NUM_RECORDS)],
            "targets_pretokenized": [f"answer {i}" for i in range(NUM_RECORDS)],
            "inputs": [[1, 2]] * NUM_RECORDS, "targets": [[3]] * NUM_RECORDS})

      seqio.TaskRegistry.add(
          name, source=seqio.FunctionDataSource(make, splits=("train",),
                                                num_input_examples={"train": NUM_RECORDS}),
          preprocessors=[], output_features=features, shuffle_buffer_size=1000)
  return names


def bench_baseline(specs, num_tasks: int) -> dict:
  """The old path: nested seqio mixtures (mixture -> submix -> format group -> tasks) and
  seqio's `get_rate` per task, timed on `num_tasks` tasks."""
  import seqio  # pylint: disable=g-import-not-at-top
  from flan_jax.mixtures import builder, recipe  # pylint: disable=g-import-not-at-top
  names = register_synthetic_tasks(specs)
  counts = {t: ds.num_train_examples for ds in specs for t in ds.tasks}
  top = []
  for sub in recipe.FLAN_2022.submixes:
    groups: dict[str, list] = {}
    for task in names:
      fmt = task.rsplit(":", 1)[1]
      if not task.startswith(sub.name + ".") or fmt not in sub.formats:
        continue
      group = builder.format_group(fmt, sub.format_split)
      rate = min(counts[task], sub.cap) * (0.3 if builder.is_inverted(fmt) else 1.0)
      groups.setdefault(group, []).append((task, rate))
    for group, members in groups.items():
      seqio.MixtureRegistry.add(f"old.{sub.name}.{group}", members)
    seqio.MixtureRegistry.add(f"old.{sub.name}", [(f"old.{sub.name}.{g}", sub.format_split[g])
                                                  for g in groups])
    top.append((f"old.{sub.name}", sub.weight))
  seqio.MixtureRegistry.add("old", top)
  mixture = seqio.MixtureRegistry.get("old")
  tasks = mixture.tasks
  step = max(1, len(tasks) // num_tasks)
  sample = tasks[::step][:num_tasks]
  start = time.perf_counter()
  for task in sample:
    mixture.get_rate(task)
  per_task = (time.perf_counter() - start) / len(sample)
  return {"tasks": len(tasks), "timed_tasks": len(sample), "ms_per_task": 1000 * per_task,
          "estimated_seconds_all_tasks": per_task * len(tasks)}


class _ProgressFile:
  """A progress bar stand-in that writes 'rows seconds' to a file at most once a second."""

  def __init__(self, path: str):
    self._path, self._rows, self._start, self._last = path, 0, time.perf_counter(), 0.0

  def update(self, n: int) -> None:
    self._rows += n
    now = time.perf_counter() - self._start
    if now - self._last >= 1.0 or self._rows == n:
      self._last = now
      with open(self._path + ".tmp", "w", encoding="utf-8") as f:
        f.write(f"{self._rows} {now:.3f}\n")
      os.replace(self._path + ".tmp", self._path)


def _export_child(scale: int, rows: int, out: str, progress: str) -> None:
  """Registers the synthetic tasks and the flat flan2022 mixture, then exports."""
  from flan_jax.mixtures import builder, export, recipe  # pylint: disable=g-import-not-at-top
  import seqio  # pylint: disable=g-import-not-at-top
  specs = synthetic_specs(scale)
  register_synthetic_tasks(specs)
  builder.register_flat_mixture("bench_flan2022", recipe.recipe_rates("flan2022", specs))
  with open(progress + ".ready", "w", encoding="utf-8") as f:
    f.write(f"{time.time()}\n")
  cfg = export.ExportConfig("bench_flan2022", out, num_examples=rows, seed=0)
  plan = export.plan_rows(seqio.MixtureRegistry.get("bench_flan2022"), cfg)
  with tempfile.TemporaryDirectory(dir=os.path.dirname(out)) as spill_dir, open(out, "wb") as f:
    for chunk, _ in export._chunks(plan, cfg, spill_dir, _ProgressFile(progress)):  # pylint: disable=protected-access
      f.write(chunk)


def _proc_status(pid: int) -> dict[str, int]:
  out = {}
  with open(f"/proc/{pid}/status", encoding="ascii") as f:
    for line in f:
      if line.startswith(("VmRSS:", "VmHWM:")):
        out[line.split(":")[0]] = int(line.split()[1]) * 1024
  return out


def bench_export(scale: int, rows: int, seconds: float | None) -> dict:
  with tempfile.TemporaryDirectory() as tmp:
    out, progress = os.path.join(tmp, "rows.jsonl"), os.path.join(tmp, "progress")
    child = subprocess.Popen([sys.executable, __file__, "--child", "export", "--scale",
                              str(scale), "--export-rows", str(rows), "--out", out,
                              "--progress", progress])
    most_fds, peak, ready_at, first_row, first_out, stopped = 0, 0, None, None, None, False
    while child.poll() is None:
      try:
        most_fds = max(most_fds, len(os.listdir(f"/proc/{child.pid}/fd")))
        peak = max(peak, _proc_status(child.pid).get("VmHWM", 0))
      except OSError:
        pass
      now = time.time()
      if ready_at is None and os.path.exists(progress + ".ready"):
        ready_at = now
      if ready_at is not None and first_row is None and os.path.exists(progress):
        first_row = now - ready_at
      if ready_at is not None and first_out is None and os.path.exists(out) \
          and os.path.getsize(out) > 0:
        first_out = now - ready_at
      if seconds is not None and ready_at is not None and now - ready_at > seconds:
        child.terminate()
        stopped = True
        break
      time.sleep(0.1)
    child.wait()
    done_rows, done_seconds = 0, 0.0
    if os.path.exists(progress):
      with open(progress, encoding="utf-8") as f:
        done_rows, done_seconds = f.read().split()
    written = 0
    if os.path.exists(out):
      with open(out, "rb") as f:
        written = sum(1 for _ in f)
  done_rows, done_seconds = int(done_rows), float(done_seconds)
  return {"rows_asked": rows, "rows_rendered": done_rows, "rows_written": written,
          "stopped_after_s": seconds if stopped else None,
          "seconds_to_first_row": first_row, "seconds_to_first_output_byte": first_out,
          "rendered_rows_per_s": done_rows / done_seconds if done_seconds else None,
          "peak_rss_mib": peak / 2**20, "most_open_files": most_fds}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("--scale", type=int, default=1, help="repeat every collection K times")
  parser.add_argument("--baseline-tasks", type=int, default=200,
                      help="tasks timed on the old get_rate path (0: skip)")
  parser.add_argument("--export-rows", type=int, default=100_000, help="0: skip the export")
  parser.add_argument("--export-seconds", type=float, default=None,
                      help="stop the export after this many seconds (after registration)")
  parser.add_argument("--child", choices=("stats", "export"), help=argparse.SUPPRESS)
  parser.add_argument("--out", help=argparse.SUPPRESS)
  parser.add_argument("--progress", help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.child == "stats":
    return _stats_child(args.scale)
  if args.child == "export":
    return _export_child(args.scale, args.export_rows, args.out, args.progress)
  specs = synthetic_specs(args.scale)
  print(f"synthetic catalog: {len(specs)} datasets, {sum(len(s.tasks) for s in specs)} tasks")
  new = bench_stats(args.scale)
  print(f"stats flan2022, new (fresh process, specs -> plan, no seqio): {new['seconds_wall']:.2f} s "
        f"wall, {new['seconds_in_process']:.2f} s after start, {new['tasks']} tasks, "
        f"tensorflow imported: {new['tensorflow_imported']}")
  if args.baseline_tasks:
    old = bench_baseline(specs, args.baseline_tasks)
    print(f"stats flan2022, old (nested seqio mixtures, get_rate per task): "
          f"{old['ms_per_task']:.1f} ms/task on {old['timed_tasks']} tasks -> about "
          f"{old['estimated_seconds_all_tasks']:.0f} s for all {old['tasks']} tasks")
  if args.export_rows:
    ex = bench_export(args.scale, args.export_rows, args.export_seconds)
    print("export flan2022: " + ", ".join(
        f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in ex.items()))


if __name__ == "__main__":
  main()
