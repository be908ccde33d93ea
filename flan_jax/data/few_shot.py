"""Few-shot prompts: exemplars from the same task's train split, fitted to a token budget.

The exemplar pool is a seeded sample of `pool_size` records from the whole train split (the
records whose seeded hash of their identity is smallest: one streaming pass, bounded memory,
the same pool whatever the file layout or order). Per query, a stateless draw picks k in the
format's counts (2, 3 or 5) and k exemplars from the pool, never the query itself; each
exemplar ends with its answer after an answer lead (unless the template ends with its own cue),
so exemplars stay apart from option lines whatever the separator. When k exemplars do not fit
the budget the prompt keeps the largest allowed count that fits (counted in `cut_examples`);
when not even the smallest fits, the query is dropped (counted in `dropped_examples`).
"""

from __future__ import annotations

import collections
import contextlib
from typing import Mapping

from absl import logging
import seqio
import tensorflow as tf

from flan_jax import errors
from flan_jax.data import formats as formats_lib
from flan_jax.data import layout
from flan_jax.data import rendering
from flan_jax.data import seeding

_FINGERPRINT_BUCKETS = 2**62
_POOL_SCAN_BATCH = 4096
NUM_EXEMPLARS = "num_exemplars"  # Feature of few-shot rows: how many exemplars the prompt has.
_WANTED = "_wanted_exemplars"


class AnswerNotInOptionsError(errors.FlanJaxError, ValueError):
  """A train record's answer is not among its options (few-shot pool)."""


def dropped_examples(task_name: str) -> int:
  """Queries of `task_name` dropped because not even the smallest exemplar count fit."""
  return rendering.counted(task_name, "few_shot_dropped")


def cut_examples(task_name: str) -> int:
  """Prompts of `task_name` given fewer exemplars than drawn (still an allowed count)."""
  return rendering.counted(task_name, "few_shot_cut")


def _fingerprint(fields: Mapping[str, tf.Tensor]) -> tf.Tensor:
  """Content hash of records ([B] each), to keep a query out of its own exemplars."""
  joined = tf.strings.reduce_join(tf.stack([fields[k] for k in sorted(fields)], axis=-1),
                                  axis=-1, separator="\x1f")
  return tf.strings.to_hash_bucket_fast(joined, _FINGERPRINT_BUCKETS)


def _pool_fields(spec: rendering.RenderSpec) -> list[str]:
  ts = spec.template_set
  return list(ts.text_fields()) + ([ts.options_field] if ts.options_field else [])


def _bad_answers(spec: rendering.RenderSpec, batch: Mapping[str, tf.Tensor]) -> tf.Tensor:
  """[B] True where an options format's answer is not among the record's choices."""
  ts = spec.template_set
  choices = rendering.choices_of(spec, batch)
  if choices is None:
    return tf.zeros_like(batch[ts.answer_field], dtype=tf.bool)
  answers = rendering.as_text(batch[ts.answer_field])
  hits = tf.equal(choices.flat_values, tf.gather(answers, choices.value_rowids()))
  found = tf.math.unsorted_segment_max(tf.cast(hits, tf.int32), choices.value_rowids(),
                                       tf.shape(answers)[0]) > 0
  return tf.logical_not(found)


def _refuse_bad_answer(spec, batch, key, bad) -> None:
  i = int(tf.argmax(tf.cast(bad, tf.int32)))
  ts = spec.template_set
  raise AnswerNotInOptionsError(
      f"Task {spec.task_name}: train record {key[i].numpy().decode()!r} has answer "
      f"{rendering.as_text(batch[ts.answer_field])[i].numpy().decode()!r}, which is not among its "
      f"options {[c.decode() for c in rendering.choices_of(spec, batch)[i].numpy()]}. Fix the "
      "record, or register with answer_not_in_options='drop' to skip and count such records.")


class _SharedScans:
  """The train records a dataset's few-shot pools are drawn from, kept while a pipeline is
  built (`shared_pool_scans`), so the formats of one dataset scan its train split once."""

  def __init__(self, max_datasets: int):
    self.max_datasets = max_datasets
    self.scans: collections.OrderedDict = collections.OrderedDict()


_shared: _SharedScans | None = None


@contextlib.contextmanager
def shared_pool_scans(max_datasets: int = 2):
  """Within this block, few-shot tasks of the same dataset (same source, pre-render steps,
  template set and scan limit) read its train split once for their pools instead of once
  each; each task still ranks the records with its own seed. Tasks are built in name order,
  so a dataset's formats come one after another and only the last `max_datasets` scans are
  held in memory; all are dropped when the block ends."""
  global _shared
  outer, _shared = _shared, _SharedScans(max_datasets)
  try:
    yield
  finally:
    _shared = outer


def _scan_key(spec: rendering.RenderSpec, source: seqio.DataSource, scan_key) -> tuple | None:
  if _shared is None or scan_key is None:
    return None
  return (source, scan_key, spec.template_set, spec.pool_scan_limit)


def _scan(spec: rendering.RenderSpec, source: seqio.DataSource,
          pre_render=None) -> list[dict[str, tf.Tensor | tf.RaggedTensor]]:
  """The pool fields (text fields as strings) of the first `pool_scan_limit` train records,
  in batches, in source order."""
  ds = source.get_dataset(split="train", shuffle=False)
  if spec.pool_scan_limit is not None:
    ds = ds.take(spec.pool_scan_limit)
  if pre_render is not None:
    ds = pre_render(ds)
  ts = spec.template_set
  keep = _pool_fields(spec) + ([seeding.KEY_FIELD] if seeding.KEY_FIELD in ds.element_spec else [])
  ds = ds.map(tf.autograph.experimental.do_not_convert(lambda ex: {k: ex[k] for k in keep}))
  return [{k: rendering.as_text(v) if k in ts.text_fields() else v for k, v in batch.items()}
          for batch in ds.ragged_batch(_POOL_SCAN_BATCH)]


def _scanned(spec: rendering.RenderSpec, source: seqio.DataSource, pre_render,
             scan_key) -> list[dict[str, tf.Tensor | tf.RaggedTensor]]:
  key = _scan_key(spec, source, scan_key)
  if key is None:
    return _scan(spec, source, pre_render)
  scans = _shared.scans
  if key not in scans:
    scans[key] = _scan(spec, source, pre_render)
    while len(scans) > _shared.max_datasets:
      scans.popitem(last=False)
  scans.move_to_end(key)
  return scans[key]


def load_pool(spec: rendering.RenderSpec, source: seqio.DataSource, pre_render=None,
              scan_key=None) -> dict[str, tf.Tensor | tf.RaggedTensor]:
  """The seeded pool: the pool_size train records with the smallest hash of (render seed,
  task, record identity) among the first `pool_scan_limit` train records (source order),
  found in one streaming pass (runs when the dataset is built). `scan_key` (hashable) names
  what `pre_render` does, so that inside `shared_pool_scans` tasks with equal keys share
  the scan."""
  ts = spec.template_set
  prefix = spec.prefix()
  pool, ranks = None, None
  for batch in _scanned(spec, source, pre_render, scan_key):
    key = seeding.example_key(batch, ts.text_fields())
    bad = _bad_answers(spec, batch)
    if bool(tf.reduce_any(bad)):
      if spec.answer_not_in_options == "error":
        _refuse_bad_answer(spec, batch, key, bad)
      rendering.counter(spec.task_name, "answer_not_in_options").assign_add(
          tf.reduce_sum(tf.cast(bad, tf.int64)))
      good = tf.where(tf.logical_not(bad))[:, 0]
      batch = {k: tf.gather(v, good) for k, v in batch.items()}
      key = tf.gather(key, good)
    rank = seeding.hash_index(prefix, key, "pool", _FINGERPRINT_BUCKETS)
    if pool is not None:
      batch = {k: tf.concat([pool[k], batch[k]], axis=0) for k in batch}
      rank = tf.concat([ranks, rank], axis=0)
    size = min(spec.pool_size, int(rank.shape[0]))
    _, best = tf.math.top_k(-rank, k=size)  # Smallest ranks; ties keep the earlier record.
    pool = {k: tf.gather(v, best) for k, v in batch.items()}
    ranks = tf.gather(rank, best)
  if pool is None or int(ranks.shape[0]) == 0:
    raise ValueError(f"{spec.task_name}: the train split is empty, so few-shot has no exemplars.")
  pool.pop(seeding.KEY_FIELD, None)
  if ts.options_field and not isinstance(pool[ts.options_field], tf.RaggedTensor):
    pool[ts.options_field] = tf.RaggedTensor.from_tensor(pool[ts.options_field])
  return pool


def _compiled_table(spec: rendering.RenderSpec):
  """Per-template constants: instruction text, and whether input / body end with a cue."""
  compiled = spec.compiled
  return (tf.constant([c.instruction for c in compiled]),
          tf.constant([c.ends_with_cue for c in compiled]),
          tf.constant([c.body_ends_with_cue for c in compiled]),
          any(c.instruction for c in compiled) and not spec.fmt.template_mix)


def assemble(shots_text: tf.Tensor, query: tf.Tensor, instruction: tf.Tensor,
             separator: tf.Tensor, placement: tf.Tensor, counts: tuple[int, ...]) -> tf.Tensor:
  """One candidate prompt per count j: the first j exemplars (each ends with the separator),
  then the query; the instruction inline (0), once before the exemplars (1) or once after
  them (2). Trailing spaces are trimmed from every line."""
  prompts = []
  for j in counts:
    shown = tf.strings.reduce_join(shots_text[:j])
    prompts.append(tf.stack([
        tf.strings.join([shown, query]),
        tf.strings.join([instruction, separator, shown, query]),
        tf.strings.join([shown, instruction, "\n", query]),
    ])[placement])
  return tf.strings.regex_replace(tf.stack(prompts), r"[ \t]+(\n|$)", r"\1")


def render_few_shot(dataset: tf.data.Dataset, output_features: Mapping[str, seqio.Feature], *,
                    spec: rendering.RenderSpec, source: seqio.DataSource,
                    pre_render=None, scan_key=None) -> tf.data.Dataset:
  """Reads the template set's fields (+ options, idx); writes inputs, targets, template,
  prompt_format, num_exemplars. Queries that cannot fit the smallest count are dropped."""
  fmt = spec.fmt
  prefix = spec.prefix()
  names = spec.template_names()
  ts = spec.template_set
  text_fields = ts.text_fields()
  vocab = output_features["inputs"].vocabulary
  pool = load_pool(spec, source, pre_render, scan_key)
  pool_text = {k: pool[k] for k in text_fields}
  pool_fp = _fingerprint(pool_text)
  pool_size = int(pool_fp.shape[0])
  counts = tuple(sorted(fmt.shots))
  max_shots = counts[-1]
  num_candidates = min(pool_size, max_shots + 2)
  instructions, cue_full, cue_body, can_place = _compiled_table(spec)

  def render(fields, choices, rows, draw, body):
    return rendering.render_rows(spec, fields, choices, rows, draw, body=body)

  @tf.autograph.experimental.do_not_convert
  def fn(ex):
    key = seeding.example_key(ex, text_fields)
    fields = {k: v[None] for k, v in rendering.record_fields(spec, ex).items()}
    template = rendering.draw_template(spec, prefix, key)
    wanted = tf.gather(tf.constant(fmt.shots, tf.int64),
                       seeding.hash_index(prefix, key, "shots", len(fmt.shots)))
    separator = seeding.pick(formats_lib.EXEMPLAR_SEPARATORS, seeding.hash_index(
        prefix, key, "separator", len(formats_lib.EXEMPLAR_SEPARATORS)))
    lead = seeding.pick(layout.ANSWER_LEADS,
                        seeding.hash_index(prefix, key, "answer_lead", len(layout.ANSWER_LEADS)))
    placement = tf.constant(0, tf.int64)
    if can_place:
      placement = tf.where(tf.strings.length(tf.gather(instructions, template)) > 0,
                           seeding.hash_index(prefix, key, "placement", len(layout.PLACEMENTS)),
                           tf.constant(0, tf.int64))
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
    q_choices = None
    if fmt.options and ts.options_field:
      q_choices = tf.RaggedTensor.from_tensor(ex[ts.options_field][None])
    # Exemplars and the query (last row) render in one pass: one traced render, not two.
    all_fields = {k: tf.concat([ex_fields[k], fields[k]], axis=0) for k in ex_fields}
    all_choices = None if q_choices is None else tf.concat([ex_choices, q_choices], axis=0)
    all_rows = tf.concat([rows, template[None]], axis=0)
    rendered = render(all_fields, all_choices, all_rows, draw, False)
    if can_place:
      placed = placement > 0
      bodies = render(all_fields, all_choices, all_rows, draw, True)
      all_in = tf.where(placed, bodies.inputs, rendered.inputs)
      all_cue = tf.where(placed, tf.gather(cue_body, all_rows), tf.gather(cue_full, all_rows))
    else:
      all_in, all_cue = rendered.inputs, tf.gather(cue_full, all_rows)
    ex_in, q_in, ex_cue, q_cue = all_in[:-1], all_in[-1], all_cue[:-1], all_cue[-1]
    q_found = rendered.answer_found[-1:]
    joiner = tf.where(ex_cue, " ", tf.strings.join(["\n", lead, " "]))
    shots_text = tf.strings.join([ex_in, joiner, rendered.targets[:-1], separator])  # + separator
    query = tf.strings.join([q_in, tf.where(q_cue, "", tf.strings.join(["\n", lead]))])
    prompts = assemble(shots_text, query, tf.gather(instructions, template), separator,
                       placement, counts)
    # One encode per candidate (a batch encode is ragged for some vocabularies, not others).
    lengths = tf.stack([tf.size(vocab.encode_tf(prompts[i]), out_type=tf.int64)
                        for i in range(len(counts))])
    j = tf.constant(counts, tf.int64)
    fits = (j <= tf.minimum(wanted, found)) & (lengths <= spec.token_budget)
    best = tf.reduce_max(tf.where(fits, j, 0))
    pick = tf.argmax(tf.cast(tf.equal(j, best), tf.int32))
    checks = rendering.check_answers(spec, q_found, key[None], fields[ts.answer_field], q_choices)
    with tf.control_dependencies(checks):
      out = {"inputs": tf.gather(prompts, pick), "targets": tf.identity(rendered.targets[-1]),
             "template": tf.gather(names, template), "prompt_format": tf.constant(fmt.name),
             NUM_EXEMPLARS: best, _WANTED: wanted}
    out[rendering.KEEP_FIELD] = q_found[0]
    return out

  dropped = rendering.counter(spec.task_name, "few_shot_dropped")
  cut = rendering.counter(spec.task_name, "few_shot_cut")

  @tf.autograph.experimental.do_not_convert
  def keep(ex):
    fitted = ex[NUM_EXEMPLARS] > 0
    counted = [dropped.assign_add(tf.cast(tf.logical_not(fitted), tf.int64)),
               cut.assign_add(tf.cast(fitted & (ex[NUM_EXEMPLARS] < ex[_WANTED]), tf.int64))]
    with tf.control_dependencies(counted):
      return tf.identity(fitted)

  @tf.autograph.experimental.do_not_convert
  def strip(ex):
    return {k: v for k, v in ex.items() if k != _WANTED}

  logging.info("%s: few-shot pool of %d train records, budget %d tokens.",
               spec.task_name, pool_size, spec.token_budget)
  dataset = rendering.drop_unkept(dataset.map(fn, num_parallel_calls=tf.data.AUTOTUNE))
  return dataset.filter(keep).map(strip, num_parallel_calls=tf.data.AUTOTUNE)
