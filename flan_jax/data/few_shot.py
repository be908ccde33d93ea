"""Few-shot prompts: exemplars from the same task's train split, fitted to a token budget.

The exemplar pool (the first `pool_size` train records) is loaded once when the dataset is
built; per query, exemplars are a stateless draw from it, never the query itself, joined by
a seeded separator. Exemplars are dropped until the prompt fits the budget; a query that
fits with none is dropped and counted in `dropped_examples(task_name)`.
"""

from __future__ import annotations

from typing import Mapping

from absl import logging
import seqio
import tensorflow as tf

from flan_jax.data import formats as formats_lib
from flan_jax.data import rendering
from flan_jax.data import seeding

_DROPPED: dict[str, tf.Variable] = {}
_FINGERPRINT_BUCKETS = 2**62


def dropped_examples(task_name: str) -> int:
  """How many queries of `task_name` were dropped because no exemplar fit the budget."""
  counter = _DROPPED.get(task_name)
  return int(counter.numpy()) if counter is not None else 0


def _counter(task_name: str) -> tf.Variable:
  if task_name not in _DROPPED:
    with tf.init_scope():
      _DROPPED[task_name] = tf.Variable(0, dtype=tf.int64, trainable=False)
  return _DROPPED[task_name]


def _fingerprint(fields: Mapping[str, tf.Tensor]) -> tf.Tensor:
  """Content hash of records ([B] each), to keep a query out of its own exemplars."""
  joined = tf.strings.reduce_join(tf.stack([fields[k] for k in sorted(fields)], axis=-1),
                                  axis=-1, separator="\x1f")
  return tf.strings.to_hash_bucket_fast(joined, _FINGERPRINT_BUCKETS)


def load_pool(spec: rendering.RenderSpec, source: seqio.DataSource,
              pre_render=None) -> dict[str, tf.Tensor | tf.RaggedTensor]:
  """Loads the first pool_size train records as batched tensors (runs when the dataset is built)."""
  ds = source.get_dataset(split="train", shuffle=False)
  if pre_render is not None:
    ds = pre_render(ds)
  ts = spec.template_set
  keep = list(ts.text_fields()) + ([ts.options_field] if ts.options_field else [])
  ds = ds.map(tf.autograph.experimental.do_not_convert(lambda ex: {k: ex[k] for k in keep}))
  ds = ds.take(spec.pool_size)
  pool = None
  for pool in ds.ragged_batch(spec.pool_size).take(1):
    pass
  if pool is None:
    raise ValueError(f"{spec.task_name}: the train split is empty, so few-shot has no exemplars.")
  pool = dict(pool)
  for k in ts.text_fields():
    pool[k] = rendering.as_text(pool[k])
  if ts.options_field and not isinstance(pool[ts.options_field], tf.RaggedTensor):
    pool[ts.options_field] = tf.RaggedTensor.from_tensor(pool[ts.options_field])
  return pool


def render_few_shot(dataset: tf.data.Dataset, output_features: Mapping[str, seqio.Feature], *,
                    spec: rendering.RenderSpec, source: seqio.DataSource,
                    pre_render=None) -> tf.data.Dataset:
  """Reads the template set's fields (+ options, idx); writes inputs, targets, template,
  prompt_format. Queries that cannot fit one exemplar in the budget are dropped."""
  fmt = spec.fmt
  prefix = spec.prefix()
  names = spec.template_names()
  ts = spec.template_set
  text_fields = ts.text_fields()
  vocab = output_features["inputs"].vocabulary
  pool = load_pool(spec, source, pre_render)
  pool_text = {k: pool[k] for k in text_fields}
  pool_fp = _fingerprint(pool_text)
  pool_size = int(pool_fp.shape[0])
  max_shots = max(fmt.shots)
  num_candidates = min(pool_size, max_shots + 2)
  counter = _counter(spec.task_name)

  @tf.autograph.experimental.do_not_convert
  def fn(ex):
    key = seeding.example_key(ex, text_fields)
    fields = {k: v[None] for k, v in rendering.record_fields(spec, ex).items()}
    template = rendering.draw_template(spec, prefix, key)
    shots = tf.gather(tf.constant(fmt.shots, tf.int64),
                      seeding.hash_index(prefix, key, "shots", len(fmt.shots)))
    separator = tf.gather(tf.constant(formats_lib.EXEMPLAR_SEPARATORS),
                          seeding.hash_index(prefix, key, "separator",
                                             len(formats_lib.EXEMPLAR_SEPARATORS)))
    draw = rendering.draw_prompt(spec, prefix, key, template)
    # Exemplars: a stateless shuffle of the pool, minus any copy of the query.
    _, cand = tf.math.top_k(seeding.draw_uniforms(prefix, key, "exemplars", pool_size),
                            k=num_candidates)
    cand = tf.boolean_mask(cand, tf.not_equal(tf.gather(pool_fp, cand), _fingerprint(fields)[0]))
    cand = cand[:max_shots]
    found = tf.shape(cand, out_type=tf.int64)[0]
    if fmt.template_mix:
      rows = tf.random.stateless_uniform(
          [max_shots], seeding.stateless_seed(prefix, key, "exemplar_templates"), 0,
          len(spec.templates), dtype=tf.int64, alg="philox")[:found]
    else:
      rows = tf.fill([found], template)
    ex_fields = {k: tf.gather(v, cand) for k, v in pool_text.items()}
    ex_choices = (tf.gather(pool[ts.options_field], cand)
                  if fmt.options and ts.options_field else None)
    ex_in, ex_tgt = rendering.render_rows(spec, ex_fields, ex_choices, rows, draw)
    q_choices = None
    if fmt.options and ts.options_field:
      q_choices = tf.RaggedTensor.from_tensor(ex[ts.options_field][None])
    q_in, q_tgt = rendering.render_rows(spec, fields, q_choices, template[None], draw)
    shots_text = tf.strings.join([ex_in, "\n", ex_tgt, separator])
    prompts = tf.stack([
        tf.strings.join([tf.strings.reduce_join(shots_text[:j]), q_in[0]])
        for j in range(1, max_shots + 1)])
    prompts = tf.strings.regex_replace(prompts, r"[ \t]+(\n|$)", r"\1")
    lengths = vocab.encode_tf(prompts).row_lengths()
    j = tf.range(1, max_shots + 1, dtype=tf.int64)
    fits = (j <= tf.minimum(shots, found)) & (lengths <= spec.token_budget)
    best = tf.reduce_max(tf.where(fits, j, 0))
    return {"inputs": tf.gather(prompts, tf.maximum(best - 1, 0)), "targets": q_tgt[0],
            "template": tf.gather(names, template), "prompt_format": tf.constant(fmt.name),
            "_num_shots": best}

  @tf.autograph.experimental.do_not_convert
  def keep(ex):
    ok = ex["_num_shots"] > 0
    with tf.control_dependencies([counter.assign_add(tf.cast(tf.logical_not(ok), tf.int64))]):
      return tf.identity(ok)

  @tf.autograph.experimental.do_not_convert
  def strip(ex):
    return {k: v for k, v in ex.items() if k != "_num_shots"}

  logging.info("%s: few-shot pool of %d train records, budget %d tokens.",
               spec.task_name, pool_size, spec.token_budget)
  return (dataset.map(fn, num_parallel_calls=tf.data.AUTOTUNE).filter(keep)
          .map(strip, num_parallel_calls=tf.data.AUTOTUNE))
