"""Checkpoint interop with Hugging Face transformers and T5X."""
