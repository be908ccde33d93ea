"""Several hundred small SeqIO tasks whose token ids say which task and record they are.

Task k's record i: inputs [2 + k % 60, 2 + k // 60, 2 + i % 60, ...] (3 to 7 tokens),
targets [2 + (k + i) % 60]. Rates: task k has rate 1 + k % 4, so the tasks of each rate
class r hold r / 10 of the mixture (a quarter of the tasks per class).
"""

import seqio
import tensorflow as tf

NUM_TASKS = 300
NUM_RECORDS = 12
MIXTURE = "premix_test.mix"
VOCAB_SIZE = 64


def task_name(k: int) -> str:
  return f"premix_test.t{k:03d}"


def rate(k: int) -> float:
  return float(1 + k % 4)


def record(k: int, i: int) -> tuple[list[int], list[int]]:
  inputs = [2 + k % 60, 2 + k // 60] + [2 + (i + j) % 60 for j in range(1 + i % 5)]
  return inputs, [2 + (k + i) % 60]


def task_of_inputs(inputs) -> int:
  return int(inputs[0] - 2) + 60 * int(inputs[1] - 2)


def register(num_tasks: int = NUM_TASKS, mixture: str = MIXTURE) -> str:
  """Registers (once) the tasks and the mixture of the first `num_tasks`; returns its name."""
  vocab = seqio.PassThroughVocabulary(size=VOCAB_SIZE)
  features = {"inputs": seqio.Feature(vocab), "targets": seqio.Feature(vocab)}
  for k in range(num_tasks):
    if task_name(k) in seqio.TaskRegistry.names():
      continue
    padded = [record(k, i)[0] + [0] * (7 - len(record(k, i)[0])) for i in range(NUM_RECORDS)]
    targets = [record(k, i)[1] for i in range(NUM_RECORDS)]

    def make(split, shuffle_files, seed=None, _inputs=padded, _targets=targets):
      del split, shuffle_files, seed
      return tf.data.Dataset.from_tensor_slices({"inputs": _inputs, "targets": _targets}).map(
          lambda ex: {"inputs": tf.boolean_mask(ex["inputs"], ex["inputs"] > 0),
                      "targets": ex["targets"]})

    source = seqio.FunctionDataSource(make, splits=("train",),
                                      num_input_examples={"train": NUM_RECORDS})
    seqio.TaskRegistry.add(task_name(k), source=source, preprocessors=[],
                           output_features=features, shuffle_buffer_size=64)
  if mixture not in seqio.MixtureRegistry.names():
    seqio.MixtureRegistry.add(mixture, [(task_name(k), rate(k)) for k in range(num_tasks)])
  return mixture
