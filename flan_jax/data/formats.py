"""Prompt formats and the task naming scheme.

Each (dataset, format) pair is its own SeqIO task named `{collection}.{dataset}:{format}`,
e.g. `toy.category:zs_opt` or `toy.arithmetic:cot_inv`.
"""

from __future__ import annotations

import dataclasses
import itertools
import re

from flan_jax import errors

from flan_jax.data import templates as templates_lib

# Chain-of-thought target: rationale, this fixed phrase, then the answer.
COT_ANSWER_PHRASE = "Hence the answer is"
COT_CUES = (
    "Reason it out step by step before answering.",
    "Explain your reasoning, then give the answer.",
    "Work through it and show each step.",
)
EXEMPLAR_SEPARATORS = ("\n", "\n\n", "\n\n\n")

_NAME_RE = re.compile(r"^[A-Za-z0-9_.:]+$")


@dataclasses.dataclass(frozen=True)
class PromptFormat:
  """How a template set becomes prompts: options or not, shots, CoT, inversion."""
  name: str
  description: str
  options: bool = False
  random_options: bool = True
  shots: tuple[int, ...] = ()
  template_mix: bool = False
  cot: bool = False
  inversion: str | None = None  # "templates" (researcher-written) or "cot" (arrangements).
  # How many exemplars a prompt asks for (the budget may keep fewer, down to min(shots)):
  # 0 draws one of `shots`; N > 0 is FLAN's x-shot, N candidates of which those whose
  # (uniformly drawn) template is the query's are kept, at most max(shots); template-mix
  # formats of the "flan" style ask for max(shots) (`ask_max`).
  x_shot_candidates: int = 0
  ask_max: bool = False

  @property
  def few_shot(self) -> bool:
    return bool(self.shots)


# Exemplar counts of every few-shot format under "paper" (2, 3 or 5), the formats' base.
SHOT_COUNTS = (2, 3, 5)

# Few-shot construction, a choice of whoever registers the tasks (`registration.
# register_template_tasks(few_shot=...)`; the Flan 2022 recipe's collections default to
# "flan", the toy demo and users' own collections to "paper"):
# "paper": 2, 3 or 5 exemplars, as the Flan papers describe; "flan": as FLAN's released code
# (flan/v2 tasks.py, few_shot.py) builds them: query-template formats are x-shot (25
# candidates, those sharing the query's template kept: about 25 / number of templates; a
# query with none is dropped, as FLAN's filter does), template-mix formats ask for 5; both
# pruned to the token budget.
FEW_SHOT_STYLES = ("flan", "paper")
X_SHOT_CANDIDATES = 25
X_SHOT_MOST = 8  # Most exemplars an x-shot prompt keeps (each count is one encode per query).
MIX_SHOTS = 5


def check_few_shot_style(style: str) -> str:
  """`style` if it is one of FEW_SHOT_STYLES, else a ConfigError naming the choices."""
  if style not in FEW_SHOT_STYLES:
    raise errors.ConfigError(f"few_shot={style!r}: choose one of {FEW_SHOT_STYLES}.")
  return style


def few_shot_fields(style: str, template_mix: bool) -> dict:
  """The PromptFormat fields a few-shot format gets under `style`."""
  if check_few_shot_style(style) == "paper":
    return {"shots": SHOT_COUNTS, "x_shot_candidates": 0, "ask_max": False}
  if template_mix:
    return {"shots": tuple(range(1, MIX_SHOTS + 1)), "x_shot_candidates": 0, "ask_max": True}
  return {"shots": tuple(range(1, X_SHOT_MOST + 1)), "x_shot_candidates": X_SHOT_CANDIDATES,
          "ask_max": False}


def styled(fmt: "PromptFormat", style: str) -> "PromptFormat":
  """`fmt` with its few-shot construction under `style` (other formats unchanged)."""
  check_few_shot_style(style)
  if not fmt.few_shot:
    return fmt
  return dataclasses.replace(fmt, **few_shot_fields(style, fmt.template_mix))


FORMATS = {f.name: f for f in (
    PromptFormat("zs_opt", "zero-shot, answer choices listed (randomized list style)", options=True),
    PromptFormat("zs_noopt", "zero-shot, same instructions without the choices"),
    PromptFormat("fs_opt", "few-shot (query's template), fixed choice list",
                 options=True, random_options=False, shots=SHOT_COUNTS),
    PromptFormat("fs_noopt", "few-shot (query's template), no choices", shots=SHOT_COUNTS),
    PromptFormat("fsmix_opt", "few-shot, each exemplar in its own template, fixed choice list",
                 options=True, random_options=False, template_mix=True, shots=SHOT_COUNTS),
    PromptFormat("fsmix_noopt", "few-shot, each exemplar in its own template, no choices",
                 template_mix=True, shots=SHOT_COUNTS),
    PromptFormat("cot", "zero-shot chain-of-thought: rationale, fixed phrase, answer", cot=True),
    PromptFormat("fs_cot", "few-shot chain-of-thought", cot=True, shots=SHOT_COUNTS),
    PromptFormat("inv", "input inversion with the dataset's inverted templates",
                 inversion="templates"),
    PromptFormat("cot_inv", "CoT inversion: every question/rationale/answer arrangement",
                 inversion="cot"),
)}


def describe(fmt_name: str, num_exemplars: int | None = None) -> str:
  """A format's description for one rendered row; few-shot rows say how many exemplars
  they really hold (the budget can cut 5 to 3 or 2)."""
  fmt = FORMATS.get(fmt_name)
  if fmt is None:
    return ""
  if fmt.few_shot and num_exemplars is not None:
    return f"{fmt.description}; {num_exemplars} exemplars"
  if fmt.few_shot:
    return f"{fmt.description}; {', '.join(map(str, fmt.shots[:-1]))} or {fmt.shots[-1]} exemplars"
  return fmt.description


def task_name(collection: str, dataset: str, fmt: str) -> str:
  """`{collection}.{dataset}:{format}`; raises ValueError for characters seqio rejects."""
  name = f"{collection}.{dataset}:{fmt}"
  if not _NAME_RE.match(name):
    raise ValueError(f"Task name {name!r} may only use letters, digits, '_', '.', ':'.")
  return name


# `{task}#cap{N}`: a task truncated to its first N examples (see data/truncation.py).
CAP_MARK = "#cap"


def truncated_name(task_name: str, cap: int) -> str:
  """`{task}#cap{cap}`: the name of the task truncated to `cap` examples."""
  return f"{task_name}{CAP_MARK}{int(cap)}"


def base_task_name(name: str) -> str:
  """The original task of a truncated name (`toy.x:zs_opt#cap8` -> `toy.x:zs_opt`)."""
  return name.split(CAP_MARK, 1)[0]


def parse_task_name(name: str) -> tuple[str, str, str] | None:
  """Inverse of task_name: (collection, dataset, format), or None if it does not fit."""
  m = re.match(r"^([A-Za-z0-9_]+)\.([A-Za-z0-9_.]+):([A-Za-z0-9_]+)$", name)
  return (m.group(1), m.group(2), m.group(3)) if m else None


def formats_for(ts: templates_lib.TemplateSet) -> list[PromptFormat]:
  """The formats a template set supports (options need choices, CoT needs a rationale)."""
  out = []
  for fmt in FORMATS.values():
    if fmt.options and not ts.options_field:
      continue
    if (fmt.cot or fmt.inversion == "cot") and not ts.rationale_field:
      continue
    if fmt.inversion == "templates" and not ts.inverted:
      continue
    out.append(fmt)
  return out


_LABELS = {"question": "Question", "rationale": "Reasoning", "answer": "Answer"}


def cot_arrangements(ts: templates_lib.TemplateSet) -> tuple[templates_lib.Template, ...]:
  """Inverted CoT templates: every ordering of question/rationale/answer split into input and
  target (both non-empty), except the forward one (question -> rationale, answer)."""
  roles = {"question": ts.question_field, "rationale": ts.rationale_field,
           "answer": ts.answer_field}
  out = []
  for perm in itertools.permutations(("question", "rationale", "answer")):
    for cut in (1, 2):
      given, wanted = perm[:cut], perm[cut:]
      if given == ("question",) and wanted == ("rationale", "answer"):
        continue
      lines = [f"{_LABELS[r]}: {{{roles[r]}}}" for r in given]
      ask = " and the ".join(_LABELS[r].lower() for r in wanted)
      lines.append(f"Write the {ask} that fit{'s' if len(wanted) == 1 else ''} the above.")
      if len(wanted) == 1:
        target = f"{{{roles[wanted[0]]}}}"
      else:
        target = "\n".join(f"{_LABELS[r]}: {{{roles[r]}}}" for r in wanted)
      name = "cot_inv_" + "_".join(r[0] for r in given) + "_to_" + "_".join(r[0] for r in wanted)
      out.append(templates_lib.Template(name, "\n".join(lines), target))
  return tuple(out)


def templates_for(ts: templates_lib.TemplateSet, fmt: PromptFormat) -> tuple[templates_lib.Template, ...]:
  """The templates a format draws from."""
  if fmt.inversion == "templates":
    return ts.inverted
  if fmt.inversion == "cot":
    return cot_arrangements(ts)
  return ts.templates
