"""The `--task_module` flag every command that looks tasks up shares (one line per command).

The flag takes a Python module name (repeatable). The module either follows the catalog
contract (flan_jax.catalog.spec) or registers SeqIO tasks and mixtures on import, as
T5X's `--gin.MIXTURE_OR_TASK_MODULE` modules do. Modules are imported at the first lookup;
one that fails is named in the error of a lookup that might need it, and only there.
"""

from __future__ import annotations

import argparse


class _AddTaskModule(argparse.Action):
  """Records each module with the catalog as soon as the flag is parsed."""

  def __call__(self, parser, namespace, values, option_string=None):
    from flan_jax.catalog import lookup as catalog  # pylint: disable=g-import-not-at-top
    catalog.add_task_modules([values])
    setattr(namespace, self.dest, list(getattr(namespace, self.dest) or []) + [values])


def add_task_module_flag(*parsers: argparse.ArgumentParser) -> None:
  """Adds `--task_module MODULE` (repeatable) to each parser."""
  for parser in parsers:
    parser.add_argument(
        "--task_module", "--task-module", action=_AddTaskModule, default=[], metavar="MODULE",
        help="Python module that registers extra tasks/mixtures (SeqIO or the catalog "
             "contract); repeatable")
