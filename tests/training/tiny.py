"""Tiny model and batch builders shared by the training tests."""

import numpy as np

from flan_jax.models import t5


def tiny_config(**overrides) -> t5.T5Config:
  fields = dict(vocab_size=128, emb_dim=32, num_heads=2, head_dim=16, mlp_dim=64,
                num_encoder_layers=2, num_decoder_layers=2, dropout_rate=0.0)
  fields.update(overrides)
  return t5.T5Config(**fields)


def copy_batch(batch_size=16, inputs=24, targets=12, vocab=128, seed=0) -> dict:
  """A learnable batch: the target is the first `targets` input tokens."""
  rng = np.random.RandomState(seed)
  enc = rng.randint(2, vocab, (batch_size, inputs)).astype(np.int32)
  tgt = enc[:, :targets].copy()
  dec_in = np.concatenate([np.zeros((batch_size, 1), np.int32), tgt[:, :-1]], 1)
  weights = np.ones_like(tgt)
  weights[:, -2:] = 0  # Some padding-like positions that must not count.
  return {"encoder_input_tokens": enc, "decoder_input_tokens": dec_in,
          "decoder_target_tokens": tgt, "decoder_loss_weights": weights}
