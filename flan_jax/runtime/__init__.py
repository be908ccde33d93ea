"""What training, evaluation, inference and conversion share, below all of them.

Public modules: `partitioning` (PartitionConfig, create_mesh, logical axis rules),
`distributed` (multi-host start-up), `param_layout` (param_layout: sharded abstract params),
`checkpoints` (CheckpointStore, newest_restorable), `model_dir` (MODEL_DIR's layout, the run
record: read_run_record / write_run_record, restore_numpy_params).
Nothing here imports training, evaluation, interop or cli.
"""
