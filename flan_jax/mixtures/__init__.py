"""Balanced mixtures: examples-proportional rates with caps, the Flan 2022 recipe, streaming
JSONL export and SeqIO/Beam caching.

Modules: `rates` (counts, caps, shares), `builder` (nested mixtures from a spec),
`truncation` (real per-task caps), `recipe` (Flan 2022 and its toy demonstration),
`export` (JSONL), `caching` (Beam pipeline and cache dirs).
"""
