"""Writes tiny copies of the held-out suites' files in their original layouts, for tests."""

from __future__ import annotations

import csv
import json
import os

BBH_DESCRIPTION = "Evaluate the truth value of a Boolean expression."
# (question, worked answer) exemplars, as a cot-prompts file holds them.
BBH_EXEMPLARS = [
    ("not ( True ) and ( True ) is",
     "Let's think step by step.\nnot ( True ) is False.\nFalse and True is False. "
     "So the answer is False."),
    ("True and not not ( not False ) is",
     "Let's think step by step.\nnot False is True, twice negated it stays True.\n"
     "True and True is True. So the answer is True."),
    ("not True or ( False and True ) is",
     "Let's think step by step.\nnot True is False.\n\nFalse and True is False.\n"
     "False or False is False. So the answer is False."),
]
BBH_EXAMPLES = [{"input": "True and False is", "target": "False"},
                {"input": "not not True is", "target": "True"},
                {"input": "False or True is", "target": "True"}]


def cot_prompt_text(description=BBH_DESCRIPTION, exemplars=BBH_EXEMPLARS) -> str:
  blocks = [f"Q: {q}\nA: {a}" for q, a in exemplars]
  return ("BIG-Bench canary line, do not train on this.\n-----\n" + description + "\n\n"
          + "\n\n".join(blocks) + "\n")


def write_bbh(root, subtask="boolean_expressions", examples=BBH_EXAMPLES) -> str:
  os.makedirs(os.path.join(root, "bbh"), exist_ok=True)
  os.makedirs(os.path.join(root, "cot-prompts"), exist_ok=True)
  with open(os.path.join(root, "bbh", f"{subtask}.json"), "w") as f:
    json.dump({"canary": "canary", "examples": examples}, f)
  with open(os.path.join(root, "cot-prompts", f"{subtask}.txt"), "w") as f:
    f.write(cot_prompt_text())
  return str(root)


MMLU_DEV = [[f"Dev question {i}?", f"a{i}", f"b{i}", f"c{i}", f"d{i}", "ABCDA"[i]]
            for i in range(5)]
MMLU_TEST = [["What is 2 + 2?", "3", "4", "5", "6", "B"],
             ["Which, of these, is prime?", "4", "6", "8", "7", "D"]]


def write_mmlu(root, subject="abstract_algebra", dev=MMLU_DEV, test=MMLU_TEST) -> str:
  for split, rows in (("dev", dev), ("test", test), ("val", test)):
    os.makedirs(os.path.join(root, split), exist_ok=True)
    with open(os.path.join(root, split, f"{subject}_{split}.csv"), "w", newline="") as f:
      csv.writer(f).writerows(rows)
  return str(root)
