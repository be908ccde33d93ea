"""FLAN's stated example counts per task variant (facts read from google-research/FLAN).

A version of FLAN's `flan/v2/constants.py` states, in `T_NAME_TO_NUM_CASES` ("Task name to
number of cases. This is used when mixing tasks"), three counts per task: its zero-shot
variants, its x-shot variants and its five-shot (template-mix) variants. They are the
examples left after FLAN's preprocessing (e.g. qrecc's filter, unified_qa's 4-option filter)
and, for few-shot variants, after pruning to the 1,920-token budget (multi_news 1,927 five-
shot, wiki_hop ~7.5k x-shot): what seqio's `mixing_rate_num_examples` reads from FLAN's
cached tasks. `rule="flan"` rates a variant with the count stated here where there is one.

Rows use our dataset names (`collection.dataset`). T0 subsets are listed where a stated count
is under the T0 cap (20,000); at or above it min(n, cap) is the cap either way. The single
NIv2 TFDS task's 5,000,000 is not per task, so NIv2 keeps its per-task counts.
"""

from __future__ import annotations

VARIANT_KINDS = ("zero_shot", "x_shot", "five_shot")

# dataset zero_shot x_shot five_shot
_FLAN2021 = """
bool_q 9220 9220 9220
rte 2290 2290 2288
wsc 500 500 500
wic 5220 5220 5220
natural_questions 87720 87720 87720
record 100520 100520 100448
trivia_qa 87420 87420 87420
arc_challenge 910 910 912
arc_easy 2040 2040 2040
math_dataset 1999780 1999780 1999780
aeslc 14430 14275 14275
cnn_dailymail 287040 198109 179512
gigaword 2044370 2044370 2044416
multi_news 44960 3118 1927
newsroom 994560 646889 646099
opinion_abstracts_rotten_tomatoes 3130 3130 3130
opinion_abstracts_idebate 1650 1650 1655
coqa 7090 7077 7085
samsum 14730 14730 14728
xsum 203560 192545 190400
squad_v1 87390 87390 87397
squad_v2 130110 130109 130110
drop 77200 77021 77015
quac 83360 79325 79290
multirc 27040 27040 27042
ag_news_subset 119800 119800 119798
anli_r1 16940 16940 16944
anli_r2 45460 45460 45456
anli_r3 100450 100450 100456
sentiment140 1599800 1599800 1599780
story_cloze 1670 1670 1670
imdb_reviews 24800 24761 24791
paws_wiki 49400 49400 49400
definite_pronoun_resolution 1120 1120 1120
glue_mrpc 3460 3460 3465
glue_qqp 363640 363640 363640
copa 350 350 348
winogrande 40190 40190 40194
yelp_polarity_reviews 559800 559774 559798
cosmos_qa 25060 25060 25060
para_crawl_enes 30000 30000 29997
wmt14_enfr 40835840 40827181 40827169
wmt16_translate_de_en 4548800 4548675 4548715
wmt16_translate_tr_en 205750 205750 205752
wmt16_translate_cs_en 52335360 52325532 52325751
wmt16_translate_fi_en 2073360 2073357 2073342
wmt16_translate_ro_en 610320 610320 610320
wmt16_translate_ru_en 2516160 2516137 2516133
common_gen 67180 67180 67185
dart 62450 62450 62454
e2e_nlg 33320 33320 33320
web_nlg_en 35220 35220 35224
wiki_lingua_english_en 99000 96918 96486
true_case 29260 29260 29260
fix_punct 28070 28070 28070
word_segment 30000 30000 29995
cb 200 200 200
cola 8350 8350 8348
sst2 67140 67140 67148
mnli_matched 392500 392500 392499
mnli_mismatched 392500 392500 392499
qnli 104540 104540 104536
wnli 600 600 603
snli 549360 549360 549360
trec 5250 5250 5248
stsb 5640 5640 5646
piqa 16010 16010 16009
openbookqa 4950 4950 4956
hellaswag 39700 39700 39699
lambada 4860 4860 4860
unified_qa_science_inst 590 590 590
"""

# FLAN's cot_* / stream_* tasks (their input-inversion twins state the same counts).
_COT = """
gsm8k 7470 7470 7473
strategyqa 2060 2060 2061
creak 6910 6910 6914
qasc 1080 1080 1084
esnli 36170 36170 36174
ecqa 7110 7110 7112
sensemaking 6070 6070 6069
aqua 2715 2720 2728
qed 5145 5140 5145
"""

_DIALOG = """
wiki_dialog 11264000 11263998 11263997
qrecc 10170 10170 10170
"""

_T0 = """
dream_answer_to_dialogue 6110 6110 6111
dream_baseline 6110 6110 6110
dream_generate_first_utterance 6110 6110 6111
dream_generate_last_utterance 6110 6110 6111
dream_read_the_following_conversation_and_answer_the_question 6110 6110 6110
qasc_is_correct_1 8130 8130 8127
qasc_is_correct_2 8130 8130 8127
qasc_qa_with_combined_facts_1 8130 8130 8130
qasc_qa_with_separated_facts_1 8130 8130 8130
qasc_qa_with_separated_facts_2 8130 8130 8130
qasc_qa_with_separated_facts_3 8130 8130 8127
qasc_qa_with_separated_facts_4 8130 8130 8130
qasc_qa_with_separated_facts_5 8130 8130 8127
quail_context_description_question_answer_id 10240 10240 10240
quail_context_description_question_answer_text 10240 10240 10240
quail_context_description_question_text 10240 10240 10242
quail_context_question_answer_description_id 10240 10240 10240
quail_context_question_answer_description_text 10240 10240 10240
quail_context_question_description_answer_id 10240 10240 10240
quail_context_question_description_answer_text 10240 10240 10240
quail_context_question_description_text 10240 10240 10242
quail_description_context_question_answer_id 10240 10240 10240
quail_description_context_question_answer_text 10240 10240 10240
quail_description_context_question_text 10240 10240 10242
quail_no_prompt_id 10240 10240 10240
quail_no_prompt_text 10240 10240 10240
quarel_choose_between 1940 1940 1940
quarel_do_not_use 1940 1940 1940
quarel_heres_a_story 1940 1940 1940
quarel_logic_test 1940 1940 1940
quarel_testing_students 1940 1940 1940
quartz_answer_question_based_on 2690 2690 2690
quartz_answer_question_below 2690 2690 2690
quartz_given_the_fact_answer_the_q 2690 2690 2690
quartz_having_read_above_passage 2690 2690 2690
quartz_paragraph_question_plain_concat 2690 2690 2690
quartz_read_passage_below_choose 2690 2690 2690
quartz_use_info_from_paragraph_question 2690 2690 2690
quartz_use_info_from_question_paragraph 2690 2690 2690
quoref_Answer_Friend_Question 19390 19390 19395
quoref_Answer_Question_Given_Context 19390 19390 19395
quoref_Answer_Test 19390 19390 19395
quoref_Context_Contains_Answer 19390 19390 19395
quoref_Find_Answer 19390 19390 19395
quoref_Found_Context_Online 19390 19390 19395
quoref_Given_Context_Answer_Question 19390 19390 19395
quoref_Guess_Answer 19390 19390 19395
quoref_Guess_Title_For_Context 19390 19390 19395
quoref_Read_And_Extract_ 19390 19390 19395
quoref_What_Is_The_Answer 19390 19390 19395
ropes_background_new_situation_answer 10920 10920 10917
ropes_background_situation_middle 10920 10920 10917
ropes_given_background_situation 10920 10920 10917
ropes_new_situation_background_answer 10920 10920 10917
ropes_plain_background_situation 10920 10920 10917
ropes_plain_bottom_hint 10920 10920 10917
ropes_plain_no_background 10920 10920 10917
ropes_prompt_beginning 10920 10920 10917
ropes_prompt_bottom_hint_beginning 10920 10920 10917
ropes_prompt_bottom_no_hint 10920 10920 10917
ropes_prompt_mix 10920 10920 10917
ropes_read_background_situation 10920 10920 10917
sciq_Direct_Question 11670 11670 11673
sciq_Direct_Question_Closed_Book_ 11670 11670 11673
sciq_Multiple_Choice 11670 11670 11670
sciq_Multiple_Choice_Closed_Book_ 11670 11670 11670
sciq_Multiple_Choice_Question_First 11670 11670 11670
web_questions_get_the_answer 3770 3770 3771
web_questions_potential_correct_answer 3770 3770 3771
web_questions_question_answer 3770 3770 3771
web_questions_short_general_knowledge_q 3770 3770 3771
web_questions_whats_the_answer 3770 3770 3771
wiki_hop_original_choose_best_object_affirmative_1 43730 7569 7541
wiki_hop_original_choose_best_object_affirmative_2 43730 7505 7522
wiki_hop_original_choose_best_object_affirmative_3 43730 7350 7398
wiki_hop_original_choose_best_object_interrogative_1 43730 7679 7713
wiki_hop_original_choose_best_object_interrogative_2 43730 7766 7799
wiki_hop_original_explain_relation 43730 8907 8778
wiki_hop_original_generate_object 43730 8878 8767
wiki_hop_original_generate_subject 43730 8778 8670
wiki_hop_original_generate_subject_and_object 43730 8778 8670
wiki_qa_Direct_Answer_to_Question 1040 1040 1035
wiki_qa_Generate_Question_from_Topic 1040 1040 1035
wiki_qa_Jeopardy_style 1040 1040 1035
wiki_qa_Topic_Prediction_Answer_Only 1040 1040 1035
wiki_qa_Topic_Prediction_Question_Only 1040 1040 1035
wiki_qa_Topic_Prediction_Question_and_Answer_Pair 1040 1040 1035
cos_e_v1.11_aligned_with_common_sense 9740 9740 9738
cos_e_v1.11_description_question_option_id 9740 9740 9740
cos_e_v1.11_description_question_option_text 9740 9740 9740
cos_e_v1.11_explain_why_human 9740 9740 9738
cos_e_v1.11_generate_explanation_given_text 9740 9740 9738
cos_e_v1.11_i_think 9740 9740 9738
cos_e_v1.11_question_description_option_id 9740 9740 9740
cos_e_v1.11_question_description_option_text 9740 9740 9740
cos_e_v1.11_question_option_description_id 9740 9740 9740
cos_e_v1.11_question_option_description_text 9740 9740 9740
cos_e_v1.11_rationale 9740 9740 9738
"""

_ADVERSARIAL_QA = tuple(
    f"adversarial_qa_{model}_{prompt}"
    for model in ("dbert", "dbidaf", "droberta")
    for prompt in ("answer_the_following_q", "based_on", "generate_question",
                   "question_context_answer", "tell_what_it_is"))


def _parse(collection: str, text: str) -> dict[str, dict[str, int]]:
  out = {}
  for line in text.strip().splitlines():
    name, *counts = line.split()
    out[f"{collection}.{name}"] = dict(zip(VARIANT_KINDS, map(int, counts)))
  return out


STATED_COUNTS: dict[str, dict[str, int]] = {
    **_parse("flan2021", _FLAN2021), **_parse("cot", _COT), **_parse("dialog", _DIALOG),
    **_parse("t0", _T0),
    **{f"t0.{name}": {"zero_shot": 10_000, "x_shot": 10_000, "five_shot": 9_999}
       for name in _ADVERSARIAL_QA},
}


def stated_count(dataset: str, kind: str) -> int | None:
  """FLAN's stated count of `dataset`'s `kind` variants (VARIANT_KINDS), or None."""
  return STATED_COUNTS.get(dataset, {}).get(kind)
