"""Our own instruction templates for the toy collection (short: zero-shot prompts < 120 tokens)."""

from __future__ import annotations

from flan_jax.data.templates import Template, TemplateSet

ARITHMETIC = TemplateSet(
    name="arithmetic",
    fields=("question", "answer", "rationale", "options"),
    options_field="options", rationale_field="rationale",
    templates=(
        Template("solve", "{question}\n{options}"),
        Template("word_problem", "Solve this word problem.\n{question}\n{options}"),
        Template("count_left", "{question} Reply with a number.\n{options}"),
        Template("final_count", "Problem: {question}\n{options}\nWhat is the final count?"),
    ),
    inverted=(
        Template("invent_problem", "Write a counting word problem whose answer is {answer}.",
                 "{question}"),
        Template("from_steps", "Here is a worked solution: {rationale}\nWhat problem does it solve?",
                 "{question}"),
    ),
)

LIST_OPS = TemplateSet(
    name="list_ops",
    fields=("items", "operation", "answer", "options"),
    question_field="items", options_field="options",
    templates=(
        Template("give", "List: {items}\nGive {operation}.\n{options}"),
        Template("what_is", "What is {operation} for this list: {items}?\n{options}"),
        Template("words", "Here are some words: {items}. Write {operation}.\n{options}"),
    ),
    inverted=(
        Template("which_op", "List: {items}\nResult: {answer}\nWhich operation gives this result?",
                 "{operation}"),
    ),
)

COMPARE_NUMBERS = TemplateSet(
    name="compare_numbers",
    fields=("numbers", "which", "answer", "rationale", "options"),
    question_field="numbers", options_field="options", rationale_field="rationale",
    templates=(
        Template("which_is", "Which of these numbers is the {which}: {numbers}?\n{options}"),
        Template("numbers_first", "Numbers: {numbers}\nName the {which} one.\n{options}"),
        Template("pick", "Pick the {which} number from {numbers}.\n{options}"),
    ),
    inverted=(
        Template("largest_or_smallest", "Numbers: {numbers}\nChosen: {answer}\n"
                 "Was the largest or the smallest one chosen?", "{which}"),
    ),
)

CATEGORY = TemplateSet(
    name="category",
    fields=("category", "choices", "answer", "rationale", "options"),
    question_field="choices", options_field="options", rationale_field="rationale",
    templates=(
        Template("which_is_a", "Which of these is a {category}: {choices}?\n{options}"),
        Template("find", "Find the {category} in this list: {choices}.\n{options}"),
        Template("words_first", "Words: {choices}\nWhich word names a {category}?\n{options}"),
    ),
    inverted=(
        Template("name_category", "{answer} is one of these: {choices}. What kind of thing is "
                 "{answer}?", "{category}"),
    ),
)

ENTAILMENT = TemplateSet(
    name="entailment",
    fields=("premise", "hypothesis", "answer", "rationale", "options"),
    question_field="hypothesis", options_field="options", rationale_field="rationale",
    templates=(
        Template("follows", "Facts: {premise}\nDoes this follow? {hypothesis}\n{options}"),
        Template("claim", "{premise}\nClaim: {hypothesis}\nIs the claim true?\n{options}"),
        Template("given", "Given these facts: {premise}\nCan we say: {hypothesis}\n{options}"),
    ),
    inverted=(
        Template("write_claim", "Facts: {premise}\nWrite a claim about these facts whose "
                 "verdict is \"{answer}\".", "{hypothesis}"),
    ),
)

DIALOG = TemplateSet(
    name="dialog",
    fields=("turns",),
    turns_field="turns", answer_field="turn", question_field="context",
    templates=(
        Template("next_turn", "Continue the conversation with one line.\n{context}", "{turn}"),
        Template("reply", "{context}\nWhat is said next?", "{turn}"),
        Template("script", "Here is a chat so far:\n{context}\nWrite the next line.", "{turn}"),
    ),
    inverted=(
        Template("before", "This line ends a conversation:\n{turn}\nWrite what was said before it.",
                 "{context}"),
        Template("lead_up", "{turn}\nWhich lines came before this one?", "{context}"),
    ),
)

TOY_TEMPLATE_SETS = (ARITHMETIC, LIST_OPS, COMPARE_NUMBERS, CATEGORY, ENTAILMENT, DIALOG)
