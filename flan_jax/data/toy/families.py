"""Record generators of the toy collection: seeded numpy, no download, real structure.

Each family maps (rng, index) -> record; `generate` dedups validation against train so
that validation accuracy measures generalization, not recall.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

Record = dict[str, object]

NAMES = ("Mia", "Omar", "Lena", "Ravi", "Sofia", "Tom", "Aiko", "Ben", "Nina", "Kofi", "Eva", "Luis")
ITEMS = ("apples", "marbles", "stickers", "pencils", "coins", "shells", "cards", "books")
WORDS = ("cat", "dog", "sun", "map", "cup", "hat", "box", "pen", "key", "bus", "egg", "fan",
         "jar", "kite", "lamp", "nest", "owl", "pig", "ring", "sock", "tent", "vase", "wolf", "yak")
CATEGORIES = {
    "animal": ("tiger", "horse", "rabbit", "eagle", "shark", "camel", "zebra", "goat"),
    "fruit": ("mango", "pear", "banana", "cherry", "lemon", "plum", "grape", "melon"),
    "color": ("red", "blue", "green", "yellow", "purple", "orange", "black", "white"),
    "tool": ("hammer", "saw", "drill", "wrench", "shovel", "chisel", "rake", "ladder"),
    "vehicle": ("truck", "bicycle", "train", "boat", "plane", "scooter", "tram", "van"),
    "musical instrument": ("violin", "drum", "flute", "piano", "guitar", "harp", "trumpet", "cello"),
}
CITIES = ("Paris", "Rome", "Oslo", "Cairo", "Lima", "Tokyo", "Delhi", "Quito")
PETS = ("a cat", "a dog", "a parrot", "a rabbit", "a turtle", "a goldfish")
JOBS = ("a baker", "a nurse", "a pilot", "a farmer", "a teacher", "a painter")
ENTAILMENT_OPTIONS = ("yes", "no", "it is not possible to tell")


def _join(xs) -> str:
  return ", ".join(str(x) for x in xs)


def _int(rng: np.random.Generator, lo: int, hi: int) -> int:
  """Uniform int in [lo, hi) from one float draw (fast: no per-call array conversion)."""
  return lo + int(rng.random() * (hi - lo))


def _pick(rng: np.random.Generator, seq):
  return seq[_int(rng, 0, len(seq))]


def _sample(rng: np.random.Generator, seq, k: int) -> list:
  """k distinct items of seq in random order (partial Fisher-Yates)."""
  items = list(seq)
  for i in range(k):
    j = _int(rng, i, len(items))
    items[i], items[j] = items[j], items[i]
  return items[:k]


def _shuffled(rng: np.random.Generator, seq) -> list:
  return _sample(rng, seq, len(seq))


def arithmetic(rng: np.random.Generator) -> Record:
  """Two or three step word problems with a worked rationale (the CoT family)."""
  name, item = _pick(rng, NAMES), _pick(rng, ITEMS)
  value = _int(rng, 3, 20)
  sentences = [f"{name} has {value} {item}."]
  steps = [f"{name} starts with {value}."]
  for _ in range(_int(rng, 2, 4)):
    op = _pick(rng, ("gain", "lose", "double") if value < 40 else ("gain", "lose"))
    if op == "gain":
      n = _int(rng, 2, 12)
      verb = _pick(rng, ("buys", "finds", "is given"))
      sentences.append(f"Then {name} {verb} {n} more.")
      steps.append(f"{value} + {n} = {value + n}.")
      value += n
    elif op == "lose" and value > 2:
      n = _int(rng, 1, value)
      verb = _pick(rng, ("gives away", "loses", "sells"))
      sentences.append(f"Then {name} {verb} {n}.")
      steps.append(f"{value} - {n} = {value - n}.")
      value -= n
    else:
      sentences.append(f"Then the number of {item} doubles.")
      steps.append(f"{value} * 2 = {value * 2}.")
      value *= 2
  question = " ".join(sentences) + f" How many {item} does {name} have now?"
  distractors = {value + d for d in (-3, -2, -1, 1, 2, 3, 5) if value + d >= 0} - {value}
  options = _shuffled(rng, [value] + _sample(rng, sorted(distractors), 3))
  return {"question": question, "answer": str(value), "rationale": " ".join(steps),
          "options": [str(o) for o in options]}


def list_ops(rng: np.random.Generator) -> Record:
  """First / last item, alphabetical sort or reversal of a short word list."""
  items = _sample(rng, WORDS, _int(rng, 3, 6))
  op = _pick(rng, ("first", "last", "sort", "reverse"))
  if op in ("first", "last"):
    answer = items[0] if op == "first" else items[-1]
    options = _sample(rng, items, min(4, len(items)))
    if answer not in options:
      options[0] = answer
    options = _shuffled(rng, options)
    operation = f"the {op} item"
  else:
    target = sorted(items) if op == "sort" else items[::-1]
    answer = _join(target)
    options = {answer, _join(items)}
    while len(options) < 4:
      options.add(_join(_shuffled(rng, items)))
    options = _shuffled(rng, sorted(options))
    operation = "the list in alphabetical order" if op == "sort" else "the list in reverse order"
  return {"items": _join(items), "operation": operation, "answer": answer,
          "options": [str(o) for o in options]}


def compare_numbers(rng: np.random.Generator) -> Record:
  """Which listed number is largest or smallest, with a sorted-list rationale."""
  numbers = _sample(rng, range(1, 100), _int(rng, 3, 5))
  which = _pick(rng, ("largest", "smallest"))
  answer = max(numbers) if which == "largest" else min(numbers)
  ordered = _join(sorted(numbers))
  rationale = f"From smallest to largest the numbers are {ordered}, so the {which} is {answer}."
  return {"numbers": _join(numbers), "which": which, "answer": str(answer),
          "rationale": rationale, "options": [str(n) for n in numbers]}


def category(rng: np.random.Generator) -> Record:
  """Pick the one listed word that belongs to a named category (the quickly learnable family)."""
  cats = list(CATEGORIES)
  chosen = _sample(rng, cats, _int(rng, 3, 5))
  words = [_pick(rng, CATEGORIES[c]) for c in chosen]
  asked = chosen[0]
  answer = words[0]
  words = _shuffled(rng, words)
  rationale = f"{answer.capitalize()} is a kind of {asked}; the others are not."
  return {"category": asked, "choices": _join(words), "answer": answer,
          "rationale": rationale, "options": words}


def entailment(rng: np.random.Generator) -> Record:
  """Does a hypothesis follow from generated facts: yes / no / it is not possible to tell."""
  people = _sample(rng, NAMES, 3)
  facts, known = [], {}
  for person in people:
    kind = _pick(rng, ("city", "pet", "job"))
    value = _pick(rng, {"city": CITIES, "pet": PETS, "job": JOBS}[kind])
    known[person] = (kind, value)
    facts.append(_fact(person, kind, value))
  label = _pick(rng, ENTAILMENT_OPTIONS)
  person = _pick(rng, people)
  kind, value = known[person]
  pool = {"city": CITIES, "pet": PETS, "job": JOBS}
  if label == "yes":
    hypothesis = _fact(person, kind, value)
    why = f"The facts state that {_fact(person, kind, value)[:-1]}."
  elif label == "no":
    other = _pick(rng, [v for v in pool[kind] if v != value])
    hypothesis = _fact(person, kind, other)
    why = f"The facts state that {_fact(person, kind, value)[:-1]}, which rules this out."
  else:
    other_kind = _pick(rng, [k for k in pool if k != kind])
    hypothesis = _fact(person, other_kind, _pick(rng, pool[other_kind]))
    why = f"The facts say nothing about the {_KIND_NOUN[other_kind]} of {person}."
  return {"premise": " ".join(facts), "hypothesis": hypothesis, "answer": label,
          "rationale": why, "options": list(ENTAILMENT_OPTIONS)}


DRINKS = ("tea", "coffee", "juice", "cocoa", "lemonade")
SIZES = ("small", "medium", "large")


def dialog(rng: np.random.Generator) -> Record:
  """A short cafe conversation (4-6 turns) whose turns follow from the earlier ones."""
  drink, size = _pick(rng, DRINKS), _pick(rng, SIZES)
  price, count = _int(rng, 2, 6), _int(rng, 1, 4)
  turns = [
      _pick(rng, (f"Guest: Do you serve {drink}?", f"Guest: Is there any {drink} today?")),
      f"Clerk: Yes, a {size} {drink} is {price} dollars.",
      f"Guest: Then I would like {count}, please.",
      f"Clerk: {count} {size} {drink} comes to {price * count} dollars.",
  ]
  if rng.random() < 0.5:
    pay = _pick(rng, ("card", "cash", "phone"))
    turns += [f"Guest: May I pay by {pay}?", f"Clerk: Yes, {pay} is fine."]
  return {"turns": turns}


_KIND_NOUN = {"city": "home city", "pet": "pet", "job": "job"}


def _fact(person: str, kind: str, value: str) -> str:
  if kind == "city":
    return f"{person} lives in {value}."
  if kind == "pet":
    return f"{person} owns {value}."
  return f"{person} works as {value}."


@dataclasses.dataclass(frozen=True)
class Family:
  """A toy dataset: its generator and record schema (text fields, options, rationale)."""
  name: str
  make: Callable[[np.random.Generator], Record]
  fields: tuple[str, ...]
  description: str


FAMILIES = {f.name: f for f in (
    Family("arithmetic", arithmetic, ("question", "answer", "rationale", "options"),
           "multi-step word problems with a worked rationale"),
    Family("list_ops", list_ops, ("items", "operation", "answer", "options"),
           "first/last item, sort or reverse a word list"),
    Family("compare_numbers", compare_numbers,
           ("numbers", "which", "answer", "rationale", "options"),
           "largest or smallest of 3-4 listed numbers"),
    Family("category", category, ("category", "choices", "answer", "rationale", "options"),
           "which listed word is a <category> (learnable quickly; chance 1/3-1/4)"),
    Family("dialog", dialog, ("turns",), "cafe conversations: next turn, and its inversion"),
    Family("entailment", entailment, ("premise", "hypothesis", "answer", "rationale", "options"),
           "yes / no / it is not possible to tell from generated facts"),
)}


def _content(record: Record) -> str:
  return "\x1f".join(str(record[k]) for k in sorted(record) if k != "idx")


def generate(family: str, split: str, size: int, seed: int = 0,
             train_size: int = 5000) -> list[Record]:
  """`size` records of a family's split; validation never repeats one of the `train_size`
  train records."""
  fam = FAMILIES[family]
  split_salt = {"train": 0, "validation": 1}[split]
  rng = np.random.default_rng([seed, split_salt, sum(map(ord, family))])
  seen = set()
  if split == "validation":
    seen = {_content(r) for r in _cached_train(family, seed, train_size)}
  out = []
  while len(out) < size:
    record = fam.make(rng)
    content = _content(record)
    if split == "validation" and content in seen:
      continue
    record["idx"] = f"{split}/{len(out)}"
    out.append(record)
  return out


_TRAIN_CACHE: dict[tuple[str, int, int], list[Record]] = {}


def _cached_train(family: str, seed: int, train_size: int) -> list[Record]:
  key = (family, seed, train_size)
  if key not in _TRAIN_CACHE:
    _TRAIN_CACHE[key] = generate(family, "train", train_size, seed)
  return _TRAIN_CACHE[key]
