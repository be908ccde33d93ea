"""The sharded training stack: partitioning, optimizers, train steps, checkpoints."""
