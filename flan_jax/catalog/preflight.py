"""Offline check that the data a task, mixture or collection needs is in place.

One row per dataset: prepared, needs a download (with the exact command) or needs a manual
step (with the steps); every row, never stopping at the first. TFDS: the builder/config/
version's dataset_info.json under the data dir; Hugging Face: a local copy or the HF cache;
LOCAL_DIR: FLAN_JAX_<KEY>_DIR set and the spec's files in it. Nothing imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import glob
import os
from typing import Iterable, Mapping

from flan_jax.catalog import spec as cs

PREPARED = "prepared"
TFDS_INSTALL = "pip install -e '.[data]'"  # What every printed `tfds build` needs.
NEEDS_DOWNLOAD = "needs download"
NEEDS_MANUAL = "needs manual step"


@dataclasses.dataclass(frozen=True)
class DatasetStatus:
  """Whether one dataset's data is in place, and if not, how to get it."""
  dataset: str      # "{collection}.{name}" (or a SeqIO task name outside the catalog)
  kind: str         # catalog_spec kind
  source: str       # the TFDS name, HF dataset or local folder key
  state: str        # PREPARED / NEEDS_DOWNLOAD / NEEDS_MANUAL
  detail: str       # where it looked and what it found
  how: str          # what to run or do ("" when prepared)
  num_tasks: int
  # The spec's train count is a stand-in (e.g. NIv2 before its files are read): rates use it.
  count_estimated: bool = False

  @property
  def ok(self) -> bool:
    return self.state == PREPARED

  def to_json(self) -> dict:
    return dataclasses.asdict(self)


def tfds_data_dir(data_dir: str | None = None) -> str:
  """The TFDS data dir: the argument, else $TFDS_DATA_DIR, else ~/tensorflow_datasets."""
  return os.path.expanduser(data_dir or os.environ.get("TFDS_DATA_DIR")
                            or "~/tensorflow_datasets")


def parse_tfds_name(name: str) -> tuple[str, str | None, str | None]:
  """'builder/config:version' -> (builder, config, version); config and version optional."""
  base, _, version = name.partition(":")
  builder, _, config = base.partition("/")
  return builder, config or None, version or None


def tfds_prepared(name: str, data_dir: str) -> tuple[bool, str]:
  """(prepared?, the folder looked at): its dataset_info.json exists (any version if none)."""
  builder, config, version = parse_tfds_name(name)
  folder = os.path.join(data_dir, builder, *([config] if config else []))
  if version:
    folder = os.path.join(folder, version)
    return os.path.isfile(os.path.join(folder, "dataset_info.json")), folder
  return bool(glob.glob(os.path.join(folder, "*", "dataset_info.json"))), folder


@functools.lru_cache(maxsize=4096)
def _listdir(folder: str) -> tuple[str, ...]:
  try:
    return tuple(os.listdir(folder))
  except OSError:
    return ()


def missing_files(root: str, patterns: Iterable[str]) -> list[str]:
  """The patterns (relative to root) that match no file; a folder is listed once. A pattern
  may list alternatives separated by `|` (one layout or another): any of them will do."""
  return [p for p in patterns if not any(_matches(root, alt) for alt in p.split("|"))]


def _matches(root: str, pattern: str) -> bool:
  folder, base = os.path.split(pattern)
  if glob.has_magic(folder):
    return bool(glob.glob(os.path.join(root, pattern)))
  return bool(fnmatch.filter(_listdir(os.path.join(root, folder)), base))


def _local_dir(key: str, files: tuple[str, ...], environ: Mapping[str, str]
               ) -> tuple[bool, str, str]:
  """(complete?, detail, what is wrong) for FLAN_JAX_<KEY>_DIR and its files."""
  var = cs.local_dir_variable(key)
  folder = environ.get(var)
  if not folder:
    return False, f"${var} is not set", f"set {var} to a folder" + (
        f" holding {', '.join(files)}" if files else "")
  if not os.path.isdir(folder):
    return False, f"${var}={folder} is not a folder", f"point {var} at an existing folder"
  absent = missing_files(folder, files)
  if absent:
    return False, f"${var}={folder} lacks {', '.join(absent[:3])}", \
        f"put files matching {', '.join(absent[:3])} in {folder}"
  return True, f"${var}={folder}", ""


def _hf_cached(name: str, environ: Mapping[str, str]) -> tuple[bool, str]:
  """Whether the HF datasets cache or hub cache holds `repo[:config]`."""
  repo, _, config = name.partition(":")
  home = os.path.expanduser(environ.get("HF_HOME", "~/.cache/huggingface"))
  datasets_cache = os.path.expanduser(environ.get("HF_DATASETS_CACHE",
                                                  os.path.join(home, "datasets")))
  hub_cache = os.path.expanduser(environ.get("HF_HUB_CACHE", os.path.join(home, "hub")))
  local = os.path.join(datasets_cache, repo.replace("/", "___"), *([config] if config else []))
  if os.path.isdir(local):
    return True, local
  hub = os.path.join(hub_cache, "datasets--" + repo.replace("/", "--"))
  if os.path.isdir(hub) and (not config or glob.glob(os.path.join(hub, "snapshots", "*", config))
                             or glob.glob(os.path.join(hub, "snapshots", "*", "*", config))):
    return True, hub
  return False, f"not in {datasets_cache} or {hub_cache}"


def check_spec(spec: cs.DatasetSpec, data_dir: str | None = None,
               environ: Mapping[str, str] | None = None) -> DatasetStatus:
  """The status of one catalog dataset."""
  env = os.environ if environ is None else environ
  req = spec.data
  state, detail, how = PREPARED, "", ""
  missing_state = NEEDS_MANUAL if req.manual else NEEDS_DOWNLOAD
  if req.kind == cs.TFDS:
    directory = tfds_data_dir(data_dir)
    ok, detail = tfds_prepared(req.name, directory)
    if not ok:
      build = f"tfds build {req.name} --data_dir={directory}"
      if req.manual:
        build += " --manual_dir=MANUAL_DIR"
      state, detail = missing_state, f"no dataset_info.json in {detail}"
      steps = req.how_to_get.strip()
      how = f"{steps} Then run: `{build}`" if steps else f"Run: `{build}`"
  elif req.kind == cs.HF:
    ok, detail = False, ""
    if req.local_key:
      ok, detail, _ = _local_dir(req.local_key, req.files, env)
    if not ok:
      ok, detail = _hf_cached(req.name, env)
    if not ok:
      repo, _, config = req.name.partition(":")
      load = f"load_dataset({repo!r}" + (f", {config!r})" if config else ")")
      local = (f", or set {cs.local_dir_variable(req.local_key)} to a local copy"
               if req.local_key else "")
      state = missing_state
      how = req.how_to_get or (f"pip install -e '.[hf]' and run "
                               f"`python -c \"import datasets; datasets.{load}\"`{local}")
  elif req.kind == cs.LOCAL_DIR:
    ok, detail, fix = _local_dir(req.name, req.files, env)
    if not ok:
      state = missing_state
      how = req.how_to_get or f"{fix}."  # The detail already names what is missing.
  else:
    detail = "generated by flan_jax"
  return DatasetStatus(f"{spec.collection}.{spec.name}", req.kind, req.name, state, detail,
                       how, len(spec.tasks),
                       count_estimated=spec.num_train_examples_estimated)


def check(specs: Iterable[cs.DatasetSpec], data_dir: str | None = None,
          environ: Mapping[str, str] | None = None) -> list[DatasetStatus]:
  """One status per dataset spec, in order."""
  return [check_spec(s, data_dir, environ) for s in specs]


def check_name(name: str, data_dir: str | None = None,
               environ: Mapping[str, str] | None = None) -> list[DatasetStatus]:
  """Statuses of every dataset a task, mixture or collection needs.

  Catalog names are checked from their specs alone; names registered by plain SeqIO
  modules are checked through their tasks' TFDS sources.
  """
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  specs = catalog.datasets_for(name)
  if specs or catalog.kind_of(name) != "seqio":
    return check(specs, data_dir, environ)
  return _check_seqio(name, data_dir)


def _check_seqio(name: str, data_dir: str | None) -> list[DatasetStatus]:
  """Rows for the TFDS datasets of a task or mixture registered outside the catalog."""
  import seqio  # pylint: disable=g-import-not-at-top
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  provider = catalog.get_mixture_or_task(name)
  tasks = provider.tasks if isinstance(provider, seqio.Mixture) else [provider]
  found: dict[tuple[str, str], int] = {}
  for task in tasks:
    if isinstance(task.source, seqio.TfdsDataSource):
      loader = task.source.tfds_dataset
      key = (loader.name, tfds_data_dir(data_dir or loader.data_dir))
      found[key] = found.get(key, 0) + 1
  rows = []
  for (tfds_name, directory), count in sorted(found.items()):
    ok, folder = tfds_prepared(tfds_name, directory)
    rows.append(DatasetStatus(
        tfds_name, cs.TFDS, tfds_name, PREPARED if ok else NEEDS_DOWNLOAD,
        folder if ok else f"no dataset_info.json in {folder}",
        "" if ok else f"Run: `tfds build {tfds_name} --data_dir={directory}`", count))
  return rows


def format_rows(rows: Iterable[DatasetStatus]) -> str:
  """A table: dataset, state, source, then how to get it on the next line when missing."""
  lines = []
  for r in rows:
    estimate = "\ttrain count estimated" if r.count_estimated else ""
    lines.append(f"{r.dataset}\t{r.state}\t{r.kind}:{r.source}\t{r.num_tasks} task(s){estimate}")
    if not r.ok:
      lines.append(f"    {r.detail}. {r.how}")
  return "\n".join(lines)


def summary(rows: list[DatasetStatus]) -> str:
  counts = {s: sum(r.state == s for r in rows) for s in (PREPARED, NEEDS_DOWNLOAD, NEEDS_MANUAL)}
  tfds_missing = any(r.kind == cs.TFDS and not r.ok for r in rows)
  tfds_note = (f" The `tfds build` commands need `{TFDS_INSTALL}` (the tfds command line, "
               "Apache Beam for Beam-based builders, the Hub for community ones)."
               if tfds_missing else "")
  estimated = sum(r.count_estimated for r in rows)
  note = (f" {estimated} train count(s) are estimates until their files are in place (rates "
          "use them as they are)." if estimated else "")
  return (f"{len(rows)} dataset(s): {counts[PREPARED]} prepared, {counts[NEEDS_DOWNLOAD]} need "
          f"a download, {counts[NEEDS_MANUAL]} need a manual step.{tfds_note}{note}")


def resolve_available(name: str, render_seed: int | None = None, skip_missing: bool = False,
                      data_dir: str | None = None):
  """The task or mixture `name` if all its data is in place. Otherwise raises ConfigError
  listing what is missing and how to get it, or with skip_missing registers `name` without
  those datasets (rates renormalized) and logs what it skipped."""
  import logging  # pylint: disable=g-import-not-at-top
  from flan_jax import errors  # pylint: disable=g-import-not-at-top
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  rows = check_name(name, data_dir)
  missing = [r for r in rows if not r.ok]
  if not missing:
    return catalog.get_mixture_or_task(name, render_seed=render_seed)
  if not skip_missing:
    raise errors.ConfigError(
        f"{len(missing)} of the {len(rows)} dataset(s) {name!r} needs are not in place:\n"
        f"{format_rows(missing)}\nGet them as said above (`flan-jax tasks preflight {name}` "
        "checks again), or pass --skip_missing (gin: TrainConfig.skip_missing=True) to train "
        "on the others.")
  mixture, dropped = catalog.register_without(name, _tasks_of(name, missing), render_seed)
  logging.warning("Skipping %d dataset(s) without data (%d task(s)): %s. %r now mixes its "
                  "other %d task(s), rates renormalized.", len(missing), len(dropped),
                  ", ".join(r.dataset for r in missing), name, len(mixture.tasks))
  return mixture


def _tasks_of(name: str, rows: list[DatasetStatus]) -> set[str]:
  """The task names behind the given rows (catalog datasets, or TFDS sources of SeqIO tasks)."""
  from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
  wanted = {r.dataset for r in rows}
  tasks = {t for s in catalog.datasets_for(name) if f"{s.collection}.{s.name}" in wanted
           for t in s.tasks}
  if tasks or catalog.kind_of(name) != "seqio":
    return tasks
  import seqio  # pylint: disable=g-import-not-at-top
  provider = catalog.get_mixture_or_task(name)
  members = provider.tasks if isinstance(provider, seqio.Mixture) else [provider]
  return {t.name for t in members if isinstance(t.source, seqio.TfdsDataSource)
          and t.source.tfds_dataset.name in wanted}
