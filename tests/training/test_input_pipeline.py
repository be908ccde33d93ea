"""The training stream turns off tf.data's graph rewrites and autotuning (a faster first batch
for many-task mixtures); that must not change a single token or the order of batches."""

import numpy as np
import seqio
import tensorflow as tf

from flan_jax.catalog import lookup as catalog
from flan_jax.training import input_pipeline

TASKS = ("toy.category:zs_noopt", "toy.category:fs_opt")
MIXTURE = "test_input_pipeline_two_toy_tasks"


def _batches(with_default_tf_data_options: bool, count: int = 4):
  catalog.register_names(list(TASKS))
  if MIXTURE not in seqio.MixtureRegistry.names():
    seqio.MixtureRegistry.add(MIXTURE, [(TASKS[0], 2.0), (TASKS[1], 1.0)])
  ds = input_pipeline.train_dataset(MIXTURE, {"inputs": 128, "targets": 16}, 4, seed=5,
                                    feature_converter=seqio.EncDecFeatureConverter(pack=True))
  if with_default_tf_data_options:
    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = True
    options.autotune.enabled = True
    ds = ds.with_options(options)
  assert ds.options().autotune.enabled == with_default_tf_data_options
  iterator = ds.as_numpy_iterator()
  return [next(iterator) for _ in range(count)]


def test_training_stream_is_the_same_as_with_default_tf_data_options():
  ours, default = _batches(False), _batches(True)
  assert ours[0]["encoder_input_tokens"].shape == (4, 128)
  for a, b in zip(ours, default):
    assert sorted(a) == sorted(b)
    for key in a:
      np.testing.assert_array_equal(a[key], b[key])
  assert not np.array_equal(ours[0]["encoder_input_tokens"], ours[1]["encoder_input_tokens"])
