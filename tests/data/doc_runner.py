"""Runs a Markdown page's code as a reader would: shell blocks in order, files saved as the
page says, sample outputs compared with what the commands print.

A ```sh block runs with bash (-e) in the folder; a ```text block right after it is a sample
of what that block prints (it must appear verbatim in its stdout). A ```python block after a
line ending in "Save as `NAME`:" is written to NAME; any other ```python block runs as a
script. A block right after an `<!-- not run: why -->` line is skipped.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys

_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
_SAVE_AS = re.compile(r"Save as `([^`]+)`:\s*$")


@dataclasses.dataclass
class Block:
  lang: str
  body: str
  line_before: str  # The last non-blank line above the fence.


def blocks(markdown: str) -> list[Block]:
  found = []
  for match in _FENCE.finditer(markdown):
    above = [line for line in markdown[:match.start()].splitlines() if line.strip()]
    found.append(Block(match.group(1), match.group(2), above[-1] if above else ""))
  return found


def section(markdown: str, heading: str) -> str:
  """The text under `heading` (a `## ...` line) up to the next `## ` heading."""
  start = markdown.index(heading + "\n")
  end = markdown.find("\n## ", start + len(heading))
  return markdown[start:end if end > 0 else len(markdown)]


@dataclasses.dataclass
class Ran:
  block: Block
  stdout: str = ""
  skipped: bool = False


def run(markdown: str, folder: str, timeout: int = 900) -> list[Ran]:
  """Runs the page's blocks in `folder`; raises AssertionError at the first failure."""
  env = dict(os.environ)
  env.pop("PYTHONPATH", None)  # As a user has it: flan_jax installed, the repo not on the path.
  env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
  ran: list[Ran] = []
  for block in blocks(markdown):
    if block.line_before.startswith("<!-- not run"):
      ran.append(Ran(block, skipped=True))
      continue
    if block.lang == "text":
      assert ran and ran[-1].block.lang in ("sh", "python"), block.body
      assert block.body in ran[-1].stdout, (
          f"The page shows:\n{block.body}\nbut the command printed:\n{ran[-1].stdout}")
      ran.append(Ran(block))
      continue
    saved = _SAVE_AS.search(block.line_before)
    if block.lang == "python" and saved:
      with open(os.path.join(folder, saved.group(1)), "w", encoding="utf-8") as f:
        f.write(block.body)
      ran.append(Ran(block))
      continue
    assert block.lang in ("sh", "python"), f"no rule to run a ```{block.lang} block"
    command = ["bash", "-e", "-c", block.body] if block.lang == "sh" else [
        sys.executable, "-c", block.body]
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, (
        f"```{block.lang}\n{block.body}```\nexited {done.returncode}:\n{done.stdout}\n"
        f"{done.stderr[-3000:]}")
    ran.append(Ran(block, stdout=done.stdout))
  return ran
