"""The T5 FLOPs count used for MFU agrees with the model's real parameter tree."""

import flax.linen as nn
import jax
import numpy as np

from flan_jax.models import t5


def test_dense_flops_are_six_times_matmul_params_times_tokens():
  config = t5.T5Config(vocab_size=96, emb_dim=16, num_heads=2, head_dim=8, mlp_dim=24,
                       num_encoder_layers=2, num_decoder_layers=3)
  boxed = jax.eval_shape(lambda r: t5.Transformer(config).init(
      r, encoder_input_tokens=np.ones((1, 4), np.int32),
      decoder_input_tokens=np.ones((1, 4), np.int32),
      decoder_target_tokens=np.ones((1, 4), np.int32), enable_dropout=False),
      jax.random.PRNGKey(0))["params"]
  params = nn.meta.unbox(boxed)

  def kernels(tree):
    return sum(int(np.prod(x.shape)) for path, x in jax.tree_util.tree_leaves_with_path(tree)
               if jax.tree_util.keystr(path).endswith("['kernel']"))

  batch, l_in, l_out = 3, 10, 6
  kv = config.num_heads * config.head_dim
  attention = 4 * batch * kv * (2 * l_in**2 + 3 * (l_out**2 + l_out * l_in))
  dense = 2 * batch * (kernels(params["encoder"]) * l_in + kernels(params["decoder"]) * l_out)
  got = t5.train_flops_per_step(config, batch, {"inputs": l_in, "targets": l_out})
  assert got == 3.0 * (dense + attention)
