"""flan-jax plan: per-device parameter and optimizer bytes against a hand count."""

import pytest

from flan_jax import errors
from flan_jax.training import optimizers, planning
from tests.training.tiny import tiny_config

LENGTHS = {"inputs": 16, "targets": 8}

# tiny_config: vocab 128, embed 32, 2 heads x 16 (joined 32), gated MLP 64, 2 + 2 layers.
# Per layer: attention q, k, v, out = 4 * 32 * 32; MLP wi_0, wi_1, wo = 3 * 32 * 64.
# Replicated: RMSNorm scales (32 each): encoder 2 per layer + final, decoder 3 per layer
# + final = 4 + 1 + 6 + 1 = 12 scales = 384 floats. Everything else has one axis over
# 'model' (vocab, heads, joined_kv or mlp), so with model=2 each device holds half.
EMBED, RELPOS, LOGITS = 128 * 32, 2 * 32, 32 * 128
ENCODER_LAYER = 4 * 32 * 32 + 3 * 32 * 64
DECODER_LAYER = 8 * 32 * 32 + 3 * 32 * 64
NORMS = 12 * 32
TOTAL = EMBED + 2 * RELPOS + 2 * ENCODER_LAYER + 2 * DECODER_LAYER + LOGITS + NORMS


def test_tiny_t5_counts_by_hand():
  assert TOTAL == 57856
  plan = planning.plan_train_step(
      tiny_config(), 8, LENGTHS, {"data": 4, "model": 2},
      optimizer=optimizers.OptimizerConfig(name="adamw"), compile=False)
  assert plan.num_params == TOTAL
  per_device_floats = (TOTAL - NORMS) // 2 + NORMS
  assert plan.params_bytes == 4 * per_device_floats == 116480
  # AdamW: two param-shaped moments, plus int32 step counts of Adam and of the schedule.
  assert plan.optimizer_bytes == 2 * 4 * per_device_floats + 2 * 4
  # Packed encoder-decoder batch: 3 encoder + 5 decoder int32 features, batch over data=4.
  assert plan.batch_bytes == 4 * (8 // 4) * (3 * 16 + 5 * 8)


def test_pure_data_parallel_replicates_everything():
  plan = planning.plan_train_step(tiny_config(), 8, LENGTHS, {"data": 8},
                                  optimizer=optimizers.OptimizerConfig(name="adamw"),
                                  compile=False)
  assert plan.params_bytes == 4 * TOTAL


def test_compiled_plan_reports_xla_figures_and_verdict():
  plan = planning.plan_train_step(tiny_config(), 8, LENGTHS, {"data": 4, "model": 2},
                                  hbm_bytes=planning.parse_bytes("1GiB"))
  assert plan.temp_bytes > 0 and plan.xla_flops_per_device > 0
  assert plan.fits is True
  tight = planning.plan_train_step(tiny_config(), 8, LENGTHS, {"data": 4, "model": 2},
                                   compile=False, hbm_bytes=1000)
  assert tight.fits is False and "DOES NOT FIT" in tight.format()


def test_parse_sizes_and_meshes():
  assert planning.parse_bytes("32GiB") == 32 * 2**30
  assert planning.parse_bytes("16 GB") == 16 * 10**9
  assert planning.parse_mesh("data=64,model=4") == {"data": 64, "fsdp": 1, "model": 4}
  with pytest.raises(errors.ConfigError, match="memory size"):
    planning.parse_bytes("lots")
  with pytest.raises(errors.ConfigError, match="AXIS=SIZE"):
    planning.parse_mesh("dat=4")


def test_a_mesh_larger_than_the_devices_is_refused():
  with pytest.raises(errors.ConfigError, match="needs 16 devices"):
    planning.plan_train_step(tiny_config(), 8, LENGTHS, {"data": 16}, compile=False)


def test_a_mesh_smaller_than_the_devices_uses_a_subset():
  plan = planning.plan_train_step(tiny_config(), 8, LENGTHS, {"data": 2, "model": 2},
                                  optimizer=optimizers.OptimizerConfig(name="adamw"),
                                  compile=False)
  assert plan.mesh == {"data": 2, "fsdp": 1, "model": 2}
  assert plan.params_bytes == 116480  # Same per-device split as on data=4 x model=2.
