"""Times the catalog at Flan 2022's size on synthetic collection modules of the real shape.

Writes five collection modules (71 flan2021-like TFDS datasets in 10 formats, 193 t0-like HF
datasets in 4, 1,551 niv2-like local-folder datasets in 3, 9 CoT datasets in 4, 2 dialog in
4: 1,826 datasets, ~6,300 tasks) to a temporary folder, then measures, each in a fresh
process: `flan-jax tasks list`, `tasks list --count --json` (wall time, Python start
included) and registering every dataset (after imports) of the built-in catalog (the real
collections) alone and together with the synthetic ones (twice the collection's size).
Run: python scripts/bench_catalog.py
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# collection -> (datasets, kind, formats, has options/rationale)
SHAPE = {
    "syn_flan2021": (71, "TFDS", ("zs_opt", "zs_noopt", "fs_opt", "fs_noopt", "fsmix_opt",
                                  "fsmix_noopt", "inv"), "options"),
    "syn_t0": (193, "HF", ("zs_opt", "zs_noopt", "fs_opt", "fs_noopt"), "options"),
    "syn_niv2": (1551, "LOCAL_DIR", ("zs_noopt", "fs_noopt", "inv"), ""),
    "syn_cot": (9, "LOCAL_DIR", ("cot", "fs_cot", "cot_inv", "zs_noopt"), "rationale"),
    "syn_dialog": (2, "TFDS", ("zs_noopt", "fs_noopt", "inv", "fsmix_noopt"), ""),
}

MODULE = textwrap.dedent('''
    """Synthetic collection {collection}: {n} datasets, registration reads no data."""
    from flan_jax.catalog import spec as cs

    COLLECTION = {collection!r}
    FORMATS = {formats!r}
    _KIND = {kind!r}

    def _data(i):
      if _KIND == "TFDS":
        return cs.DataRequirement(cs.TFDS, f"{collection}_{{i}}/default:1.0.0")
      if _KIND == "HF":
        return cs.DataRequirement(cs.HF, f"synthetic/{collection}:subset_{{i}}")
      return cs.DataRequirement(cs.LOCAL_DIR, "SYNTHETIC", files=(f"tasks/task{{i}}_*.json",))

    def datasets():
      return [cs.DatasetSpec(COLLECTION, f"d{{i}}",
                             tuple(f"{{COLLECTION}}.d{{i}}:{{f}}" for f in FORMATS), _data(i),
                             num_train_examples=1000 + i, has_options={extra!r} == "options")
              for i in range({n})]

    _FEATURES = []
    _TEMPLATES = []

    def _features():
      if not _FEATURES:
        import seqio
        vocab = seqio.PassThroughVocabulary(256)
        _FEATURES.append({{k: seqio.Feature(vocab, add_eos=True) for k in ("inputs", "targets")}})
      return _FEATURES[0]

    def register_dataset(spec, *, render_seed):
      import seqio
      from flan_jax.data import registration
      from flan_jax.data.templates import Template, TemplateSet
      extra = {extra!r}
      if not _TEMPLATES:  # One set of wordings per collection, as real clusters share theirs.
        _TEMPLATES.append((tuple(Template(f"t{{j}}", "{{question}} #" + str(j))
                                 for j in range(10)),
                           (Template("back", "{{answer}}?", "{{question}}"),)))
      templates, inverted = _TEMPLATES[0]
      ts = TemplateSet(
          name=spec.name, fields=("question", "answer") + ((extra,) if extra else ()),
          options_field="options" if extra == "options" else None,
          rationale_field="rationale" if extra == "rationale" else None,
          templates=templates, inverted=inverted)
      def read(split, shuffle_files):
        raise AssertionError("registration reads no data")
      source = seqio.FunctionDataSource(read, splits=("train", "validation"))
      return registration.register_template_tasks(
          COLLECTION, ts, source, _features(), prompt_formats=FORMATS, seed=render_seed)
''')

REGISTER_ALL = textwrap.dedent('''
    import sys, time
    import seqio, tensorflow
    from flan_jax.data import registration
    from flan_jax.catalog import lookup as catalog
    catalog.add_task_modules(sys.argv[1:])
    start, cpu = time.perf_counter(), time.process_time()
    names = catalog.register_catalog()
    print(len(names), time.perf_counter() - start, time.process_time() - cpu)
''')


def write_modules(folder: str) -> list[str]:
  for collection, (n, kind, formats, extra) in SHAPE.items():
    with open(os.path.join(folder, f"{collection}.py"), "w") as f:
      f.write(MODULE.format(collection=collection, n=n, kind=kind, formats=formats, extra=extra))
  return list(SHAPE)


def _run(argv: list[str], env: dict) -> tuple[str, str]:
  """(wall and CPU seconds of a fresh process, its stdout); CPU time is what a busy machine
  does not inflate."""
  start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
  out = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, check=True)
  after = resource.getrusage(resource.RUSAGE_CHILDREN)
  cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
  return f"{time.perf_counter() - start:.2f} s wall, {cpu:.2f} s CPU", out.stdout


def main() -> None:
  with tempfile.TemporaryDirectory() as folder:
    modules = write_modules(folder)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO, folder]), TF_CPP_MIN_LOG_LEVEL="3")
    flags = [a for m in modules for a in ("--task_module", m)]
    cli = [sys.executable, "-m", "flan_jax.cli.main", "tasks", "list"]
    took, out = _run(cli + flags, env)
    print(f"tasks list: {len(out.splitlines())} names in {took} (fresh process)")
    took, out = _run(cli + ["--count", "--json"] + flags, env)
    print(f"tasks list --count --json: {out.strip()} in {took} (fresh process)")
    for label, extra in (("the built-in catalog", []),
                         ("the built-in catalog + the synthetic collections", modules)):
      _, out = _run([sys.executable, "-c", REGISTER_ALL] + extra, env)
      count, wall, cpu = out.split()
      print(f"register every dataset of {label}: {count} tasks and mixtures in "
            f"{float(wall):.2f} s wall, {float(cpu):.2f} s CPU (after importing TensorFlow and "
            "SeqIO)")
    print(f"(load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
  main()
