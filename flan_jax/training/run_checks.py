"""Start-up checks that need more than the config alone: feature lengths against the
model and memory, TRAIN_STEPS against MODEL_DIR's checkpoint, and the first batch.

All of them run before anything is compiled or written to MODEL_DIR.
"""

from __future__ import annotations

import math
import os
from typing import Any, Callable, Mapping

import jax

from flan_jax import errors

# Most query x key position pairs one attention head may compare: XLA indexes its buffers
# and our relative-position table (T5) with int32, so q_len * k_len must stay below 2**31.
MAX_ATTENTION_PAIRS = 2**31 - 1
# Bytes per attention-score element that live at once in one layer: the float32 logits
# and the float32 softmax probabilities (kept for the backward pass).
SCORE_BYTES = 2 * 4


class TrainingDataError(errors.FlanJaxError):
  """The training data cannot be read or batched (found before compiling)."""


def attention_pairs(lengths: Mapping[str, int], model_config: Any) -> dict[str, tuple]:
  """{attention name: (query length, key length)} for each attention the model runs."""
  inputs, targets = int(lengths["inputs"]), int(lengths["targets"])
  if hasattr(model_config, "num_encoder_layers"):  # Encoder-decoder (T5).
    return {"encoder self-attention": (inputs, inputs),
            "decoder self-attention": (targets, targets),
            "encoder-decoder attention": (targets, inputs)}
  return {"decoder self-attention": (inputs + targets, inputs + targets)}  # Decoder-only.


def check_feature_lengths(config: Any, model_config: Any) -> None:
  """Refuses lengths whose attention exceeds MAX_ATTENTION_PAIRS (a hard limit)."""
  for name, (q, k) in attention_pairs(config.task_feature_lengths, model_config).items():
    if q * k > MAX_ATTENTION_PAIRS:
      longest = math.isqrt(MAX_ATTENTION_PAIRS)
      raise errors.ConfigError(
          f"TASK_FEATURE_LENGTHS {dict(config.task_feature_lengths)} is too long for "
          f"{type(model_config).__name__}: its {name} compares {q:,} x {k:,} = {q * k:.3g} "
          f"position pairs per head, over the hard limit of {MAX_ATTENTION_PAIRS:,} (2^31-1: "
          "XLA and the relative-position table index attention with int32). Keep each "
          f"attended length at or below about {longest:,} tokens (decoder-only models "
          "attend over inputs + targets).")


def device_memory_bytes() -> int:
  """Memory of one local device: its allocator limit, or on CPU the host's memory split
  over the emulated devices."""
  device = jax.local_devices()[0]
  try:
    limit = (device.memory_stats() or {}).get("bytes_limit")
  except Exception:  # pylint: disable=broad-except  # Not every backend reports stats.
    limit = None
  if limit:
    return int(limit)
  host = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
  return host // max(jax.local_device_count(), 1)


def attention_bytes_per_device(config: Any, model_config: Any, data_parallel: int,
                               model_parallel: int) -> tuple[int, str]:
  """A lower bound of one layer's attention-score memory per device, and its largest term.

  batch per device x heads per device x q_len x k_len x SCORE_BYTES: the scores of
  a single layer, before counting weights, optimizer state or other activations.
  """
  micro = max(config.num_microbatches, 1)
  batch = math.ceil(config.batch_size / micro / max(data_parallel, 1))
  heads = math.ceil(model_config.num_heads / max(model_parallel, 1))
  pairs = attention_pairs(config.task_feature_lengths, model_config)
  name, (q, k) = max(pairs.items(), key=lambda item: item[1][0] * item[1][1])
  formula = (f"{name}: {batch} sequences x {heads} heads x {q:,} x {k:,} positions x "
             f"{SCORE_BYTES} bytes")
  return batch * heads * q * k * SCORE_BYTES, formula


def check_memory_for_lengths(config: Any, model_config: Any, mesh: Any, rules: Any,
                             memory_bytes: Callable[[], int] | None = None) -> None:
  """Refuses lengths whose attention scores alone would not fit in a device's memory."""
  from flan_jax.runtime import partitioning  # pylint: disable=g-import-not-at-top
  data_parallel = partitioning.data_parallel_size(mesh, rules)
  model_parallel = max(mesh.devices.size // data_parallel, 1)
  needed, formula = attention_bytes_per_device(config, model_config, data_parallel,
                                               model_parallel)
  available = (memory_bytes or device_memory_bytes)()
  if needed > available:
    raise errors.ConfigError(
        f"TASK_FEATURE_LENGTHS {dict(config.task_feature_lengths)} with BATCH_SIZE="
        f"{config.batch_size} does not fit: one layer's attention scores alone need "
        f"{needed / 2**30:,.1f} GiB per device ({formula}), more than the "
        f"{available / 2**30:,.1f} GiB of one device. Shorten the lengths, lower BATCH_SIZE, "
        "or raise TrainConfig.num_microbatches / PartitionConfig.num_partitions.")


def check_train_steps(config: Any, store: Any) -> None:
  """TRAIN_STEPS is absolute: it must not be below MODEL_DIR's checkpoint step."""
  latest = store.latest_step()
  if latest is not None and latest > config.train_steps:
    raise errors.ConfigError(
        f"TRAIN_STEPS={config.train_steps} is below the step of MODEL_DIR's checkpoint "
        f"({latest}, in {store.directory}); TRAIN_STEPS counts all steps, including those "
        f"already trained. Set TRAIN_STEPS above {latest} to train further, or use a new "
        "MODEL_DIR. Nothing was changed.")


_NOTHING_WRITTEN = "Nothing was compiled or written."


def first_batch(name: str, make_batches: Callable[[], Any]) -> tuple[Any, Any]:
  """(batches, first batch), or a TrainingDataError naming the task and the problem."""
  errors.take_pipeline_error()  # Only an error noted while building this batch counts.
  try:
    batches = make_batches()
    return batches, next(batches)
  except TrainingDataError:
    raise
  except errors.FlanJaxError as e:  # A bad record, a missing file: named by its reader.
    raise TrainingDataError(f"{str(e).rstrip('.')}. {_NOTHING_WRITTEN}") from e
  except StopIteration as e:
    raise TrainingDataError(
        f"The training data of {name!r} yields no batch (empty split, or every example "
        "filtered out). Nothing was compiled or written.") from e
  except Exception as e:  # pylint: disable=broad-except  # TF/SeqIO raise many kinds.
    noted = errors.take_pipeline_error()  # A bad record, named by its reader.
    if noted is not None:
      raise TrainingDataError(f"{str(noted).rstrip('.')}. {_NOTHING_WRITTEN}") from e
    # TF prefixes the real error with "in user code:" and a traceback: keep its last line.
    lines = [line.strip() for line in str(e).strip().splitlines() if line.strip()]
    detail = lines[-1] if lines else ""
    raise TrainingDataError(
        f"The first training batch of {name!r} could not be built: {type(e).__name__}: "
        f"{detail[:400]}. Check that every source record has the fields the task's "
        f"preprocessors use (`flan-jax tasks show {name}` renders examples). Nothing was "
        "compiled or written.") from e
