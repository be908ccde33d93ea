"""Rank classification picks the choice with the highest score, compared to a hand computation."""

import numpy as np

from flan_jax.evaluation import rank_classification as rc

# Hand-set log-likelihoods: SCORES[first input token][first target token].
SCORES = {5: {11: -3.0, 12: -1.0, 13: -2.0},   # example 0: choice "B" (token 12) wins.
          6: {11: -0.5, 12: -4.0, 13: -0.7}}   # example 1: choice "A" (token 11) wins.
TOKENS = {"A": [11], "B": [12], "C": [13]}


def stub_scorer(inputs, targets):
  return np.array([SCORES[int(i[0])][int(t[0])] for i, t in zip(inputs, targets)])


def test_picks_highest_scoring_choice():
  examples = [{"inputs": np.array([5, 7, 1]), "choices": [b"A", b"B", b"C"],
               "targets_pretokenized": b"B"},
              {"inputs": np.array([6, 1]), "choices": [b"A", b"B", b"C"],
               "targets_pretokenized": b"C"}]
  seen = []

  def scorer(inputs, targets):
    seen.append((inputs.shape, targets.shape))
    return stub_scorer(inputs, targets)

  chosen = rc.rank_choices(examples, scorer, TOKENS.get, target_length=4, input_length=8)
  assert chosen == [1, 0]
  assert seen == [((6, 8), (6, 4))]  # One row per (example, choice), padded to fixed shapes.
  assert rc.rank_accuracy(examples, chosen) == {"rank_accuracy": 50.0, "num_examples": 2.0}


def test_ties_go_to_the_first_choice_and_choice_counts_may_differ():
  examples = [{"inputs": np.array([5]), "choices": [b"A", b"C"]},
              {"inputs": np.array([6]), "choices": [b"A", b"B", b"C"]}]
  flat = lambda inputs, targets: np.zeros(len(inputs))
  assert rc.rank_choices(examples, flat, TOKENS.get, target_length=2) == [0, 0]
  assert rc.rank_choices(examples, stub_scorer, TOKENS.get, target_length=2) == [1, 0]


def test_model_scorer_sums_target_log_probs_as_a_hand_computation():
  """A tiny T5 scores (input, choice) pairs; compare with log-softmax of its own logits."""
  import jax
  import jax.numpy as jnp
  from flan_jax.models import t5
  from flan_jax.runtime import partitioning
  config = t5.T5Config(vocab_size=32, emb_dim=16, num_heads=2, head_dim=8, mlp_dim=32,
                       num_encoder_layers=1, num_decoder_layers=1, dropout_rate=0.0)
  model = t5.Transformer(config)
  inputs = np.array([[3, 4, 1, 0], [5, 1, 0, 0]], np.int32)
  targets = np.array([[7, 9], [8, 0]], np.int32)
  decoder_inputs = np.array([[0, 7], [0, 8]], np.int32)
  params = model.init(jax.random.PRNGKey(0), inputs, decoder_inputs, targets,
                      enable_dropout=False)["params"]
  logits = model.apply({"params": params}, inputs, decoder_inputs, targets, enable_dropout=False)
  logp = jax.nn.log_softmax(logits, axis=-1)
  expected = [float(logp[0, 0, 7] + logp[0, 1, 9]), float(logp[1, 0, 8])]
  mesh = partitioning.create_mesh(partitioning.PartitionConfig(num_partitions=1))
  rules = partitioning.PartitionConfig(num_partitions=1).rules()
  replicated = jax.tree.map(lambda _: partitioning.replicated(mesh), params)
  scorer = rc.model_scorer(model, params, mesh, rules, replicated, batch_size=8)
  with jax.set_mesh(mesh):
    got = scorer(inputs, targets)
  np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
