"""The task catalog: finds names in collection modules and registers only what a name needs.

Collection modules follow `catalog_spec`'s contract (a module with only the older eager
`register()` hook still works: it runs when the module is first read). Listing and counting
read their `datasets()` alone (no TensorFlow, no SeqIO); `get_mixture_or_task(name)` registers the
datasets the name needs (a task's dataset, a mixture's member datasets, recursively) with
an explicit render seed, and returns the SeqIO object. User modules (`--task_module`,
gin `MIXTURE_OR_TASK_MODULE`) either follow the contract or register SeqIO tasks on import.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import os
import sys
from typing import Any, Iterable

from flan_jax import errors
from flan_jax.catalog import spec as catalog_spec

# The built-in collections; adding one is adding its module name here.
CATALOG_MODULES = (
    "flan_jax_tasks.toy",
    # The Flan 2022 collection's sources.
    "flan_jax_tasks.flan2021", "flan_jax_tasks.t0", "flan_jax_tasks.niv2", "flan_jax_tasks.cot",
    "flan_jax_tasks.dialog",
    # Held-out and evaluation suites.
    "flan_jax_tasks.bbh", "flan_jax_tasks.mmlu", "flan_jax_tasks.held_in",
    "flan_jax_tasks.cot_eval",
)
RECIPE_MODULE = "flan_jax.mixtures.recipe"
DEFAULT_RENDER_SEED = 0  # Same value as rendering.DEFAULT_RENDER_SEED (which imports TF).
# How `flan-jax cache` tells Beam worker processes (mixtures.worker_registration) its user
# task modules and render seed; set these in the workers' environment on remote runners.
TASK_MODULES_ENV = "FLAN_JAX_TASK_MODULES"
RENDER_SEED_ENV = "FLAN_JAX_RENDER_SEED"

_HINT = ("Run `flan-jax tasks list` to see every task and mixture. A task of your own: pass the "
         "module or file that registers it, --task_module my_tasks.py (gin: "
         "MIXTURE_OR_TASK_MODULE).")


class CatalogModuleError(errors.FlanJaxError):
  """A catalog or task module could not be imported or breaks the collection contract."""


@dataclasses.dataclass
class _Index:
  """Name -> spec tables over every healthy module, built once per set of modules."""
  modules: dict[str, Any] = dataclasses.field(default_factory=dict)  # collection -> module
  broken: dict[str, str] = dataclasses.field(default_factory=dict)   # module -> one-line error
  specs: dict[str, list[catalog_spec.DatasetSpec]] = dataclasses.field(default_factory=dict)
  task_spec: dict[str, catalog_spec.DatasetSpec] = dataclasses.field(default_factory=dict)
  mixtures: dict[str, list[tuple[str, float]]] = dataclasses.field(default_factory=dict)
  loaded: list[str] = dataclasses.field(default_factory=list)        # module names seen
  hook_names: list[str] = dataclasses.field(default_factory=list)    # from register() hooks


_STATE: dict[str, Any] = {"index": None, "user_modules": []}
_REGISTERED_SEED: dict[tuple[str, str], int] = {}   # (collection, dataset) -> its render seed
# (collection, dataset) -> the few-shot construction asked for (None: its module's default).
_REGISTERED_FEW_SHOT: dict[tuple[str, str], str | None] = {}
_OUR_MIXTURES: set[str] = set()                     # mixtures we registered (and nested ones)
_TRUNCATED: set[str] = set()                        # `{task}#cap{N}` tasks over catalog tasks


def _one_line(e: BaseException) -> str:
  text = str(e).strip().splitlines()
  return f"{type(e).__name__}: {text[0] if text else ''}".rstrip(": ")


def add_task_modules(names: Iterable[str] | str | None) -> None:
  """Adds user task modules (imported at the next lookup; a broken one is reported when a
  name it might hold is needed, and does not stop lookups of other names)."""
  if not names:
    return
  for name in [names] if isinstance(names, str) else names:
    name = _module_reference(name.strip())
    if name and name not in _STATE["user_modules"] and name not in CATALOG_MODULES:
      _STATE["user_modules"].append(name)


def _module_reference(name: str) -> str:
  """How a user module is found again from any folder: a `.py` path made absolute; a module
  name that is no installed module but a file in the current folder (`my_tasks` ->
  ./my_tasks.py), that file's absolute path; any other name as given."""
  if name.endswith(".py"):
    return os.path.abspath(name)
  beside = os.path.join(os.getcwd(), *name.split(".")) + ".py"
  if name and os.path.isfile(beside):
    try:
      found = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
      found = False
    if not found:
      return beside
  return name


def user_modules() -> tuple[str, ...]:
  """The user task modules added so far (names, or absolute `.py` paths); runs record them."""
  return tuple(_STATE["user_modules"])


def task_modules() -> tuple[str, ...]:
  """Every module the catalog reads: the built-in collections, then user modules."""
  return tuple(CATALOG_MODULES) + tuple(_STATE["user_modules"])


def _import(module_name: str):
  """Imports a module by name, or a `.py` file by path (as a module named after the file)."""
  if not module_name.endswith(".py"):
    return importlib.import_module(module_name)
  if not os.path.isfile(module_name):
    raise FileNotFoundError(f"no file {module_name}")
  name = os.path.splitext(os.path.basename(module_name))[0]
  spec = importlib.util.spec_from_file_location(name, module_name)
  module = importlib.util.module_from_spec(spec)
  sys.modules[name] = module  # So the module's own dataclasses and pickles resolve.
  try:
    spec.loader.exec_module(module)
  except BaseException:
    del sys.modules[name]
    raise
  return module


def _index() -> _Index:
  index = _STATE["index"]
  if index is None:
    index = _STATE["index"] = _Index()
  for name in task_modules():
    if name not in index.loaded:
      index.loaded.append(name)
      _load_module(index, name)
  return index


def _load_module(index: _Index, module_name: str) -> None:
  """Imports one module; a contract module's specs and mixtures join the index."""
  try:
    module = _import(module_name)
  except Exception as e:  # pylint: disable=broad-except  # Reported by name when needed.
    index.broken[module_name] = _one_line(e)
    return
  if not hasattr(module, "datasets"):
    # A plain SeqIO module registered its tasks on import; one with the older
    # `register() -> list[str]` hook registers them now.
    if callable(getattr(module, "register", None)):
      try:
        index.hook_names += list(module.register() or [])
      except Exception as e:  # pylint: disable=broad-except
        index.broken[module_name] = _one_line(e)
    return
  try:
    collection, specs, mixtures = _read_contract(module_name, module)
    clash = [n for s in specs for n in s.tasks if n in index.task_spec]
    clash += [m for m in mixtures if m in index.mixtures or m in index.task_spec]
    if collection in index.modules or clash:
      raise CatalogModuleError(
          f"collection {collection!r} or names {clash[:3]} are already defined by another "
          "module; give every collection, task and mixture a unique name")
  except Exception as e:  # pylint: disable=broad-except
    index.broken[module_name] = _one_line(e)
    return
  index.modules[collection] = module
  index.specs[collection] = specs
  for spec in specs:
    for task in spec.tasks:
      index.task_spec[task] = spec
  index.mixtures.update(mixtures)


def _read_contract(module_name: str, module) -> tuple[str, list, dict]:
  collection = getattr(module, "COLLECTION", None)
  if not isinstance(collection, str) or not hasattr(module, "register_dataset"):
    raise CatalogModuleError(
        f"{module_name} defines datasets() but not COLLECTION (a str) and register_dataset()")
  specs = list(module.datasets())
  for spec in specs:
    if not isinstance(spec, catalog_spec.DatasetSpec) or spec.collection != collection:
      raise CatalogModuleError(
          f"datasets() must return DatasetSpec(collection={collection!r}, ...), got {spec!r}"[:300])
  mixtures = dict(module.mixtures()) if hasattr(module, "mixtures") else {}
  return collection, specs, {k: [(str(t), float(r)) for t, r in v] for k, v in mixtures.items()}


def broken_modules() -> dict[str, str]:
  """{module name: its error in one line} for modules that could not be read."""
  return dict(_index().broken)


def _broken_note() -> str:
  broken = _index().broken
  if not broken:
    return ""
  return " Module(s) that could not be read: " + "; ".join(
      f"{m} ({e})" for m, e in broken.items()) + "."


def require_modules(built_in_only: bool = False) -> None:
  """Raises CatalogModuleError naming every module (or built-in collection module) that
  could not be read."""
  broken = {m: e for m, e in _index().broken.items()
            if not built_in_only or m in CATALOG_MODULES}
  if broken:
    raise CatalogModuleError(
        "Module(s) that could not be read: " + "; ".join(f"{m} ({e})" for m, e in broken.items())
        + ". Fix the module, or drop it from --task_module / CATALOG_MODULES.")


# --- Listing and counting: from datasets() alone. ---

def dataset_specs(collection: str | None = None) -> list[catalog_spec.DatasetSpec]:
  """Every dataset spec (of one collection), in module order."""
  index = _index()
  if collection is not None:
    if collection not in index.specs:
      raise errors.unknown_name("collection", collection, index.specs, hint=_broken_note())
    return list(index.specs[collection])
  return [s for specs in index.specs.values() for s in specs]


def collection_counts() -> dict[str, int]:
  """{collection: number of distinct source datasets}."""
  return {c: len({s.name for s in specs}) for c, specs in _index().specs.items()}


def recipe_mixture_names() -> tuple[str, ...]:
  """The recipe's mixture names (pure Python: the recipe module imports no TensorFlow)."""
  return tuple(importlib.import_module(RECIPE_MODULE).MIXTURE_NAMES)


def list_names() -> list[str]:
  """Every task and mixture name, sorted; imports SeqIO only if a user module already did."""
  index = _index()
  names = set(index.task_spec) | set(index.mixtures) | set(recipe_mixture_names())
  if "seqio" in sys.modules:  # Plain SeqIO user modules registered names of their own.
    seqio = sys.modules["seqio"]
    names |= set(seqio.TaskRegistry.names()) | set(seqio.MixtureRegistry.names())
  return sorted(names)


def kind_of(name: str) -> str:
  """'task', 'mixture' or 'recipe' for a catalog name ('seqio' for names found nowhere else)."""
  index = _index()
  if name in index.task_spec:
    return "task"
  if name in index.mixtures:
    return "mixture"
  return "recipe" if name in recipe_mixture_names() else "seqio"


def spec_of(task_name: str) -> catalog_spec.DatasetSpec | None:
  return _index().task_spec.get(task_name)


def collection_mixture(name: str) -> list[tuple[str, float]] | None:
  """A collection mixture's (member, rate) list, or None."""
  return _index().mixtures.get(name)


def recipe_rates(name: str) -> list[tuple[str, float]]:
  """The flat (task, rate) list of a recipe mixture, from every collection's specs."""
  recipe = importlib.import_module(RECIPE_MODULE)
  require_modules(built_in_only=True)  # The recipe mixes the built-in collections.
  return [(t, float(r)) for t, r in recipe.recipe_rates(name, dataset_specs())]


def datasets_for(name: str) -> list[catalog_spec.DatasetSpec]:
  """The dataset specs a task, mixture (recursively) or collection needs; pure Python.

  Names the catalog does not know (plain SeqIO registrations) give an empty list.
  """
  index = _index()
  if name in index.specs:
    return list(index.specs[name])
  out: dict[tuple[str, str], catalog_spec.DatasetSpec] = {}
  for task in member_tasks(name):
    spec = index.task_spec.get(task)
    if spec is not None:
      out[(spec.collection, spec.name)] = spec
  return list(out.values())


def member_tasks(name: str, _seen: frozenset = frozenset()) -> list[str]:
  """The catalog task names behind a name (itself for a task), without registering."""
  index = _index()
  base = _base_task(name)
  if base in index.task_spec:
    return [base]
  if name in _seen:
    raise CatalogModuleError(f"Mixture {name!r} contains itself.")
  if name in index.mixtures:
    members = [m for m, _ in index.mixtures[name]]
  elif name in recipe_mixture_names():
    members = [t for t, _ in recipe_rates(name)]
  else:
    return []
  out = []
  for member in members:
    out += member_tasks(member, _seen | {name})
  return out


def _base_task(name: str) -> str:
  return name.split("#cap", 1)[0]


# --- Registration: only what a name needs. ---

def get_mixture_or_task(name: str, render_seed: int | None = None):
  """The SeqIO task or mixture `name`, registering only the datasets it needs.

  render_seed: the seed every prompt draw is keyed on. None keeps the seed a dataset is
  already registered with (DEFAULT_RENDER_SEED for a new one); another seed re-registers
  the dataset's tasks (and the mixtures built on them) with it.
  """
  import seqio  # pylint: disable=g-import-not-at-top
  index = _index()
  if name in index.task_spec:
    register_dataset(index.task_spec[name], render_seed)
    return seqio.TaskRegistry.get(name)
  if name in index.mixtures or name in recipe_mixture_names():
    return _ensure_mixture(name, render_seed)
  base = _base_task(name)
  if base != name and base in index.task_spec:
    return _truncated(name, base, render_seed)
  if name in seqio.MixtureRegistry.names():
    return seqio.MixtureRegistry.get(name)
  if name in seqio.TaskRegistry.names():
    return seqio.TaskRegistry.get(name)
  raise errors.unknown_name("task or mixture", name, list_names(), hint=_HINT + _broken_note())


def _wanted_seed(key: tuple[str, str], render_seed: int | None) -> int:
  if render_seed is not None:
    return int(render_seed)
  return _REGISTERED_SEED.get(key, DEFAULT_RENDER_SEED)


def register_dataset(spec: catalog_spec.DatasetSpec, render_seed: int | None = None,
                     few_shot: str | None = None) -> list[str]:
  """Registers one dataset's tasks with the wanted render seed and few-shot construction
  (idempotent); its names. `few_shot` ("flan" / "paper", see formats.FEW_SHOT_STYLES): None
  keeps the dataset's current one (its module's default for a new one: "flan" for the Flan
  2022 recipe's collections, "paper" for the toy demo); another re-registers its tasks."""
  import seqio  # pylint: disable=g-import-not-at-top
  if few_shot is not None:
    from flan_jax.data import formats as formats_lib  # pylint: disable=g-import-not-at-top
    formats_lib.check_few_shot_style(few_shot)
  key = (spec.collection, spec.name)
  seed = _wanted_seed(key, render_seed)
  style = _REGISTERED_FEW_SHOT.get(key) if few_shot is None else few_shot
  registry = seqio.TaskRegistry.names()
  if (_REGISTERED_SEED.get(key) == seed and _REGISTERED_FEW_SHOT.get(key) == style
      and all(t in registry for t in spec.tasks)):
    return list(spec.tasks)
  if key in _REGISTERED_SEED:  # Another seed or style: drop the old tasks and their mixtures.
    _forget_tasks(spec.tasks)
  module = _index().modules[spec.collection]
  try:
    # No style asked for yet: the module's own default (the module contract, spec.py).
    names = list(module.register_dataset(
        spec, render_seed=seed, **({"few_shot": style} if style else {})))
  except errors.FlanJaxError:
    raise
  except Exception as e:
    raise CatalogModuleError(
        f"{module.__name__}.register_dataset({spec.name!r}) failed: {_one_line(e)}") from e
  missing = [t for t in spec.tasks if t not in seqio.TaskRegistry.names()]
  if missing:
    raise CatalogModuleError(
        f"{module.__name__}.register_dataset({spec.name!r}) did not register {missing[:3]}, "
        "which its datasets() declares; make the two agree.")
  _REGISTERED_SEED[key] = seed
  _REGISTERED_FEW_SHOT[key] = style
  return names


def _forget_tasks(tasks: Iterable[str]) -> None:
  """Removes tasks, their truncated variants and every mixture this module registered
  (mixtures hold Task objects, so they are rebuilt over the new tasks when next needed)."""
  import seqio  # pylint: disable=g-import-not-at-top
  tasks = set(tasks)
  for name in list(tasks) + [t for t in _TRUNCATED if _base_task(t) in tasks]:
    seqio.TaskRegistry.remove(name)
  for mixture in _OUR_MIXTURES:
    seqio.MixtureRegistry.remove(mixture)
  parents = [m for m in _OUR_MIXTURES if m.endswith(".")]  # Legacy recipe: nested children.
  if parents:
    for name in list(seqio.MixtureRegistry.names()):
      if name.startswith(tuple(parents)):
        seqio.MixtureRegistry.remove(name)
  _OUR_MIXTURES.clear()


def _ensure_member(name: str, render_seed: int | None, parent: str) -> None:
  import seqio  # pylint: disable=g-import-not-at-top
  index = _index()
  if name in index.task_spec or name in index.mixtures or name in recipe_mixture_names() \
      or _base_task(name) in index.task_spec:
    get_mixture_or_task(name, render_seed)
  elif name not in seqio.TaskRegistry.names() and name not in seqio.MixtureRegistry.names():
    raise errors.unknown_name(f"member of mixture {parent!r}: task or mixture", name,
                              list_names(), hint=_broken_note())


def _ensure_mixture(name: str, render_seed: int | None):
  """Registers a collection or recipe mixture over its (registered) members."""
  import seqio  # pylint: disable=g-import-not-at-top
  index = _index()
  if name in index.mixtures:
    members = index.mixtures[name]
  else:
    members = recipe_rates(name)
  for member, _ in members:
    _ensure_member(member, render_seed, name)
  if name in seqio.MixtureRegistry.names() and name in _OUR_MIXTURES:
    return seqio.MixtureRegistry.get(name)
  if not members:
    raise CatalogModuleError(f"Mixture {name!r} has no members.")
  seqio.MixtureRegistry.remove(name)
  mixture = seqio.MixtureRegistry.add(name, list(members))
  _OUR_MIXTURES.add(name)
  return mixture


def _truncated(name: str, base: str, render_seed: int | None):
  """A `{task}#cap{N}` task (see data/truncation.py) over the catalog task `base`."""
  import seqio  # pylint: disable=g-import-not-at-top
  from flan_jax.data import formats as formats_lib  # pylint: disable=g-import-not-at-top
  from flan_jax.data import truncation  # pylint: disable=g-import-not-at-top
  get_mixture_or_task(base, render_seed)
  if name not in seqio.TaskRegistry.names():
    cap = name.split(formats_lib.CAP_MARK, 1)[1]
    if not cap.isdigit():
      raise errors.unknown_name("task or mixture", name, list_names(), hint=_HINT)
    truncation.truncated_task(base, int(cap))
    _TRUNCATED.add(name)
  return seqio.TaskRegistry.get(name)


def register_names(names: Iterable[str], render_seed: int | None = None) -> None:
  """Registers each name (for user modules whose mixtures mix catalog tasks)."""
  for name in names:
    get_mixture_or_task(name, render_seed)


def register_catalog(render_seed: int | None = None, few_shot: str | None = None) -> list[str]:
  """Registers every dataset of every collection and the collection mixtures; their names.
  `few_shot`: see register_dataset.

  For processes that need everything at once (Beam workers, benchmarks). Fails naming
  any module that could not be read.
  """
  require_modules()
  names = []
  for spec in dataset_specs():
    names += register_dataset(spec, render_seed, few_shot)
  for mixture in _index().mixtures:
    _ensure_mixture(mixture, render_seed)
    names.append(mixture)
  return names + [n for n in _index().hook_names if n not in names]


def flat_rates(name: str, render_seed: int | None = None) -> dict[str, float]:
  """{task: rate} of a task or mixture with nested mixtures multiplied out, as seqio's
  get_rate does (a member mixture's rate is shared by its tasks in proportion to theirs)."""
  import seqio  # pylint: disable=g-import-not-at-top
  index = _index()
  if _base_task(name) in index.task_spec:
    return {name: 1.0}
  if name in index.mixtures or name in recipe_mixture_names():
    members = index.mixtures.get(name) or recipe_rates(name)
  else:
    provider = get_mixture_or_task(name, render_seed)
    if isinstance(provider, seqio.Task):
      return {name: 1.0}
    return {t.name: float(provider.get_rate(t)) for t in provider.tasks}
  out: dict[str, float] = {}
  for member, rate in members:
    sub = flat_rates(member, render_seed)
    total = sum(sub.values())
    for task, r in sub.items():
      out[task] = out.get(task, 0.0) + (rate * r / total if total else 0.0)
  return out


def register_without(name: str, drop_tasks: Iterable[str], render_seed: int | None = None):
  """Registers `name` again as one flat mixture without `drop_tasks`, the remaining rates
  renormalized to sum to 1; returns (the mixture, the dropped task names that it held)."""
  import seqio  # pylint: disable=g-import-not-at-top
  drop = set(drop_tasks)
  rates = flat_rates(name, render_seed)
  kept = {t: r for t, r in rates.items() if _base_task(t) not in drop and r > 0}
  if name in kept:  # A task whose data is in place.
    return get_mixture_or_task(name, render_seed), []
  if not kept:
    raise errors.ConfigError(f"Nothing of {name!r} is left once the datasets without data are "
                             "skipped; prepare at least one (see `flan-jax tasks preflight`).")
  for task in kept:
    get_mixture_or_task(task, render_seed)
  total = sum(kept.values())
  seqio.MixtureRegistry.remove(name)
  mixture = seqio.MixtureRegistry.add(name, [(t, r / total) for t, r in sorted(kept.items())])
  _OUR_MIXTURES.add(name)
  return mixture, sorted(t for t in rates if _base_task(t) in drop)
