"""Prints the token lengths (EOS included) of a task's or mixture's prompts: min, median, max.

Usage: python scripts/suite_prompt_lengths.py bbh_cot [--split test]
Tokens of the configured vocabulary (T5's, or $FLAN_JAX_VOCABULARY); shows which input length
an eval needs to read a suite's prompts whole (see README, Held-out evaluation).
"""

import argparse


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument("name", help="task or mixture, e.g. bbh_cot")
  parser.add_argument("--split", default=None, help="default: the suite's (test)")
  args = parser.parse_args()
  from flan_jax.catalog import lookup as catalog
  from flan_jax.evaluation import suite_tasks
  provider = catalog.get_mixture_or_task(args.name)
  split = suite_tasks.split_or_default(provider, args.split, "validation")
  tasks = getattr(provider, "tasks", [provider])
  lengths = []
  for task in tasks:
    dataset = task.get_dataset(None, split=split, shuffle=False, num_epochs=1)
    lengths += [len(example["inputs"]) for example in dataset.as_numpy_iterator()]
  lengths.sort()
  print(f"{args.name} ({split}): {len(lengths)} prompts, tokens min {lengths[0]}, "
        f"median {lengths[len(lengths) // 2]}, max {lengths[-1]}")


if __name__ == "__main__":
  main()
