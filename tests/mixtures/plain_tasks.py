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
