"""`flan-jax mixtures stats`, `export` and `cache` through the dispatcher."""

import json

import pytest

from flan_jax.cli import main as cli
from flan_jax.catalog import lookup as catalog
from flan_jax.mixtures import recipe
from tests.mixtures import plain_tasks


@pytest.fixture(scope="module", autouse=True)
def registered():
  recipe.register()


def test_stats_json(capsys):
  assert cli.main(["mixtures", "stats", recipe.TOY_MIXTURE, "--json"]) == 0
  out = json.loads(capsys.readouterr().out)
  assert sum(out["shares"].values()) == pytest.approx(1.0)
  assert out["submixtures"][f"{recipe.TOY_MIXTURE}.flan2021"] == pytest.approx(0.4)


def test_stats_file_changes_the_printed_rates(tmp_path, capsys):
  """toy dialog (dialog submix, cap 200k): 5,000 examples -> zs_noopt rate 5,000 x 1/2;
  with a stats file saying 9,000 for zs_noopt and fs_noopt, 9,000 x 1/2 and 9,000 x 1/4."""
  assert cli.main(["mixtures", "stats", recipe.TOY_MIXTURE, "--json"]) == 0
  before = json.loads(capsys.readouterr().out)
  assert before["rates"]["toy.dialog:zs_noopt"] == pytest.approx(2_500)
  stats = tmp_path / "stats.json"
  stats.write_text(json.dumps({"toy.dialog:zs_noopt": {"train": 9_000},
                               "toy.dialog:fs_noopt": {"train": 9_000}}))
  assert cli.main(["mixtures", "stats", recipe.TOY_MIXTURE, "--stats", str(stats), "--json"]) == 0
  after = json.loads(capsys.readouterr().out)
  assert after["rates"]["toy.dialog:zs_noopt"] == pytest.approx(4_500)
  assert after["rates"]["toy.dialog:fs_noopt"] == pytest.approx(2_250)
  assert after["num_examples"]["toy.dialog:zs_noopt"] == 9_000
  # dialog weights 4,500 + 2,250 + 1,250 (fsmix_noopt, 5,000 x 1/4) + 750 (inv, still
  # 5,000 examples: 0.3 x 5,000 x 1/2) = 8,750, of the submix's 0.03.
  assert after["shares"]["toy.dialog:zs_noopt"] == pytest.approx(0.03 * 4_500 / 8_750)
  assert after["shares"]["toy.dialog:zs_noopt"] != before["shares"]["toy.dialog:zs_noopt"]


def test_stats_file_on_fixed_rate_mixture_is_refused(tmp_path, capsys):
  stats = tmp_path / "stats.json"
  stats.write_text("{}")
  assert cli.main(["mixtures", "stats", "toy_flan", "--stats", str(stats)]) == 2
  assert "fixed seqio rates" in capsys.readouterr().err


def test_stats_table(capsys):
  assert cli.main(["mixtures", "stats", "toy_flan"]) == 0
  out = capsys.readouterr().out
  assert "toy.category:zs_opt" in out and "share" in out


def test_stats_plot(tmp_path, capsys):
  try:
    import matplotlib  # pylint: disable=unused-import
  except ImportError:
    code = cli.main(["mixtures", "stats", "toy_flan", "--plot", str(tmp_path / "c.png")])
    assert code == 2 and "pip install matplotlib" in capsys.readouterr().err
    return
  assert cli.main(["mixtures", "stats", recipe.TOY_MIXTURE, "--plot", str(tmp_path / "c.png")]) == 0
  assert (tmp_path / "c.png").stat().st_size > 0


def test_unknown_name_is_one_line(capsys):
  assert cli.main(["mixtures", "stats", "toy_flan2O22"]) == 2
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1 and "Did you mean" in err


def test_export_cli(tmp_path, capsys):
  out = tmp_path / "x.jsonl"
  assert cli.main(["export", "toy.category:zs_noopt", "--split", "validation",
                   "--num-examples", "5", "--seed", "1", "--shard", "1/2", "--out", str(out),
                   "--no-progress"]) == 0
  assert len(out.read_text().splitlines()) == 2  # 5 rows over 2 shards: shard 1 has 2.


def test_cache_cli_rejects_uncacheable(tmp_path, capsys):
  name = plain_tasks.register_uncacheable()
  code = cli.main(["cache", name, "--output_dir", str(tmp_path)])
  assert code == 2
  err = capsys.readouterr().err  # Without Beam the install hint, with it the missing step.
  assert "pip install" in err or "CacheDatasetPlaceholder" in err


def test_export_render_seed_decides_the_prompt_bytes(tmp_path):
  def export(render_seed, name):
    out = tmp_path / name
    assert cli.main(["export", "toy.category:zs_opt", "--split", "validation",
                     "--num-examples", "12", "--seed", "1", "--render_seed", str(render_seed),
                     "--out", str(out), "--no-progress"]) == 0
    return [json.loads(line)["inputs"] for line in out.read_text().splitlines()]

  try:
    first, other, again = export(5, "a.jsonl"), export(6, "b.jsonl"), export(5, "c.jsonl")
  finally:  # Later tests expect the default render seed.
    catalog.get_mixture_or_task("toy.category:zs_opt", render_seed=catalog.DEFAULT_RENDER_SEED)
  assert first == again and len(first) == 12
  assert sum(a != b for a, b in zip(first, other)) >= 3


def test_stats_by_submix_and_format(capsys):
  """flan2022 on the catalog, FLAN's rule: cot_inv is 0.3 / 1.3 of cot's 5% (1.154%),
  flan2021 has no inv row; --rule balanced gives cot_inv 13.0% of cot (0.652%)."""
  assert cli.main(["mixtures", "stats", "flan2022", "--by", "submix,format"]) == 0
  out = capsys.readouterr().out
  assert f"cot       cot_inv      {100 * 0.05 * 0.3 / 1.3:>7.3f}%" in out
  assert "flan2021  inv" not in out
  assert cli.main(["mixtures", "stats", "flan2022", "--by", "submix,format",
                   "--rule", "balanced"]) == 0
  assert "flan2021  inv" in capsys.readouterr().out
  assert cli.main(["mixtures", "stats", "flan2022", "--by", "nope"]) == 2
  assert "flan-jax: error: --by takes" in capsys.readouterr().err
