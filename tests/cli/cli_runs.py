"""Runs `flan-jax` in-process, as a test sees it: (exit code, stdout, stderr); the flags of
a tiny training run."""

from flan_jax.cli import main as cli


def run(argv, capsys):
  code = cli.main(argv)
  captured = capsys.readouterr()
  return code, captured.out, captured.err


# A T5 of one layer each side, 2 steps on one toy task, eval included.
SMALL_RUN = ["--gin_file=runs/smoke_cpu.gin", "--gin.TRAIN_STEPS=2",
             "--gin.TASK_FEATURE_LENGTHS={'inputs': 96, 'targets': 16}",
             "--gin.network.T5Config.emb_dim=32", "--gin.network.T5Config.mlp_dim=64",
             "--gin.network.T5Config.num_heads=2", "--gin.network.T5Config.head_dim=16",
             "--gin.network.T5Config.num_encoder_layers=1",
             "--gin.network.T5Config.num_decoder_layers=1", "--gin.BATCH_SIZE=8",
             "--gin.MIXTURE_OR_TASK_NAME='toy.category:zs_opt'", "--gin.EVAL_PERIOD=0",
             "--gin.TrainConfig.eval_mixture_or_task_name='toy.category:zs_opt'",
             "--gin.TrainConfig.eval_num_examples=8", "--gin.TrainConfig.eval_batch_size=8",
             "--gin.TrainConfig.progress_bar=False"]
