"""The nine chain-of-thought datasets of the Flan 2022 CoT submix: (name, train rows, what).

Generated from the Flan 2022 catalog facts (`flan_catalog/cot.tsv`, 74,771 rows in all).
"""

DATASETS = (
    ('gsm8k', 7473, 'grade-school math word problems'),
    ('strategyqa', 2061, 'yes/no questions needing implicit multi-step reasoning'),
    ('creak', 6915, 'true/false claims about entities'),
    ('qasc', 1084, 'multiple-choice science questions from composed facts'),
    ('esnli', 36174, 'natural language inference with explanations'),
    ('ecqa', 7112, 'commonsense multiple choice with explanations'),
    ('sensemaking', 6070, 'which of two statements makes no sense'),
    ('aqua', 2728, 'algebra word problems with options'),
    ('qed', 5154, 'reading comprehension with explanations'),
)
