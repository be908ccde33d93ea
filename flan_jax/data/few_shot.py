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
import dataclasses
from typing import Iterator, Mapping

from absl import logging
import seqio
import tensorflow as tf

from flan_jax.data import formats as formats_lib
from flan_jax.data import layout
from flan_jax.data import rendering
from flan_jax.data import seeding

_FINGERPRINT_BUCKETS = 2**62
_POOL_SCAN_BATCH = 4096
NUM_EXEMPLARS = "num_exemplars"  # Feature of few-shot rows: how many exemplars the prompt has.
_WANTED = "_wanted_exemplars"


AnswerNotInOptionsError = rendering.AnswerNotInOptionsError  # A pool record's, too.


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
  raise rendering.answer_not_in_options_error(
      spec.task_name, key[i].numpy().decode(),
      rendering.as_text(batch[ts.answer_field])[i].numpy().decode(),
      [c.decode() for c in rendering.choices_of(spec, batch)[i].numpy()])


# A dataset's scan is kept for its other formats only up to this many bytes of text; a larger
# one is streamed (and scanned again by each format), so sharing never costs unbounded memory.
MAX_SHARED_SCAN_BYTES = 256 << 20


class SharedScans:
  """The train records a dataset's few-shot pools are drawn from, kept while pipelines are
  built (`shared_pool_scans`), so the formats of one dataset scan its train split once."""

  def __init__(self, max_datasets: int = 2):
    self.max_datasets = max_datasets
    self.scans: collections.OrderedDict = collections.OrderedDict()

  def get(self, key) -> list | None:
    """The kept scan of `key` (now the most recently used), or None."""
    if key not in self.scans:
      return None
    self.scans.move_to_end(key)
    return self.scans[key]

  def keep(self, key, batches: list) -> None:
    self.scans[key] = batches
    while len(self.scans) > self.max_datasets:
      self.scans.popitem(last=False)


_shared: SharedScans | None = None


@contextlib.contextmanager
def shared_pool_scans(scans: SharedScans | None = None):
  """Within this block, few-shot tasks of the same dataset (same source, pre-render steps,
  template set and scan limit) read its train split once for their pools instead of once
  each; each task still ranks the records with its own seed. Tasks are built in name order,
  so a dataset's formats come one after another and only the last `max_datasets` scans
  (each at most MAX_SHARED_SCAN_BYTES of text) are held in memory; a new SharedScans (all
  dropped when the block ends) unless `scans` carries them from one block to the next."""
  global _shared
  outer, _shared = _shared, scans if scans is not None else SharedScans()
  try:
    yield
  finally:
    _shared = outer


def _scan(spec: rendering.RenderSpec, source: seqio.DataSource,
          pre_render=None) -> Iterator[dict[str, tf.Tensor | tf.RaggedTensor]]:
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
  for batch in ds.ragged_batch(_POOL_SCAN_BATCH):
    yield {k: rendering.as_text(v) if k in ts.text_fields() else v for k, v in batch.items()}


def _text_bytes(batch: Mapping[str, tf.Tensor | tf.RaggedTensor]) -> int:
  total = 0
  for value in batch.values():
    flat = value.flat_values if isinstance(value, tf.RaggedTensor) else value
    if flat.dtype == tf.string:
      total += int(tf.reduce_sum(tf.strings.length(flat)))
  return total


def _scanned(spec: rendering.RenderSpec, source: seqio.DataSource, pre_render,
             scan_key) -> Iterator[dict[str, tf.Tensor | tf.RaggedTensor]]:
  """The scan's batches: kept for the dataset's other formats inside `shared_pool_scans`
  (when `scan_key` is given and the text stays under MAX_SHARED_SCAN_BYTES), else streamed."""
  if _shared is None or scan_key is None:
    yield from _scan(spec, source, pre_render)
    return
  shared = _shared
  key = (source, scan_key, spec.template_set, spec.pool_scan_limit)
  kept = shared.get(key)
  if kept is not None:
    yield from kept
    return
  kept, size = [], 0
  for batch in _scan(spec, source, pre_render):
    if kept is not None:
      size += _text_bytes(batch)
      if size <= MAX_SHARED_SCAN_BYTES:
        kept.append(batch)
      else:
        kept = None  # Too large to keep: each format streams its own scan.
    yield batch
  if kept is not None:
    shared.keep(key, kept)


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


@dataclasses.dataclass(frozen=True)
class _Pool:
  """A task's exemplar pool: text fields [P], choices [P, None] (options formats), and each
  record's content fingerprint [P] (to keep a query out of its own exemplars)."""
  text: dict[str, tf.Tensor]
  choices: tf.RaggedTensor | None
  fingerprints: tf.Tensor

  @property
  def size(self) -> int:
    return int(self.fingerprints.shape[0])


@dataclasses.dataclass(frozen=True)
class _Layout:
  """Per-template constants: instruction text, whether input / body end with an answer cue,
  and whether this format may state the instruction once, before or after the exemplars."""
  instructions: tf.Tensor
  cue_full: tf.Tensor
  cue_body: tf.Tensor
  can_place: bool

  @classmethod
  def of(cls, spec: rendering.RenderSpec) -> "_Layout":
    compiled = spec.compiled
    return cls(tf.constant([c.instruction for c in compiled]),
               tf.constant([c.ends_with_cue for c in compiled]),
               tf.constant([c.body_ends_with_cue for c in compiled]),
               any(c.instruction for c in compiled) and not spec.fmt.template_mix)


@dataclasses.dataclass(frozen=True)
class _Draws:
  """One query's seeded choices: template, wanted count, separator, answer lead, instruction
  placement and the prompt-wide draws (list style, CoT cue)."""
  template: tf.Tensor
  wanted: tf.Tensor
  separator: tf.Tensor
  lead: tf.Tensor
  placement: tf.Tensor
  prompt: rendering.PromptDraw


def _draw(spec: rendering.RenderSpec, lay: _Layout, key: tf.Tensor) -> _Draws:
  fmt, prefix = spec.fmt, spec.prefix()
  template = rendering.draw_template(spec, prefix, key)
  if fmt.x_shot_candidates:  # FLAN's x-shot: candidates whose template is the query's.
    same = seeding.draw_uniforms(prefix, key, "x_shot", fmt.x_shot_candidates) < (
        1.0 / len(spec.templates))
    wanted = tf.minimum(tf.reduce_sum(tf.cast(same, tf.int64)), max(fmt.shots))
  elif fmt.ask_max:
    wanted = tf.constant(max(fmt.shots), tf.int64)
  else:
    wanted = tf.gather(tf.constant(fmt.shots, tf.int64),
                       seeding.hash_index(prefix, key, "shots", len(fmt.shots)))
  separator = seeding.pick(formats_lib.EXEMPLAR_SEPARATORS, seeding.hash_index(
      prefix, key, "separator", len(formats_lib.EXEMPLAR_SEPARATORS)))
  lead_index = seeding.hash_index(prefix, key, "answer_lead", len(layout.ANSWER_LEADS))
  lead = seeding.pick(layout.ANSWER_LEADS, lead_index)
  placement = tf.constant(0, tf.int64)
  if lay.can_place:
    placement = tf.where(tf.strings.length(tf.gather(lay.instructions, template)) > 0,
                         seeding.hash_index(prefix, key, "placement", len(layout.PLACEMENTS)),
                         tf.constant(0, tf.int64))
  return _Draws(template, wanted, separator, lead, placement,
                rendering.draw_prompt(spec, prefix, key, template, lead_index))


def _exemplars(spec: rendering.RenderSpec, pool: _Pool, key: tf.Tensor, query_fp: tf.Tensor,
               template: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
  """(pool indices, template rows) of up to max-count exemplars: a stateless shuffle of the
  pool minus any copy of the query; template-mix formats draw each exemplar's template."""
  prefix, max_shots = spec.prefix(), max(spec.fmt.shots)
  _, cand = tf.math.top_k(seeding.draw_uniforms(prefix, key, "exemplars", pool.size),
                          k=min(pool.size, max_shots + 2))
  cand = tf.boolean_mask(cand, tf.not_equal(tf.gather(pool.fingerprints, cand), query_fp))
  cand = cand[:max_shots]
  found = tf.shape(cand, out_type=tf.int64)[0]
  if spec.fmt.template_mix:
    rows = tf.random.stateless_uniform(
        [max_shots], seeding.stateless_seed(prefix, key, "exemplar_templates"), 0,
        len(spec.templates), dtype=tf.int64, alg="philox")[:found]
  else:
    rows = tf.fill([found], template)
  return cand, rows


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


def _candidate_prompts(spec: rendering.RenderSpec, lay: _Layout, draws: _Draws,
                       fields: Mapping[str, tf.Tensor], choices: tf.RaggedTensor | None,
                       rows: tf.Tensor) -> tuple[tf.Tensor, rendering.Rendered]:
  """Renders the exemplars and the query (last row) in one pass and assembles one prompt
  per allowed count; returns them with the rendered rows (the query's target is last)."""
  rendered = rendering.render_rows(spec, fields, choices, rows, draws.prompt,
                                   bodies=lay.can_place)
  inputs, cues = rendered.inputs, tf.gather(lay.cue_full, rows)
  if lay.can_place:
    placed = draws.placement > 0
    inputs = tf.where(placed, rendered.bodies, inputs)
    cues = tf.where(placed, tf.gather(lay.cue_body, rows), cues)
  joiner = tf.where(cues[:-1], " ", tf.strings.join(["\n", draws.lead, " "]))
  shots_text = tf.strings.join([inputs[:-1], joiner, rendered.targets[:-1], draws.separator])
  query = tf.strings.join([inputs[-1], tf.where(cues[-1], "", tf.strings.join(["\n", draws.lead]))])
  prompts = assemble(shots_text, query, tf.gather(lay.instructions, draws.template),
                     draws.separator, draws.placement, tuple(sorted(spec.fmt.shots)))
  return prompts, rendered


def _largest_fitting_count(spec: rendering.RenderSpec, vocab, prompts: tf.Tensor,
                           wanted: tf.Tensor, found: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
  """(count, index) of the largest allowed count <= min(wanted, found) whose prompt fits the
  token budget; count 0 when none fits."""
  counts = tuple(sorted(spec.fmt.shots))
  # One encode per candidate (a batch encode is ragged for some vocabularies, not others).
  lengths = tf.stack([tf.size(vocab.encode_tf(prompts[i]), out_type=tf.int64)
                      for i in range(len(counts))])
  j = tf.constant(counts, tf.int64)
  fits = (j <= tf.minimum(wanted, found)) & (lengths <= spec.token_budget)
  best = tf.reduce_max(tf.where(fits, j, 0))
  return best, tf.argmax(tf.cast(tf.equal(j, best), tf.int32))


def _prompt_fn(spec: rendering.RenderSpec, pool: _Pool, vocab):
  """The per-query map: a record -> its few-shot prompt, target and exemplar count."""
  ts, fmt = spec.template_set, spec.fmt
  names = spec.template_names()
  lay = _Layout.of(spec)
  with_choices = bool(fmt.options and ts.options_field)

  @tf.autograph.experimental.do_not_convert
  def fn(ex):
    key = seeding.example_key(ex, ts.text_fields())
    query = {k: v[None] for k, v in rendering.record_fields(spec, ex).items()}
    draws = _draw(spec, lay, key)
    cand, rows = _exemplars(spec, pool, key, _fingerprint(query)[0], draws.template)
    fields = {k: tf.concat([tf.gather(v, cand), query[k]], axis=0) for k, v in pool.text.items()}
    q_choices = choices = None
    if with_choices:
      q_choices = tf.RaggedTensor.from_tensor(ex[ts.options_field][None])
      choices = tf.concat([tf.gather(pool.choices, cand), q_choices], axis=0)
    prompts, rendered = _candidate_prompts(spec, lay, draws, fields, choices,
                                           tf.concat([rows, draws.template[None]], axis=0))
    best, pick = _largest_fitting_count(spec, vocab, prompts, draws.wanted,
                                        tf.shape(cand, out_type=tf.int64)[0])
    q_found = rendered.answer_found[-1:]
    checks = rendering.check_answers(spec, q_found, key[None], query[ts.answer_field], q_choices)
    with tf.control_dependencies(checks):
      out = {"inputs": tf.gather(prompts, pick), "targets": tf.identity(rendered.targets[-1]),
             "template": tf.gather(names, draws.template), "prompt_format": tf.constant(fmt.name),
             NUM_EXEMPLARS: best, _WANTED: draws.wanted}
    out[rendering.KEEP_FIELD] = q_found[0]
    return out

  return fn


def render_few_shot(dataset: tf.data.Dataset, output_features: Mapping[str, seqio.Feature], *,
                    spec: rendering.RenderSpec, source: seqio.DataSource,
                    pre_render=None, scan_key=None) -> tf.data.Dataset:
  """Reads the template set's fields (+ options, idx); writes inputs, targets, template,
  prompt_format, num_exemplars. Queries that cannot fit the smallest count are dropped."""
  ts = spec.template_set
  records = load_pool(spec, source, pre_render, scan_key)
  text = {k: records[k] for k in ts.text_fields()}
  pool = _Pool(text, records[ts.options_field] if spec.fmt.options and ts.options_field else None,
               _fingerprint(text))
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
               spec.task_name, pool.size, spec.token_budget)
  fn = _prompt_fn(spec, pool, output_features["inputs"].vocabulary)
  dataset = rendering.drop_unkept(dataset.map(fn, num_parallel_calls=tf.data.AUTOTUNE))
  return dataset.filter(keep).map(strip, num_parallel_calls=tf.data.AUTOTUNE)
