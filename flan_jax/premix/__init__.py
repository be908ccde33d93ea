"""Pre-mixed training streams: a mixture rendered and tokenized once (build, Beam build),
described by a manifest, and read by the trainer as one source (reader)."""
