"""Task data: templates, prompt formats, rendering, few-shot, the toy collection, vocabularies.

Public: `templates` (Template, TemplateSet), `formats` (task names, prompt formats),
`registration`, `sources` (a researcher's own JSON-lines files), `metrics` (SeqIO metric
functions), `truncation` (capped tasks). The catalog is `flan_jax.catalog`; the readers of
each publisher's files are `flan_jax.readers`.
"""
