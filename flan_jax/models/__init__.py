"""Model families (T5 encoder-decoder, PaLM-style decoders) and decoding."""
