"""Rank classification: the answer is the listed choice the model gives the highest likelihood.

Works for any task whose examples carry a `choices` feature (each choice spelled as the target
would be; MMLU: the letters A-D). Each (prompt, choice) pair is scored by summed target-token
log-likelihood without EOS (the model family's `score_pairs`: T5 and decoder-only alike); for
one-token choices such as MMLU's letters this is the first-token log-probability the
published numbers compared.
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

# inputs [N, Li] and targets [N, Lt] int32 (0-padded) -> summed log-likelihood [N].
Scorer = Callable[[np.ndarray, np.ndarray], np.ndarray]
CHOICES = "choices"


def _text(value) -> str:
  return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def choices_of(example: Mapping) -> list[str]:
  return [_text(c) for c in example.get(CHOICES, [])]


def rank_choices(examples: Sequence[Mapping], scorer: Scorer, encode: Callable[[str], list],
                 target_length: int, input_length: int | None = None) -> list[int]:
  """Index of the highest-scoring choice of each example (the first one on ties).

  `examples` carry `inputs` (token ids) and `choices`; `encode` turns a choice into ids.
  Inputs are padded (or cut) to `input_length` (default: the longest) so shapes stay fixed.
  """
  inputs_rows, target_rows, counts = [], [], []
  for i, example in enumerate(examples):
    choices = choices_of(example)
    if not choices:
      raise ValueError(f"Example {i} has no {CHOICES!r}: rank classification needs the task's "
                       "answer choices.")
    counts.append(len(choices))
    for choice in choices:
      inputs_rows.append(np.asarray(example["inputs"], np.int32))
      target_rows.append(list(encode(choice))[:target_length])
  if not inputs_rows:
    return []
  input_length = input_length or max(len(r) for r in inputs_rows)
  inputs = np.zeros((len(inputs_rows), input_length), np.int32)
  targets = np.zeros((len(inputs_rows), target_length), np.int32)
  for row, (tokens, ids) in enumerate(zip(inputs_rows, target_rows)):
    inputs[row, :min(len(tokens), input_length)] = tokens[:input_length]
    targets[row, :len(ids)] = ids
  scores = np.asarray(scorer(inputs, targets), np.float64)
  best, start = [], 0
  for count in counts:
    best.append(int(np.argmax(scores[start:start + count])))
    start += count
  return best


def rank_accuracy(examples: Iterable[Mapping], chosen: Sequence[int]) -> dict[str, float]:
  """Percent of examples whose chosen choice equals the target text, and how many were scored."""
  examples = list(examples)
  hits = 0
  for example, index in zip(examples, chosen):
    target = _text(example.get("targets_pretokenized", "")).strip()
    hits += choices_of(example)[index].strip() == target
  n = len(examples)
  return {"rank_accuracy": 100.0 * hits / n if n else 0.0, "num_examples": float(n)}


def model_scorer(model, params, mesh, rules, param_shardings, batch_size: int) -> Scorer:
  """A Scorer over a sharded model: fixed-size batches (last one padded), jitted once."""
  import jax  # pylint: disable=g-import-not-at-top
  from flan_jax.models import families  # pylint: disable=g-import-not-at-top
  from flan_jax.runtime import partitioning  # pylint: disable=g-import-not-at-top
  dp = partitioning.data_parallel_size(mesh, rules)
  size = -(-batch_size // dp) * dp
  batch_sharding = partitioning.batch_sharding(mesh, rules)

  score_pairs = families.family_of(model.config).score_pairs
  jitted = jax.jit(lambda p, inputs, targets: score_pairs(model, p, inputs, targets), in_shardings=(param_shardings, batch_sharding, batch_sharding),
                   out_shardings=partitioning.replicated(mesh))

  def scorer(inputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    out = []
    for start in range(0, len(inputs), size):
      chunk_in, chunk_tg = inputs[start:start + size], targets[start:start + size]
      pad_in = np.zeros((size,) + chunk_in.shape[1:], np.int32)
      pad_tg = np.zeros((size,) + chunk_tg.shape[1:], np.int32)
      pad_in[:len(chunk_in)], pad_tg[:len(chunk_tg)] = chunk_in, chunk_tg
      put = lambda a: jax.make_array_from_callback(a.shape, batch_sharding, lambda i: a[i])
      out.append(np.asarray(jitted(params, put(pad_in), put(pad_tg)))[:len(chunk_in)])
    return np.concatenate(out) if out else np.zeros((0,), np.float32)
  return scorer


def evaluate_tasks(task_datasets: Mapping, output_features: Mapping, scorer: Scorer,
                   lengths: Mapping[str, int]) -> dict[str, dict[str, float]]:
  """{task: rank_accuracy, num_examples} for each task whose examples list choices.

  `task_datasets`: {task name: its (already built, e.g. an evaluator's cached) tf.data dataset}.
  """
  out = {}
  for name, ds in task_datasets.items():
    if CHOICES not in ds.element_spec:
      continue
    examples = list(ds.as_numpy_iterator())
    vocabulary = output_features[name]["targets"].vocabulary
    chosen = rank_choices(examples, scorer, vocabulary.encode, lengths["targets"],
                          lengths["inputs"])
    out[name] = rank_accuracy(examples, chosen)
  return out
