"""The manifest of a pre-mixed directory: what was drawn, how, and with which vocabulary.

A premix dir holds `manifest.json` and TFRecord files of tokenized rows. The manifest is
written last, so a dir without one is an unfinished build. Training compares it with the
run (mixture, render seed, split, vocabularies) before anything compiles.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
from typing import Any, Mapping

from flan_jax import errors

FORMAT = "flan_jax.premix/1"
MANIFEST_NAME = "manifest.json"


@dataclasses.dataclass(frozen=True)
class Manifest:
  """A premix's contents. `files` are (name, rows) in stream order; rows are not packed."""
  mixture: str
  split: str
  seed: int
  render_seed: int
  num_examples: int
  files: tuple[tuple[str, int], ...]
  tasks: tuple[str, ...]
  task_rows: tuple[int, ...]
  rates: tuple[float, ...]
  features: Mapping[str, Any]  # {name: {"vocabulary": {...}, "add_eos": bool}}
  code_version: str
  format: str = FORMAT
  feature_lengths: Mapping[str, int] | None = None  # Rows are packed at read time: None.

  def to_json(self) -> dict:
    payload = dataclasses.asdict(self)
    payload["files"] = [{"name": n, "rows": r} for n, r in self.files]
    return payload

  @classmethod
  def from_json(cls, payload: Mapping[str, Any]) -> "Manifest":
    fields = dict(payload)
    fields["files"] = tuple((f["name"], int(f["rows"])) for f in fields["files"])
    for key in ("tasks", "task_rows", "rates"):
      fields[key] = tuple(fields[key])
    return cls(**fields)


def describe_vocabulary(vocab: Any) -> dict:
  """What identifies a vocabulary: its class, size, EOS id and the hash of its SentencePiece
  model or Hugging Face tokenizer.json."""
  described = {"class": type(vocab).__name__, "vocab_size": int(vocab.vocab_size),
               "eos_id": vocab.eos_id}
  model = getattr(vocab, "sp_model", None)
  if isinstance(model, bytes):
    described["sentencepiece_sha256"] = hashlib.sha256(model).hexdigest()
  tokenizer_sha256 = getattr(vocab, "content_sha256", None)
  if tokenizer_sha256:
    described["tokenizer_json_sha256"] = tokenizer_sha256
  return described


def describe_features(output_features: Mapping[str, Any]) -> dict:
  """{inputs/targets: {vocabulary, add_eos}} of a task's output features."""
  return {name: {"vocabulary": describe_vocabulary(output_features[name].vocabulary),
                 "add_eos": bool(output_features[name].add_eos)}
          for name in ("inputs", "targets")}


def code_version() -> str:
  """flan_jax's version and, in a git checkout, its commit (recorded in the manifest)."""
  from flan_jax import __version__  # pylint: disable=g-import-not-at-top
  here = os.path.dirname(os.path.abspath(__file__))
  try:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, text=True,
                            capture_output=True, timeout=10, check=True).stdout.strip()
  except (OSError, subprocess.SubprocessError):
    commit = ""
  return f"{__version__}+{commit}" if commit else __version__


def write(directory: str, manifest: Manifest) -> None:
  with open(os.path.join(directory, MANIFEST_NAME), "w", encoding="utf-8") as f:
    json.dump(manifest.to_json(), f, indent=1)
    f.write("\n")


def read(directory: str) -> Manifest:
  """The manifest of `directory`, checked for presence, format and its files."""
  path = os.path.join(directory, MANIFEST_NAME)
  if not os.path.exists(path):
    raise errors.ConfigError(
        f"PREMIXED_DIR {directory!r} has no {MANIFEST_NAME} (not a premix, or its build did "
        "not finish); build it with `flan-jax premix MIXTURE --out DIR --num-examples N`.")
  try:
    with open(path, encoding="utf-8") as f:
      manifest = Manifest.from_json(json.load(f))
  except (ValueError, KeyError, TypeError) as e:
    raise errors.ConfigError(f"{path} is not a premix manifest ({e}); rebuild the premix.") \
        from None
  if manifest.format != FORMAT:
    raise errors.ConfigError(f"{path} has format {manifest.format!r}; this flan_jax reads "
                             f"{FORMAT!r}. Rebuild the premix with this version.")
  missing = [n for n, _ in manifest.files if not os.path.exists(os.path.join(directory, n))]
  if missing:
    raise errors.ConfigError(f"PREMIXED_DIR {directory!r} lacks {len(missing)} of its files "
                             f"(e.g. {missing[0]}); rebuild or copy the whole directory.")
  return manifest


def check_matches(manifest: Manifest, directory: str, mixture: str, render_seed: int,
                  output_features: Mapping[str, Any]) -> None:
  """Refuses a premix that was not built for this run, naming the first mismatch."""
  wanted = {"mixture": mixture, "render_seed": int(render_seed), "split": "train"}
  for key, value in wanted.items():
    if getattr(manifest, key) != value:
      raise errors.ConfigError(
          f"PREMIXED_DIR {directory!r} was built with {key}={getattr(manifest, key)!r} but "
          f"this run has {key}={value!r}; use a premix built for it (`flan-jax premix "
          f"{mixture} --render_seed {render_seed} ...`) or change the run.")
  run_features = describe_features(output_features)
  for name, described in run_features.items():
    saved = manifest.features.get(name)
    if saved != described:
      raise errors.ConfigError(
          f"PREMIXED_DIR {directory!r} tokenized {name!r} with {saved} but this run's "
          f"{mixture!r} uses {described} (VOCABULARY differs?); rebuild the premix with the "
          "run's vocabulary or train with the premix's.")
