"""The dialog collection: wiki_dialog and qrecc from TFDS (`dialog.{dataset}:{format}`).

The model writes the next turn of a conversation (always a turn after the sixth, see
flan_jax/readers/dialog.py) or, inverted, the conversation that led to a turn.
Formats: zs_noopt, fs_noopt, inv (the mixture weighs inv at 0.3).
"""

from __future__ import annotations

import dataclasses
import functools

from flan_jax.catalog import spec as catalog_spec
from flan_jax.data import formats
from flan_jax.data.templates import Template, TemplateSet

COLLECTION = "dialog"
FORMATS = ("zs_noopt", "fs_noopt", "inv")


@dataclasses.dataclass(frozen=True)
class DialogDataset:
  """One TFDS dialog dataset: builder, split mapping, sizes (TFDS catalog), templates."""
  name: str
  tfds_name: str
  splits: tuple[tuple[str, str], ...]  # (our split, TFDS split)
  sizes: tuple[tuple[str, int], ...]   # (our split, examples), used until TFDS is prepared
  templates: TemplateSet
  how_to_get: str  # steps before `tfds build NAME`, which preflight prints itself


_NEXT_TURN = (
    Template("continue", "Continue this conversation with the next turn.\n\n{context}", "{turn}"),
    Template("what_next", "{context}\n\nWhat is the next line of the conversation?", "{turn}"),
    Template("dialog_label", "Dialog so far:\n{context}\n\nNext turn:", "{turn}"),
    Template("respond", "Here is a conversation.\n{context}\nWrite the reply that comes next.",
             "{turn}"),
)
_INVERTED = (
    Template("lead_up", "A conversation reaches this turn:\n{turn}\n\nWrite the turns before it.",
             "{context}"),
    Template("earlier", "{turn}\n\nWhat was said in the conversation before this line?",
             "{context}"),
)

WIKI_DIALOG = DialogDataset(
    name="wiki_dialog", tfds_name="wiki_dialog/OQ:1.0.0",
    splits=(("train", "train"), ("validation", "validation")),
    sizes=(("train", 11_264_129), ("validation", 113_822)),
    templates=TemplateSet(
        name="wiki_dialog", fields=("title", "turns"), turns_field="turns",
        answer_field="turn", question_field="context",
        templates=_NEXT_TURN + (
            Template("about_title", "A conversation about {title}.\n{context}\nNext turn:",
                     "{turn}"),),
        inverted=_INVERTED + (
            Template("title_lead_up", "Topic: {title}\nThis turn ends a conversation:\n{turn}\n"
                     "Write the conversation up to it.", "{context}"),)),
    how_to_get="")  # A Beam-based build: apache-beam comes with `pip install -e '.[data]'`.

QRECC = DialogDataset(
    name="qrecc", tfds_name="q_re_cc:1.0.0",
    splits=(("train", "train"), ("validation", "test")),
    sizes=(("train", 63_501), ("validation", 16_451)),
    templates=TemplateSet(
        name="qrecc", fields=("turns",), turns_field="turns", answer_field="turn",
        question_field="context", templates=_NEXT_TURN, inverted=_INVERTED),
    how_to_get="")

DIALOG_DATASETS = {d.name: d for d in (WIKI_DIALOG, QRECC)}


@functools.lru_cache(maxsize=1)
def _specs() -> tuple[catalog_spec.DatasetSpec, ...]:
  return tuple(
      catalog_spec.DatasetSpec(
          collection=COLLECTION, name=d.name,
          tasks=tuple(formats.task_name(COLLECTION, d.name, f) for f in FORMATS),
          data=catalog_spec.DataRequirement(kind=catalog_spec.TFDS, name=d.tfds_name,
                                            how_to_get=d.how_to_get),
          num_train_examples=dict(d.sizes)["train"])
      for d in DIALOG_DATASETS.values())


def datasets() -> list[catalog_spec.DatasetSpec]:
  """The two dialog datasets (reads nothing, imports no TensorFlow)."""
  return list(_specs())


def register_dataset(spec: catalog_spec.DatasetSpec, *, render_seed: int,
                     few_shot: str = "flan") -> list[str]:
  """Registers zs_noopt / fs_noopt / inv of one dialog dataset (idempotent)."""
  from flan_jax.readers import dialog as dialog_source  # pylint: disable=g-import-not-at-top
  from flan_jax.data import registration  # pylint: disable=g-import-not-at-top
  from flan_jax.data import t5_features  # pylint: disable=g-import-not-at-top
  if spec.name not in DIALOG_DATASETS:
    raise KeyError(f"{spec.name!r} is not a dialog dataset; known: {sorted(DIALOG_DATASETS)}.")
  d = DIALOG_DATASETS[spec.name]
  source = dialog_source.DialogTfdsSource(d.tfds_name, splits=dict(d.splits),
                                          catalog_counts=dict(d.sizes))
  to_turns = (dialog_source.wiki_dialog_turns if d is WIKI_DIALOG
              else dialog_source.qrecc_turns)
  return registration.register_template_tasks(
      COLLECTION, d.templates, source, t5_features.output_features(),
      prompt_formats=FORMATS, seed=render_seed, few_shot=few_shot, pre_render=(to_turns,))
