"""Small real Hugging Face tokenizers written by the tests (nothing downloaded): a Llama-2
style one (SentencePiece-like BPE with byte fallback, <unk>/<s>/</s> at 0/1/2, a
post-processor that adds <s>) and a byte-level BPE one (GPT-2 / Llama 3 style: id 0 is "!",
optionally with Llama 3's `<|begin_of_text|>`)."""

import json
import os

CORPUS = [
    "Question: what is the capital of France? Answer: Paris.",
    "Premise: the cat sat on the mat. Hypothesis: a cat is sitting. Options: yes, no.",
    "Translate to German: good morning -> Guten Morgen",
    "The quick brown fox jumps over the lazy dog 12345 times!",
    "Summarize: flan finetunes language models on many instruction tasks.",
    "Is the review positive or negative? I loved this movie, it was great.",
] * 4


def llama_style(folder: str, vocab_size: int = 420, eos_in_config: bool = True) -> str:
  """Writes tokenizer.json (+ tokenizer_config.json naming </s>) into `folder`; returns it."""
  # pylint: disable-next=g-import-not-at-top
  from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
  from tokenizers import processors, trainers  # pylint: disable=g-import-not-at-top
  specials = ["<unk>", "<s>", "</s>"]
  draft = Tokenizer(models.BPE(unk_token="<unk>"))
  draft.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first",
                                                 split=False)
  draft.train_from_iterator(CORPUS, trainers.BpeTrainer(
      vocab_size=vocab_size - 256, special_tokens=specials, show_progress=False))
  learned = json.loads(draft.to_str())["model"]
  # Llama's layout: specials, then the 256 byte pieces, then the learned pieces.
  vocab = {t: i for i, t in enumerate(specials + [f"<0x{b:02X}>" for b in range(256)])}
  for token in sorted(learned["vocab"], key=learned["vocab"].get):
    vocab.setdefault(token, len(vocab))
  tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[tuple(m) for m in learned["merges"]],
                                   unk_token="<unk>", byte_fallback=True, fuse_unk=True))
  tokenizer.pre_tokenizer = draft.pre_tokenizer
  tokenizer.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(),
                                         decoders.Fuse(), decoders.Strip(" ", 1, 0)])
  tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
  tokenizer.post_processor = processors.TemplateProcessing(
      single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)])
  os.makedirs(folder, exist_ok=True)
  tokenizer.save(os.path.join(folder, "tokenizer.json"))
  config = {"bos_token": "<s>", "unk_token": "<unk>", "add_bos_token": True,
            "tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": False}
  if eos_in_config:
    config["eos_token"] = "</s>"
  with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
    json.dump(config, f)
  return folder


def byte_level(folder: str, vocab_size: int = 400, bos: bool = False) -> str:
  """A byte-level BPE tokenizer whose EOS is given only by generation_config.json; with
  `bos`, Llama 3's layout: a `<|begin_of_text|>` named by tokenizer_config.json."""
  # pylint: disable-next=g-import-not-at-top
  from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
  tokenizer = Tokenizer(models.BPE())
  tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
  tokenizer.decoder = decoders.ByteLevel()
  tokenizer.train_from_iterator(CORPUS, trainers.BpeTrainer(
      vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
      show_progress=False))
  specials = ["<|begin_of_text|>"] * bos + ["<|end_of_text|>"]
  tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
  os.makedirs(folder, exist_ok=True)
  if bos:
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
      json.dump({"bos_token": "<|begin_of_text|>"}, f)
  tokenizer.save(os.path.join(folder, "tokenizer.json"))
  eos = tokenizer.token_to_id("<|end_of_text|>")
  with open(os.path.join(folder, "generation_config.json"), "w") as f:
    json.dump({"eos_token_id": [eos, eos - 1]}, f)
  return folder


QA_RECORDS = [
    {"question": "what is the capital of France?", "answer": "Paris"},
    {"question": "is the review positive? I loved this movie!", "answer": "yes"},
    {"question": "translate to German: good morning", "answer": "Guten Morgen"},
    {"question": "how many days are in 12 weeks?", "answer": "84"},
    {"question": "write the word caf\u00e9 in Japanese", "answer": "\u30ab\u30d5\u30a7"},
    {"question": "summarize: the quick brown fox jumps over the lazy dog", "answer": "a fox"},
    {"question": "premise: the cat sat on the mat. does a cat sit?", "answer": "yes"},
    {"question": "what is 2 + 2?", "answer": "4"},
]

# A user task module: one Flan-style template task tokenized with the real collections'
# vocabulary setting (t5_features: gin VOCABULARY / $FLAN_JAX_VOCABULARY), as any collection.
TASK_MODULE = '''
import seqio
import tensorflow as tf
from flan_jax.data import registration, t5_features
from flan_jax.data.templates import Template, TemplateSet
from tests.data.hf_tokenizers import QA_RECORDS

def _read(split, shuffle_files, seed=None):
  del split, shuffle_files, seed
  return tf.data.Dataset.from_tensor_slices(
      {k: [r[k] for r in QA_RECORDS] for k in ("question", "answer")})

registration.register_template_tasks(
    "user_tok", TemplateSet(name="qa", fields=("question", "answer"),
                            templates=(Template("ask", "Question: {question}"),)),
    seqio.FunctionDataSource(_read, splits=("train", "validation")),
    t5_features.output_features(), prompt_formats=("zs_noopt",), shuffle_buffer_size=64)
'''
TASK = "user_tok.qa:zs_noopt"
