"""The 71 flan2021 datasets: cluster, TFDS builder and version, splits and train size.

Source: the Flan 2022 collection's flan2021 submix list (cluster, task id, TFDS
name:version), as collected in the project's catalog facts (flan_catalog/flan2021.tsv);
copied here so the package never reads that file. Where the installed TFDS (4.9) cannot
build the listed version, `version` is the one it builds and `listed_version` keeps the
list's. Train sizes are the TFDS catalog's example counts of the split we train on; None
where we do not know them (they then come from the prepared dataset's metadata).
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class DatasetRow:
  """One flan2021 dataset.

  name: our dataset name (the task id with '-' made '_', since task names allow only
  letters, digits, '_', '.', ':'). builder: TFDS 'name' or 'name/config'. train/validation:
  the TFDS split (or slice) our train/validation splits read. offline_info: the installed
  tensorflow_datasets ships this builder, so its features are known without a download.
  """
  name: str
  cluster: str
  builder: str
  version: str
  train: str = "train"
  validation: str = "validation"
  num_train_examples: int | None = None
  manual: bool = False
  listed_version: str | None = None
  offline_info: bool = True
  note: str = ""

  @property
  def tfds_name(self) -> str:
    """What seqio.TfdsDataSource / `tfds build` take: builder[/config]:version."""
    return f"{self.builder}:{self.version}" if self.version else self.builder


_R = DatasetRow
ROWS: tuple[DatasetRow, ...] = (
    # Natural language inference.
    _R("anli_r1", "nli", "anli/r1", "0.1.0", num_train_examples=16946),
    _R("anli_r2", "nli", "anli/r2", "0.1.0", num_train_examples=45460),
    _R("anli_r3", "nli", "anli/r3", "0.1.0", num_train_examples=100459),
    _R("cb", "nli", "super_glue/cb", "1.0.2", num_train_examples=250),
    _R("rte", "nli", "super_glue/rte", "1.0.2", num_train_examples=2490),
    _R("mnli_matched", "nli", "glue/mnli", "2.0.0", validation="validation_matched",
       num_train_examples=392702),
    _R("mnli_mismatched", "nli", "glue/mnli", "2.0.0", validation="validation_mismatched",
       num_train_examples=392702),
    _R("qnli", "nli", "glue/qnli", "2.0.0", num_train_examples=104743),
    _R("wnli", "nli", "glue/wnli", "2.0.0", num_train_examples=635),
    _R("snli", "nli", "snli", "1.1.0", num_train_examples=550152,
       note="rows without a gold label (-1) are dropped"),
    # Reading comprehension.
    _R("squad_v1", "reading_comprehension", "squad/v1.1", "3.0.0", num_train_examples=87599),
    _R("squad_v2", "reading_comprehension", "squad/v2.0", "3.0.0", num_train_examples=130319,
       note="unanswerable questions answer 'unanswerable'"),
    _R("drop", "reading_comprehension", "drop", "2.0.0", validation="dev",
       num_train_examples=77409),
    _R("multirc", "reading_comprehension", "super_glue/multirc", "1.0.2",
       num_train_examples=27243),
    _R("openbookqa", "reading_comprehension", "openbookqa", "0.1.0", num_train_examples=4957),
    _R("bool_q", "reading_comprehension", "bool_q", "1.0.0", num_train_examples=9427),
    _R("record", "reading_comprehension_commonsense", "super_glue/record", "1.0.2",
       num_train_examples=100730),
    _R("cosmos_qa", "reading_comprehension_commonsense", "cosmos_qa", "1.0.0",
       num_train_examples=25262),
    # Closed-book QA.
    _R("trivia_qa", "closed_book_qa", "trivia_qa/rc", "1.1.0", num_train_examples=138384),
    _R("natural_questions", "closed_book_qa", "natural_questions_open", "1.0.0",
       num_train_examples=87925),
    _R("arc_challenge", "closed_book_qa", "ai2_arc/ARC-Challenge", "1.0.0",
       num_train_examples=1119),
    _R("arc_easy", "closed_book_qa", "ai2_arc/ARC-Easy", "1.0.0", num_train_examples=2251),
    # Conversational QA.
    _R("quac", "conversational_qa", "quac", "1.0.0", num_train_examples=83568),
    _R("coqa", "conversational_qa", "coqa", "1.0.0", validation="test", num_train_examples=7199,
       note="TFDS calls the CoQA dev set 'test'"),
    # Commonsense.
    _R("copa", "commonsense", "super_glue/copa", "1.0.2", num_train_examples=400),
    _R("hellaswag", "commonsense", "hellaswag", "1.1.0", num_train_examples=39905),
    _R("story_cloze", "commonsense", "story_cloze/2016", "1.0.0", train="validation",
       validation="test", num_train_examples=1871, manual=True,
       note="no train split: trains on the 2016 validation set, validates on its test set"),
    _R("piqa", "commonsense", "piqa", "1.0.0", num_train_examples=16113),
    # Coreference.
    _R("winogrande", "coreference", "winogrande", "1.2.0", train="train_xl",
       num_train_examples=40398, listed_version="1.1.0",
       note="TFDS 4.9 builds only 1.2.0; trains on train_xl"),
    _R("wsc", "coreference", "super_glue/wsc.fixed", "1.0.2", num_train_examples=554),
    _R("definite_pronoun_resolution", "coreference", "definite_pronoun_resolution", "1.1.0",
       validation="test", num_train_examples=1322),
    # Sentiment.
    _R("imdb_reviews", "sentiment", "imdb_reviews/plain_text", "1.0.0", validation="test",
       num_train_examples=25000),
    _R("sentiment140", "sentiment", "sentiment140", "1.0.0", validation="test",
       num_train_examples=1600000, note="neutral tweets (polarity 2, test only) are dropped"),
    _R("yelp_polarity_reviews", "sentiment", "yelp_polarity_reviews", "0.2.0",
       validation="test", num_train_examples=560000),
    _R("sst2", "sentiment", "glue/sst2", "2.0.0", num_train_examples=67349),
    # Paraphrase.
    _R("glue_mrpc", "paraphrase", "glue/mrpc", "2.0.0", num_train_examples=3668),
    _R("glue_qqp", "paraphrase", "glue/qqp", "2.0.0", num_train_examples=363846),
    _R("stsb", "paraphrase", "glue/stsb", "2.0.0", num_train_examples=5749),
    _R("paws_wiki", "paraphrase", "paws_wiki", "1.1.0", num_train_examples=49401),
    # Summarization.
    _R("aeslc", "summarization", "aeslc", "1.0.0", num_train_examples=14436),
    _R("cnn_dailymail", "summarization", "cnn_dailymail", "3.4.0", num_train_examples=287113),
    _R("gigaword", "summarization", "gigaword", "1.2.0", num_train_examples=3803957),
    _R("multi_news", "summarization", "multi_news", "2.1.0", num_train_examples=44972,
       listed_version="1.0.0", note="TFDS 4.9 builds only 2.1.0 (same features)"),
    _R("newsroom", "summarization", "newsroom", "1.0.0", num_train_examples=995041, manual=True),
    _R("samsum", "summarization", "samsum", "1.0.0", num_train_examples=14732, manual=True),
    _R("xsum", "summarization", "huggingface:xsum", "", num_train_examples=204045,
       offline_info=False,
       note="TFDS community (Hugging Face) dataset; features from its card: document, "
            "summary, id"),
    _R("opinion_abstracts_rotten_tomatoes", "summarization", "opinion_abstracts/rotten_tomatoes",
       "1.0.0", train="train[200:]", validation="train[:200]", num_train_examples=3531,
       note="train-only builder: the first 200 rows are held out for validation"),
    _R("opinion_abstracts_idebate", "summarization", "opinion_abstracts/idebate", "1.0.0",
       train="train[200:]", validation="train[:200]",
       note="train-only builder: the first 200 rows are held out for validation"),
    _R("wiki_lingua_english_en", "summarization", "gem/wiki_lingua_english_en", "1.1.0"),
    _R("ag_news_subset", "summarization", "ag_news_subset", "1.0.0", validation="test",
       num_train_examples=120000, note="topic classification, grouped with summarization"),
    # Struct to text.
    _R("common_gen", "struct_to_text", "gem/common_gen", "1.1.0", num_train_examples=67389),
    _R("dart", "struct_to_text", "gem/dart", "1.1.0", num_train_examples=62659),
    _R("e2e_nlg", "struct_to_text", "gem/e2e_nlg", "1.1.0", num_train_examples=33525),
    _R("web_nlg_en", "struct_to_text", "gem/web_nlg_en", "1.1.0", num_train_examples=35426),
    # Translation.
    _R("para_crawl_enes", "translation", "para_crawl/enes", "1.2.0", train="train[1000:]",
       validation="train[:1000]",
       note="train-only builder: the first 1000 pairs are held out for validation"),
    _R("wmt14_enfr", "translation", "wmt14_translate/fr-en", "1.0.0"),
    _R("wmt16_translate_de_en", "translation", "wmt16_translate/de-en", "1.0.0"),
    _R("wmt16_translate_tr_en", "translation", "wmt16_translate/tr-en", "1.0.0"),
    _R("wmt16_translate_cs_en", "translation", "wmt16_translate/cs-en", "1.0.0", manual=True,
       note="its train split includes CzEng 1.6pre, a manual download"),
    _R("wmt16_translate_fi_en", "translation", "wmt16_translate/fi-en", "1.0.0"),
    _R("wmt16_translate_ro_en", "translation", "wmt16_translate/ro-en", "1.0.0"),
    _R("wmt16_translate_ru_en", "translation", "wmt16_translate/ru-en", "1.0.0", manual=True,
       note="its train split includes the Yandex corpus, a manual download"),
    # Text formatting, derived from the English side of para_crawl en-da.
    _R("true_case", "text_formatting", "para_crawl/enda", "1.2.0", train="train[1000:]",
       validation="train[:1000]", note="derived: lower-cased English -> original"),
    _R("fix_punct", "text_formatting", "para_crawl/enda", "1.2.0", train="train[1000:]",
       validation="train[:1000]", note="derived: English without punctuation -> original"),
    _R("word_segment", "text_formatting", "para_crawl/enda", "1.2.0", train="train[1000:]",
       validation="train[:1000]", note="derived: English without spaces -> original"),
    # Single-dataset clusters.
    _R("math_dataset", "math", "math_dataset/algebra__linear_1d", "1.0.0", validation="test",
       num_train_examples=1999998),
    _R("wic", "word_sense", "super_glue/wic", "1.0.2", num_train_examples=5428),
    _R("cola", "linguistic_acceptability", "glue/cola", "2.0.0", num_train_examples=8551),
    _R("trec", "question_classification", "trec", "1.0.0", validation="test",
       num_train_examples=5452),
    _R("lambada", "language_modeling", "lambada", "1.0.0", validation="test",
       num_train_examples=4869, note="TFDS 'train' is LAMBADA's development set"),
    _R("unified_qa_science_inst", "closed_book_qa", "unified_qa/ai2_science_middle", "1.0.0"),
)

BY_NAME: dict[str, DatasetRow] = {row.name: row for row in ROWS}

# Language codes of the translation pairs, as names templates can use.
LANGUAGES = {"en": "English", "es": "Spanish", "fr": "French", "de": "German",
             "tr": "Turkish", "cs": "Czech", "fi": "Finnish", "ro": "Romanian",
             "ru": "Russian", "da": "Danish"}


# Files a manual-download builder reads from `tfds build --manual_dir=MANUAL_DIR` (each
# builder's MANUAL_DOWNLOAD_INSTRUCTIONS in tensorflow_datasets 4.9).
MANUAL_FILES = {
    "samsum": "download https://arxiv.org/src/1911.12237v2/anc/corpus.7z and extract its "
              "train.json, val.json and test.json into MANUAL_DIR",
    "wmt16_translate/cs-en": "put czeng16pre.deduped-ignoring-sections.txt.gz (CzEng 1.6pre, "
                             "free registration at http://ufal.mff.cuni.cz/czeng/czeng16pre) "
                             "in MANUAL_DIR",
    "wmt16_translate/ru-en": "put 1mcorpus.zip (the Yandex corpus, "
                             "https://translate.yandex.ru/corpus?lang=en) in MANUAL_DIR",
}


def how_to_get(row: DatasetRow) -> str:
  """The steps before `tfds build` (preflight prints the command itself, with --data_dir and,
  for a manual download, --manual_dir=MANUAL_DIR); "" when the build needs nothing else."""
  if row.builder.startswith("huggingface:"):
    return ("TFDS reads it from the Hugging Face Hub (network; huggingface_hub and datasets "
            "come with `pip install -e '.[data]'`).")
  if row.manual:
    files = MANUAL_FILES.get(row.builder, f"download the {row.builder.split('/')[0]} files "
                             "named on its TFDS catalog page into MANUAL_DIR")
    return f"Manual download: {files}."
  return ""
