"""A small catalog whose mixture shares the tests compute by hand."""

from flan_jax.catalog import spec as catalog_spec

FOUR = ("zs_opt", "fs_opt", "zs_noopt", "fs_noopt")


def dataset(collection, name, formats, n, **kw):
  return catalog_spec.DatasetSpec(
      collection, name, tuple(f"{collection}.{name}:{f}" for f in formats),
      catalog_spec.DataRequirement(catalog_spec.GENERATED, name), num_train_examples=n, **kw)


# flan2021-like: equal-size datasets with and without choices, and a capped one with `inv`.
FLAN2021 = [
    dataset("flan2021", "opt10", FOUR, 10_000, has_options=True),
    dataset("flan2021", "noopt10", ("zs_noopt", "fs_noopt"), 10_000),
    dataset("flan2021", "big", FOUR + ("inv",), 50_000, has_options=True),
]
# flan2021 weights: opt10 4 x 2,500; noopt10 2 x 5,000; big 4 x 7,500 (cap 30k / 4) + inv
# 0.3 x 7,500 = 2,250. Total 10,000 + 10,000 + 32,250 = 52,250.
FLAN2021_TOTAL = 52_250
OTHERS = [
    dataset("t0", "qa", ("zs_noopt", "fs_noopt"), 40_000),           # cap 20k: 10k + 10k
    dataset("niv2", "task001", ("zs_noopt", "fs_noopt"), 3_000),     # 1.5k + 1.5k
    dataset("cot", "gsm", ("cot", "fs_cot", "cot_inv"), 7_000),      # 3.5k + 3.5k + 1,050
    dataset("dialog", "wiki", ("zs_noopt", "fs_noopt", "inv"), 10_000),  # 5k + 5k + 1.5k
    dataset("flan2021", "cot_only", ("cot",), 1_000),                # CoT format outside `cot`
    dataset("mmlu", "x", ("zs_opt",), 500, held_out=True),           # evaluation only
]
