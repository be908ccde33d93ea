"""Balanced mixtures: examples-proportional rates with caps, the Flan 2022 recipe, streaming
JSONL export and SeqIO/Beam caching.

Modules: `builder` (pure planning: the rate rule, flat mixtures from a spec), `rates`
(counts, stats files, shares of any seqio mixture), `recipe` (Flan 2022, its named
mixtures, `recipe_rates` from DatasetSpecs), `export` (JSONL) with `spill` (position-keyed
spill files), `caching` (Beam pipeline and cache dirs). Real per-task caps (`{task}#cap{N}`)
are tasks: `flan_jax.data.truncation`.
"""
