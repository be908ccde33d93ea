"""Translation: ParaCrawl en-es, WMT14 en-fr, WMT16 {de,tr,cs,fi,ro,ru}-en. The language
pair is a record field, so one template set serves every pair; the inverted templates
translate the other way."""

from __future__ import annotations

from flan_jax.data.templates import Template, TemplateSet

from flan_jax_tasks.flan2021 import datasets_table
from flan_jax_tasks.flan2021 import tfds_fields as F
from flan_jax_tasks.flan2021.adapters import Adapter

TRANSLATE = TemplateSet(
    name="translate", fields=("source_language", "target_language", "source", "target"),
    answer_field="target", question_field="source",
    templates=(
        Template("translate_to", "Translate to {target_language}:\n\n{source}", "{target}"),
        Template("from_to", "Translate this {source_language} text into {target_language}.\n\n"
                            "{source}", "{target}"),
        Template("how_say", "How do you say \"{source}\" in {target_language}?", "{target}"),
        Template("pair", "{source_language}: {source}\n{target_language}:", "{target}"),
        Template("render", "{source}\n\nRender the sentence above in {target_language}.",
                 "{target}"),
        Template("in_other_language", "What is this in {target_language}?\n{source}", "{target}"),
        Template("translator", "You are a translator from {source_language} to "
                               "{target_language}. Translate:\n{source}", "{target}"),
        Template("same_meaning", "Write the following {source_language} sentence in "
                                 "{target_language}, keeping its meaning.\n\n{source}", "{target}"),
        Template("quote", "\"{source}\"\n\nGive the {target_language} version of this quote.",
                 "{target}"),
        Template("short", "{source} ({source_language} -> {target_language})", "{target}"),
    ),
    inverted=(
        Template("back", "Translate to {source_language}:\n\n{target}", "{source}"),
        Template("back_from_to", "Translate this {target_language} text into "
                                 "{source_language}.\n\n{target}", "{source}"),
    ),
)


def _pair(source, target):
  names = datasets_table.LANGUAGES

  def to_record(ex):
    return {"source_language": F.const(names[source]), "target_language": F.const(names[target]),
            "source": ex[source], "target": ex[target]}
  return Adapter(TRANSLATE, to_record)


# Direction of each pair (the inverted templates go the other way).
ADAPTERS = {
    "para_crawl_enes": _pair("en", "es"),
    "wmt14_enfr": _pair("en", "fr"),
    "wmt16_translate_de_en": _pair("de", "en"),
    "wmt16_translate_tr_en": _pair("tr", "en"),
    "wmt16_translate_cs_en": _pair("cs", "en"),
    "wmt16_translate_fi_en": _pair("fi", "en"),
    "wmt16_translate_ro_en": _pair("ro", "en"),
    "wmt16_translate_ru_en": _pair("ru", "en"),
}
