"""FLAN's own flan2021 templates, loaded at run time from a local checkout of
google-research/FLAN, for users who want FLAN's exact wording instead of ours.

`export FLAN_JAX_FLAN_DIR=/path/to/FLAN` (the clone's root, holding `flan/v2/templates.py`):
flan2021 tasks then render with that file's zero-shot `PATTERNS` (its ~10 patterns per
dataset, the inverted ones among them, as FLAN mixes them), their `{field}` names mapped to
our record fields per dataset (`FIELD_NAMES`), `{options_}` to our options block. FLAN's
`templates.py` imports only its sibling `flan_templates_branched.py` (no SeqIO, no
TensorFlow), so it is imported from the checkout as it is; nothing of it is copied here.
Without the variable our own templates are used.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import os
import sys
import types

from flan_jax import errors
from flan_jax.data import templates as templates_lib

ENV = "FLAN_JAX_FLAN_DIR"
# FLAN's placeholders for the answer-choices block.
OPTION_SLOTS = ("options_", "options_str")

# Our dataset -> FLAN's PATTERNS key, where they differ (FLAN's utils.t_name_to_flan_pattern_name).
PATTERN_NAMES = {
    "anli_r1": "anli", "anli_r2": "anli", "anli_r3": "anli",
    "arc_challenge": "arc", "arc_easy": "arc",
    "mnli_matched": "mnli", "mnli_mismatched": "mnli",
    "para_crawl_enes": "para_crawl",
    **{f"wmt16_translate_{p}_en": "wmt16_translate" for p in ("cs", "de", "fi", "ro", "ru", "tr")},
}
# FLAN's sent1/lang1 is always English; ours is the source side of the pair's direction.
_EN_FIRST = {"sent1": "source", "sent2": "target", "lang1": "source_language",
             "lang2": "target_language"}
_EN_SECOND = {"sent1": "target", "sent2": "source", "lang1": "target_language",
              "lang2": "source_language"}
_DATA = {"concepts": "data", "tripleset": "data", "meaning_representation": "data",
         "input_string": "data", "target": "answer"}
# Per dataset, FLAN's field name -> ours, where they differ (same names map as they are).
FIELD_NAMES = {
    "aeslc": {"body": "email", "subject": "answer"},
    "cnn_dailymail": {"highlights": "answer"},
    "gigaword": {"summary": "answer"},
    "multi_news": {"summary": "answer"},
    "xsum": {"summary": "answer"},
    "samsum": {"dialogue": "text", "summary": "answer"},
    "newsroom": {"summary": "answer"},
    "bool_q": {"text": "context"},
    "anli_r1": {"context": "premise"}, "anli_r2": {"context": "premise"},
    "anli_r3": {"context": "premise"},
    "wic": {"sentence1": "first", "sentence2": "second"},
    "wsc": {"context": "sentence", "text1": "noun", "text2": "pronoun"},
    "record": {"passage": "context", "query": "question"},
    "quac": {"title": "topic"},  # Ours is "title, section title".
    "glue_mrpc": {"sentence1": "first", "sentence2": "second"},
    "paws_wiki": {"sentence1": "first", "sentence2": "second"},
    "glue_qqp": {"question1": "first", "question2": "second"},
    "true_case": {"lower": "text"},
    "fix_punct": {"no_punct": "text"},
    "word_segment": {"no_space": "text"},
    "wmt14_enfr": _EN_FIRST, "para_crawl_enes": _EN_FIRST,
    **{f"wmt16_translate_{p}_en": _EN_SECOND for p in ("cs", "de", "fi", "ro", "ru", "tr")},
    "common_gen": _DATA, "dart": _DATA, "e2e_nlg": _DATA, "web_nlg_en": _DATA,
    "wiki_lingua_english_en": {"source": "text", "target": "answer"},
    "openbookqa": {"fact": "context"},
    "wnli": {"sentence1": "premise", "sentence2": "hypothesis"},
    "stsb": {"sentence1": "first", "sentence2": "second"},
    "piqa": {"goal": "context"},
    "sst2": {"sentence": "text"},
    "trec": {"text": "question"},
}


def flan_dir() -> str | None:
  """The checkout FLAN_JAX_FLAN_DIR names, or None (our templates)."""
  return os.environ.get(ENV) or None


@functools.lru_cache(maxsize=4)
def load_patterns(root: str) -> dict[str, list[tuple[str, str]]]:
  """FLAN's zero-shot PATTERNS from `root`/flan/v2/templates.py, imported in isolation (any
  `flan` package already imported is put back afterwards)."""
  v2 = os.path.join(root, "flan", "v2")
  path = os.path.join(v2, "templates.py")
  if not os.path.isfile(path):
    raise errors.ConfigError(
        f"{ENV}={root!r} has no flan/v2/templates.py. Point it at the root of a clone of "
        "google-research/FLAN (git clone https://github.com/google-research/FLAN), or unset "
        "it to use flan_jax's own templates.")
  names = ("flan", "flan.v2", "flan.v2.templates", "flan.v2.flan_templates_branched")
  saved = {n: sys.modules[n] for n in names if n in sys.modules}
  try:
    for name, folder in (("flan", os.path.join(root, "flan")), ("flan.v2", v2)):
      package = types.ModuleType(name)
      package.__path__ = [folder]
      sys.modules[name] = package
    spec = importlib.util.spec_from_file_location("flan.v2.templates", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["flan.v2.templates"] = module
    spec.loader.exec_module(module)
  except Exception as e:  # pylint: disable=broad-except
    raise errors.ConfigError(f"Cannot import FLAN's templates from {path} ({ENV}): "
                             f"{type(e).__name__}: {e}") from e
  finally:
    for name in names:
      sys.modules.pop(name, None)
    sys.modules.update(saved)
  patterns = getattr(module, "PATTERNS", None)
  if not isinstance(patterns, dict):
    raise errors.ConfigError(f"{path} defines no PATTERNS dict; is {ENV} a FLAN checkout?")
  return patterns


def _translate(pattern: str, renames: dict[str, str], has_options: bool) -> str:
  """FLAN's pattern with our field names; the options slot ours (or dropped)."""
  pieces = []
  for literal, name in templates_lib.split_pattern(pattern):
    pieces.append(literal.replace("{", "{{").replace("}", "}}"))
    if name is None:
      continue
    if name in OPTION_SLOTS:
      name = templates_lib.OPTIONS_SLOT if has_options else None
    else:
      name = renames.get(name, name)
    if name is not None:
      pieces.append("{" + name + "}")
  text = "".join(pieces)
  return text if has_options else templates_lib.strip_options(text)


def flan_template_set(dataset: str, ours: templates_lib.TemplateSet,
                      patterns: dict[str, list[tuple[str, str]]]) -> templates_lib.TemplateSet:
  """`ours` (record schema kept) with FLAN's patterns for `dataset` as its templates."""
  key = PATTERN_NAMES.get(dataset, dataset)
  if key not in patterns:
    raise errors.ConfigError(
        f"FLAN's templates.py ({ENV}) has no PATTERNS[{key!r}] for flan2021.{dataset}.")
  renames = FIELD_NAMES.get(dataset, {})
  has_options = bool(ours.options_field)
  available = set(ours.text_fields())
  templates = []
  for i, (inputs, targets) in enumerate(patterns[key]):
    t = templates_lib.Template(f"flan_{i}", _translate(inputs, renames, has_options),
                               _translate(targets, renames, False))
    missing = sorted(t.fields() - available)
    if missing:
      raise errors.ConfigError(
          f"FLAN's PATTERNS[{key!r}][{i}] reads {missing}, which flan2021.{dataset}'s records "
          f"lack (they hold {', '.join(sorted(available))}); map the names in "
          "flan_jax_tasks.flan2021.flan_patterns.FIELD_NAMES.")
    templates.append(t)
  template_set = dataclasses.replace(ours, name=dataset, templates=tuple(templates), inverted=())
  template_set.validate()
  return template_set
