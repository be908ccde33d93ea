"""Evaluation: metrics, SeqIO evaluators, batch inference."""
