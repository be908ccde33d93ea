"""What a catalog collection declares about its datasets, as plain data.

A collection module (e.g. `flan_jax_tasks.flan2021`) describes each source dataset with a
`DatasetSpec`: the task names it registers, where its data comes from and how many training
examples it has. Listing names, counting collections, planning rates and checking which data
is prepared all work from these specs alone, so none of them imports TensorFlow or SeqIO.

The module contract (the catalog calls nothing else):

    COLLECTION: str
    def datasets() -> list[DatasetSpec]                  # cheap, no TensorFlow/SeqIO import
    def register_dataset(spec, *, render_seed) -> list[str]   # registers its SeqIO tasks
    def mixtures() -> dict[str, list[tuple[str, float]]]      # optional: name -> (task, rate)
"""

from __future__ import annotations

import dataclasses

# Where a dataset's records come from (DataRequirement.kind).
TFDS = "tfds"              # a TFDS builder: name is "builder/config:version"
HF = "hf"                  # a Hugging Face dataset: name is "repo:config"
LOCAL_DIR = "local_dir"    # files in a folder the user points to: name is the setting's key
GENERATED = "generated"    # made by flan_jax itself (the toy collection): always available


@dataclasses.dataclass(frozen=True)
class DataRequirement:
  """Where a dataset's data comes from and how a user gets it."""
  kind: str
  name: str
  manual: bool = False   # needs a manual download step before it can be prepared
  how_to_get: str = ""   # the exact command or steps `flan-jax tasks preflight` prints

  def __post_init__(self):
    if self.kind not in (TFDS, HF, LOCAL_DIR, GENERATED):
      raise ValueError(f"Unknown data kind {self.kind!r} for {self.name!r}.")


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
