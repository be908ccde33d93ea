"""The sharded training stack: optimizers, losses, train steps, the trainer.

Public: `trainer.train`, `config.TrainConfig`, `optimizers.OptimizerConfig`,
`losses.LossConfig`, `planning` (memory/FLOPs plans). Mesh, checkpoints and MODEL_DIR live
in `flan_jax.runtime`, shared with evaluation.
"""
