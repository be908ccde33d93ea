"""Evaluation: SeqIO evaluators, batched prediction, inference and held-out suites.

Public: `evaluator` (the in-training evaluator), `predict.Predictor`, `infer`
(load_model_dir, write_predictions), `rank_classification`, `suite_tasks` / `suite_report`
(BBH, MMLU, held-in, CoT), `contamination`. Task metrics are in `flan_jax.data.metrics`.
"""
