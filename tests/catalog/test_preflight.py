"""Preflight: every dataset's state and how to get it, from a fake TFDS data dir, local
folders and HF cache made in tmp_path; training refuses or skips (renormalized) missing data."""

import json
import logging

import pytest

from flan_jax import errors
from flan_jax.cli import main as cli_main
from flan_jax.catalog import lookup as catalog
from flan_jax.catalog import preflight
from tests.catalog.catalog_fakes import FAKE_COLLECTION, write_module
from tests.catalog.catalog_fakes import user_modules  # pylint: disable=unused-import  # fixture

# a: TFDS, prepared in the fake data dir; b: TFDS needing a manual download, not prepared;
# c: a local folder FLAN_JAX_FAKEC_DIR that must hold tasks/task00*_*.json.
MIXED_DATA = '''{
    "a": cs.DataRequirement(cs.TFDS, "super_glue/rte:1.0.2"),
    "b": cs.DataRequirement(cs.TFDS, "wmt_t2t/de-en:1.0.0", manual=True,
                            how_to_get="Download the corpus from its site into ~/manual."),
    "c": cs.DataRequirement(cs.LOCAL_DIR, "FAKEC", files=("tasks/task00*_*.json",)),
}'''


@pytest.fixture
def fake(user_modules, monkeypatch):
  write_module(user_modules, "fake_pre", FAKE_COLLECTION.replace("{DATA}", MIXED_DATA))
  catalog.add_task_modules("fake_pre")
  data_dir = user_modules / "tfds"
  info = data_dir / "super_glue" / "rte" / "1.0.2" / "dataset_info.json"
  info.parent.mkdir(parents=True)
  info.write_text("{}")
  monkeypatch.setenv("TFDS_DATA_DIR", str(data_dir))
  monkeypatch.delenv("FLAN_JAX_FAKEC_DIR", raising=False)
  return user_modules


def _by_dataset(rows):
  return {r.dataset: r for r in rows}


def test_every_dataset_gets_a_row_with_how_to_get_it(fake):
  rows = _by_dataset(preflight.check_name("fake_mix"))
  assert set(rows) == {"fake.a", "fake.b", "fake.c"}
  assert rows["fake.a"].state == preflight.PREPARED
  assert rows["fake.b"].state == preflight.NEEDS_MANUAL
  assert "Download the corpus from its site into ~/manual." in rows["fake.b"].how
  assert f"tfds build wmt_t2t/de-en:1.0.0 --data_dir={fake / 'tfds'}" in rows["fake.b"].how
  assert rows["fake.c"].state == preflight.NEEDS_DOWNLOAD
  assert "FLAN_JAX_FAKEC_DIR is not set" in rows["fake.c"].detail
  assert "tasks/task00*_*.json" in rows["fake.c"].how


def test_tfds_how_is_the_steps_then_the_command_once(fake):
  rows = _by_dataset(preflight.check_name("fake_mix"))
  assert rows["fake.b"].how == (
      "Download the corpus from its site into ~/manual. Then run: `tfds build "
      f"wmt_t2t/de-en:1.0.0 --data_dir={fake / 'tfds'} --manual_dir=MANUAL_DIR`")
  # The install every printed `tfds build` needs is said once, under the table.
  summary = preflight.summary(list(rows.values()))
  assert summary.count("pip install -e '.[data]'") == 1
  assert "pip install" not in rows["fake.b"].how


def test_estimated_counts_are_marked(fake):
  row = preflight.DatasetStatus("x.y", "local_dir", "NIV2", preflight.NEEDS_DOWNLOAD, "d", "h", 2,
                                count_estimated=True)
  assert preflight.format_rows([row]).splitlines()[0].endswith("train count estimated")
  assert "1 train count(s) are estimates" in preflight.summary([row])


def test_local_folder_needs_the_declared_files(fake, monkeypatch):
  folder = fake / "niv2"
  (folder / "tasks").mkdir(parents=True)
  monkeypatch.setenv("FLAN_JAX_FAKEC_DIR", str(folder))
  row = _by_dataset(preflight.check_name("fake.c:inv"))["fake.c"]
  assert row.state == preflight.NEEDS_DOWNLOAD and "lacks tasks/task00*_*.json" in row.detail
  (folder / "tasks" / "task001_x.json").write_text("{}")
  preflight._listdir.cache_clear()  # pylint: disable=protected-access
  assert _by_dataset(preflight.check_name("fake.c:inv"))["fake.c"].ok


def test_tfds_version_must_match(fake, monkeypatch):
  other = fake / "other_tfds" / "super_glue" / "rte" / "1.0.0"
  other.mkdir(parents=True)
  (other / "dataset_info.json").write_text("{}")
  monkeypatch.setenv("TFDS_DATA_DIR", str(fake / "other_tfds"))
  row = _by_dataset(preflight.check_name("fake.a:zs_noopt"))["fake.a"]
  assert not row.ok and "super_glue/rte/1.0.2" in row.detail


def test_hf_dataset_found_in_the_hf_cache(tmp_path):
  spec_data = {"kind": "hf", "name": "bigscience/P3:cos_e_v1.11_aligned_with_common_sense"}
  from flan_jax.catalog import spec as cs
  spec = cs.DatasetSpec("t", "x", ("t.x:zs_noopt",), cs.DataRequirement(**spec_data))
  env = {"HF_HOME": str(tmp_path)}
  assert preflight.check_spec(spec, environ=env).state == preflight.NEEDS_DOWNLOAD
  assert "load_dataset('bigscience/P3', 'cos_e_v1.11_aligned_with_common_sense')" in (
      preflight.check_spec(spec, environ=env).how)
  (tmp_path / "datasets" / "bigscience___P3" / "cos_e_v1.11_aligned_with_common_sense").mkdir(
      parents=True)
  assert preflight.check_spec(spec, environ=env).ok


def test_cli_prints_json_rows_and_exits_1_when_anything_is_missing(fake, capsys):
  assert cli_main.main(["tasks", "preflight", "fake", "--json"]) == 1
  rows = {r["dataset"]: r["state"] for r in json.loads(capsys.readouterr().out)}
  assert rows == {"fake.a": "prepared", "fake.b": "needs manual step",
                  "fake.c": "needs download"}
  assert cli_main.main(["tasks", "preflight", "fake.a:inv"]) == 0


def test_training_refuses_missing_data_naming_it(fake):
  with pytest.raises(errors.ConfigError) as e:
    preflight.resolve_available("fake_mix", render_seed=0, skip_missing=False)
  assert "2 of the 3 dataset(s)" in str(e.value)
  assert "fake.b" in str(e.value) and "fake.c" in str(e.value) and "--skip_missing" in str(e.value)


def test_skip_missing_renormalizes_the_remaining_rates(fake, monkeypatch, caplog):
  folder = fake / "niv2"
  (folder / "tasks").mkdir(parents=True)
  (folder / "tasks" / "task002_y.json").write_text("{}")
  monkeypatch.setenv("FLAN_JAX_FAKEC_DIR", str(folder))
  with caplog.at_level(logging.WARNING):
    mixture = preflight.resolve_available("fake_mix", render_seed=0, skip_missing=True)
  # fake_mix flattened: a 0.75, b 2.25, c 1; b skipped -> a 0.75/1.75, c 1/1.75.
  rates = {t.name: mixture.get_rate(t) for t in mixture.tasks}
  assert rates == pytest.approx({"fake.a:zs_noopt": 3 / 7, "fake.c:zs_noopt": 4 / 7})
  assert "fake.b" in caplog.text and "Skipping 1 dataset(s)" in caplog.text


def test_skip_missing_with_nothing_left_is_an_error(fake):
  with pytest.raises(errors.ConfigError, match="Nothing of 'fake.b:inv' is left"):
    preflight.resolve_available("fake.b:inv", skip_missing=True)
