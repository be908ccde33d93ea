"""`flan-jax tasks list|show|check` through the real dispatcher."""

from flan_jax.cli import main as cli_main


def test_list_prints_one_name_per_line(capsys):
  assert cli_main.main(["tasks", "list"]) == 0
  lines = capsys.readouterr().out.splitlines()
  names = [line.split("\t")[0] for line in lines]
  assert "toy_flan" in names and "toy.category:zs_opt" in names
  row = dict((line.split("\t")[0], line.split("\t")[1:]) for line in lines)
  assert row["toy.category:zs_opt"][:2] == ["task", "zs_opt"]
  assert row["toy_flan"][0] == "mixture"


def test_show_marks_template_and_format(capsys):
  assert cli_main.main(["tasks", "show", "toy.arithmetic:fs_opt", "-n", "2",
                        "--render_seed", "3"]) == 0
  out = capsys.readouterr().out
  assert out.count("### ") == 2
  assert "template=arithmetic/" in out and "format=fs_opt" in out
  assert "--- inputs" in out and "--- targets" in out


def test_show_is_reproducible_and_render_seed_dependent(capsys):
  args = ["tasks", "show", "toy.category:zs_opt", "-n", "4", "--split", "train"]
  cli_main.main(args + ["--render_seed", "3"])
  first = capsys.readouterr().out
  cli_main.main(args + ["--render_seed", "4"])
  assert capsys.readouterr().out != first
  cli_main.main(args + ["--render_seed", "3"])  # Back to 3 after another seed: same bytes.
  assert capsys.readouterr().out == first
  cli_main.main(args + ["--render_seed", "0"])  # Later tests expect the default render seed.


def test_show_a_mixture(capsys):
  assert cli_main.main(["tasks", "show", "toy_flan", "-n", "2"]) == 0
  assert capsys.readouterr().out.count("task=toy.") == 2


def test_unknown_name_exits_2_with_close_matches(capsys):
  assert cli_main.main(["tasks", "show", "toy.catgory:zs_opt"]) == 2
  err = capsys.readouterr().err
  assert "Unknown task or mixture 'toy.catgory:zs_opt'" in err
  assert "toy.category:zs_opt" in err


def test_check_finds_the_generated_toy_data_prepared(capsys, tmp_path, monkeypatch):
  monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))  # Nothing of TFDS is prepared there.
  for var in ("FLAN_JAX_P3_DIR", "FLAN_JAX_NIV2_DIR", "FLAN_JAX_COT_DIR"):
    monkeypatch.delenv(var, raising=False)
  assert cli_main.main(["tasks", "preflight", "toy_flan"]) == 0
  assert "6 dataset(s): 6 prepared" in capsys.readouterr().out
  # The whole catalog: the toy data is there, the real collections' data is not.
  assert cli_main.main(["tasks", "check"]) == 1
  out = capsys.readouterr().out
  assert "toy.category\tprepared\tgenerated:toy/category" in out
  assert "tfds build super_glue/rte:1.0.2" in out and "FLAN_JAX_NIV2_DIR" in out
