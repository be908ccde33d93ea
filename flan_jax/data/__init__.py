"""Task data: templates, prompt formats, sources, the toy collection, vocabularies, the catalog.

Public: `templates` (Template, TemplateSet), `formats` (task names, prompt formats),
`registration`, `sources`, `catalog` (lazy lookup by name), `catalog_spec` (the collection
contract), `preflight`, `metrics` (SeqIO metric functions), `truncation` (capped tasks).
"""
