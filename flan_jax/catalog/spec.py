"""What a catalog collection declares about its datasets, as plain data.

A collection module (e.g. `flan_jax_tasks.flan2021`) describes each source dataset with a
`DatasetSpec`: the task names it registers, where its data comes from and how many training
examples it has. Listing names, counting collections, planning rates and checking which data
is prepared all work from these specs alone, so none of them imports TensorFlow or SeqIO.

The module contract (the catalog calls nothing else):

    COLLECTION: str
    def datasets() -> list[DatasetSpec]                  # cheap, no TensorFlow/SeqIO import
    def register_dataset(spec, *, render_seed, few_shot=<its default>) -> list[str]
        # registers its SeqIO tasks; `few_shot` ("flan" / "paper", formats.FEW_SHOT_STYLES)
        # is passed only when a caller asks for a style, and a suite with fixed prompts
        # accepts and ignores it
    def mixtures() -> dict[str, list[tuple[str, float]]]      # optional: name -> (task, rate)
"""

from __future__ import annotations

import dataclasses

# Where a dataset's records come from (DataRequirement.kind).
TFDS = "tfds"              # a TFDS builder: name is "builder/config:version"
HF = "hf"                  # a Hugging Face dataset: name is "repo:config"
LOCAL_DIR = "local_dir"    # files in a folder the user points to: name is the setting's key
GENERATED = "generated"    # made by flan_jax itself (the toy collection): always available
KINDS = (TFDS, HF, LOCAL_DIR, GENERATED)


def local_dir_variable(key: str) -> str:
  """The environment variable that points at a LOCAL_DIR setting's folder."""
  return f"FLAN_JAX_{key}_DIR"


@dataclasses.dataclass(frozen=True)
class DataRequirement:
  """Where a dataset's data comes from and how a user gets it."""
  kind: str
  name: str
  manual: bool = False   # needs a manual download step before it can be prepared
  how_to_get: str = ""   # the exact command or steps `flan-jax tasks preflight` prints
  # LOCAL_DIR (or an HF dataset's local copy): glob patterns, relative to the folder, each of
  # which must match at least one file, e.g. ("tasks/task001_*.json",); "a/*|b/*" accepts
  # either layout.
  files: tuple[str, ...] = ()
  # HF only: the LOCAL_DIR key (FLAN_JAX_<KEY>_DIR) of a local copy that may replace the hub.
  local_key: str = ""

  def __post_init__(self):
    if self.kind not in KINDS:
      raise ValueError(f"Unknown data kind {self.kind!r} for {self.name!r}; use one of {KINDS}.")
    if isinstance(self.files, str):
      raise ValueError(f"DataRequirement {self.name!r}: files must be a tuple of patterns, "
                       f"not the string {self.files!r}.")
    keys = ([self.name] if self.kind == LOCAL_DIR else []) + [k for k in (self.local_key,) if k]
    for key in keys:
      if not key.replace("_", "").isalnum() or key.upper() != key:
        raise ValueError(f"DataRequirement {self.name!r}: the local folder key {key!r} must be "
                         f"UPPER_CASE letters, digits and '_' (it becomes FLAN_JAX_{key}_DIR).")


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
  """One source dataset of a collection and the SeqIO tasks it becomes."""
  collection: str
  name: str
  tasks: tuple[str, ...]                 # full task names, e.g. "flan2021.anli_r1:zs_opt"
  data: DataRequirement
  num_train_examples: int | None = None  # from the catalog facts; feeds mixture rates
  has_options: bool = False              # the dataset has answer choices
  held_out: bool = False                 # an evaluation-only dataset (never in training mixtures)
  # num_train_examples is a stand-in (e.g. NIv2 before its files are read): rates use it as it
  # is; preflight and `mixtures stats` say so.
  num_train_examples_estimated: bool = False
