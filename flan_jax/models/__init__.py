"""Models and decoding: the T5 encoder-decoder (`t5`), shared layers, cached decoding."""
