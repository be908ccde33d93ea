"""Where each publisher's files are read: one module per Flan 2022 source.

`cot` (FLAN cot_data TSVs), `niv2` (Super-Natural Instructions task JSONs as a SeqIO source;
`niv2_files`, the file format and counts, without TensorFlow), `p3` (bigscience/P3
tfrecord or Parquet), `dialog` (TFDS wiki_dialog, qrecc), `tfds_check` (a TFDS source that
checks the data is prepared), `local_data` (FLAN_JAX_<KEY>_DIR folders), `layouts` (where
each local source's files live and how to get them), `lazy_source` (reads on first use).
"""
