"""Reading the answer out of a model's text, as the held-out suites were scored.

Each function is a SeqIO postprocess_fn `(text, example=None, is_target=False) -> str`, so the
same extraction serves `flan-jax eval` and `flan-jax evaluate-predictions`. Targets pass through
trimmed: extraction applies to predictions only.
"""

from __future__ import annotations

import re

ANSWER_PHRASE = "the answer is"
_NUMBER_RE = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_LETTER_RE = re.compile(r"^\(?([A-Z])(?:\)|\.|:|\s|$)")


def as_text(text) -> str:
  """bytes or str -> stripped str."""
  if isinstance(text, bytes):
    text = text.decode("utf-8", errors="replace")
  return str(text).strip()


def after_answer_phrase(text: str) -> str:
  """Text after the last "the answer is" (any case), trailing period dropped.

  Without the phrase the whole text is the answer (a direct answer still scores).
  """
  text = as_text(text)
  found = text.lower().rfind(ANSWER_PHRASE)
  if found >= 0:
    text = text[found + len(ANSWER_PHRASE):].strip()
  return text[:-1].strip() if text.endswith(".") else text


def cot_answer(text, example=None, is_target=False) -> str:
  """Postprocess for chain-of-thought prompts: the answer after "the answer is"."""
  del example
  return as_text(text) if is_target else after_answer_phrase(text)


def direct_answer(text, example=None, is_target=False) -> str:
  """Postprocess for direct prompts: the trimmed text."""
  del example, is_target
  return as_text(text)


def choice_letter(text, example=None, is_target=False) -> str:
  """Postprocess for lettered choices: 'B', '(B)', 'B.' or 'B) ...' -> 'B'; '' when none.

  CoT predictions are read after "the answer is" first.
  """
  del example
  text = as_text(text) if is_target else after_answer_phrase(text)
  match = _LETTER_RE.match(text)
  return match.group(1) if match else ""


def last_number(text, example=None, is_target=False) -> str:
  """Postprocess for arithmetic answers: the last number in the text, commas removed,
  '.0' endings dropped ('1,200.00' -> '1200'); '' when there is none."""
  del example
  text = as_text(text) if is_target else after_answer_phrase(text)
  numbers = _NUMBER_RE.findall(text)
  if not numbers:
    return ""
  number = numbers[-1].replace(",", "")
  if "." in number:
    number = number.rstrip("0").rstrip(".")
  return number


def yes_no(text, example=None, is_target=False) -> str:
  """Postprocess for yes/no answers: 'yes' or 'no' from the first word of the answer
  (True/False count as yes/no); '' otherwise."""
  del example
  text = as_text(text) if is_target else after_answer_phrase(text)
  first = text.split()[0].strip(".,!").lower() if text.split() else ""
  return {"yes": "yes", "true": "yes", "no": "no", "false": "no"}.get(first, "")


def answer_text(text, example=None, is_target=False) -> str:
  """Postprocess for answers that are numbers or text (ASDiv): targets trimmed, predictions
  read after "the answer is"; number_or_text_accuracy compares them."""
  del example
  return as_text(text) if is_target else after_answer_phrase(text)


def _same_text(a: str, b: str) -> bool:
  """Case, spacing and a final period ignored: 'Mrs. Hilt' == 'mrs.  hilt.'."""
  norm = lambda t: " ".join(t.lower().split()).rstrip(".").strip()
  return norm(a) == norm(b)


def number_or_text_accuracy(targets, predictions) -> dict[str, float]:
  """Accuracy in percent: a numeric target matches the prediction's last number (as
  last_number reads it); a text target ('3:30 p.m.', 'Mrs. Hilt') matches the answer text."""
  if len(targets) != len(predictions):
    raise ValueError(f"{len(targets)} targets but {len(predictions)} predictions.")
  hits = 0
  for target, prediction in zip(targets, predictions):
    target = as_text(target)
    if _NUMBER_RE.fullmatch(target):
      hits += last_number(prediction, is_target=True) == last_number(target, is_target=True)
    else:
      hits += _same_text(target, as_text(prediction))
  return {"accuracy": 100.0 * hits / len(targets) if targets else 0.0,
          "num_examples": float(len(targets))}
