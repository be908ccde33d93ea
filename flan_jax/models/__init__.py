"""Models and decoding: shared layers and the attention core (`layers`), the T5
encoder-decoder (`t5`) and PaLM-style decoders (`palm`), each with its cached decoding
(`t5_decoding`, `palm_decoding`) over shared pieces (`decoding`); `families` ties them up."""
