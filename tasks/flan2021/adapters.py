"""How one TFDS dataset becomes template records: a template set plus a field mapping.

Mappings are plain functions over a TFDS example dict that build TensorFlow ops; they
import TensorFlow only when called, so listing the collection stays TensorFlow-free.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Mapping

from flan_jax.data import templates as templates_lib

Example = Mapping[str, object]


@dataclasses.dataclass(frozen=True)
class Adapter:
  """A dataset's template set and the mapping from its TFDS features to the set's fields.

  to_record: TFDS example -> {field: tensor} with exactly the template set's fields.
  keep: optional TFDS example -> bool tensor; examples it rejects (unlabelled rows, labels
  out of range) are dropped before mapping.
  """
  template_set: templates_lib.TemplateSet
  to_record: Callable[[Example], dict]
  keep: Callable[[Example], object] | None = None

  def template_set_for(self, dataset: str) -> templates_lib.TemplateSet:
    """The template set renamed to the dataset, since the task name is built from it."""
    return dataclasses.replace(self.template_set, name=dataset)


def map_records(dataset, *, adapter: Adapter):
  """pre_render step: reads the TFDS features; writes the template set's record fields."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  fields = adapter.template_set.record_fields()

  @tf.autograph.experimental.do_not_convert
  def to_record(ex):
    record = adapter.to_record(ex)
    return {f: record[f] for f in fields}

  if adapter.keep is not None:
    dataset = dataset.filter(tf.autograph.experimental.do_not_convert(adapter.keep))
  return dataset.map(to_record, num_parallel_calls=tf.data.AUTOTUNE)
