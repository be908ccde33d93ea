"""A plain seqio task without CacheDatasetPlaceholder, for the 'cannot cache' paths."""

import seqio
import tensorflow as tf

UNCACHEABLE = "test_mixtures.no_cache_step"


def register_uncacheable() -> str:
  """Registers (once) a one-example task that seqio cannot cache; returns its name."""
  if UNCACHEABLE not in seqio.TaskRegistry.names():
    vocab = seqio.PassThroughVocabulary(size=8)
    source = seqio.FunctionDataSource(
        lambda split, shuffle_files, seed=None: tf.data.Dataset.from_tensors(
            {"inputs": [1, 2], "targets": [3]}),
        splits=("train",))
    seqio.TaskRegistry.add(UNCACHEABLE, source=source, preprocessors=[],
                           output_features={"inputs": seqio.Feature(vocab),
                                            "targets": seqio.Feature(vocab)})
  return UNCACHEABLE


def register_text_tasks(names, num_records: int = 50) -> list[str]:
  """Registers (once) tiny tasks whose record i reads `{name} #{i}` -> `t{i}` (text kept as
  *_pretokenized, so export writes it as is); returns the names."""
  vocab = seqio.PassThroughVocabulary(size=8)
  features = {"inputs": seqio.Feature(vocab), "targets": seqio.Feature(vocab)}
  for name in names:
    if name in seqio.TaskRegistry.names():
      continue

    def make(split, shuffle_files, seed=None, _name=name):
      del split, shuffle_files, seed
      return tf.data.Dataset.from_tensor_slices({
          "inputs_pretokenized": [f"{_name} #{i}" for i in range(num_records)],
          "targets_pretokenized": [f"t{i}" for i in range(num_records)],
          "inputs": [[1, 2]] * num_records, "targets": [[3]] * num_records})

    source = seqio.FunctionDataSource(make, splits=("train",),
                                      num_input_examples={"train": num_records})
    seqio.TaskRegistry.add(name, source=source, preprocessors=[], output_features=features,
                           shuffle_buffer_size=64)
  return list(names)
