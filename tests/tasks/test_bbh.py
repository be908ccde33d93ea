"""BBH tasks: the prompts hold the suite's own exemplars in order, answers are read as scored."""

import pytest

from flan_jax import errors
from flan_jax.catalog import lookup as catalog
from flan_jax_tasks import bbh
from tests.evaluation import suite_files


def test_27_files_two_tasks_each_named_as_the_files():
  specs = bbh.datasets()
  assert len(specs) == 27 and len({s.name for s in specs}) == 27
  assert sum(bbh.SUBTASKS.values()) == 6511
  spec = next(s for s in specs if s.name == "boolean_expressions")
  assert spec.tasks == ("bbh_boolean_expressions_direct", "bbh_boolean_expressions_cot")
  assert spec.held_out and spec.data.name == "BBH"


def test_parse_cot_prompts_keeps_exemplars_in_file_order():
  description, exemplars = bbh.parse_cot_prompts(suite_files.cot_prompt_text())
  assert description == suite_files.BBH_DESCRIPTION
  assert exemplars == suite_files.BBH_EXEMPLARS  # Blank line inside the third one kept.


def test_cot_and_direct_prompts_written_out_by_hand(tmp_path, monkeypatch):
  monkeypatch.setenv("FLAN_JAX_BBH_DIR", suite_files.write_bbh(tmp_path))
  cot = bbh.read_rows("boolean_expressions", "cot")
  direct = bbh.read_rows("boolean_expressions", "direct")
  assert [r["targets"] for r in cot] == ["False", "True", "True"]
  assert cot[0]["inputs"] == (
      "Evaluate the truth value of a Boolean expression.\n\n"
      "Q: not ( True ) and ( True ) is\nA: Let's think step by step.\nnot ( True ) is False.\n"
      "False and True is False. So the answer is False.\n\n"
      "Q: True and not not ( not False ) is\nA: Let's think step by step.\nnot False is True, "
      "twice negated it stays True.\nTrue and True is True. So the answer is True.\n\n"
      "Q: not True or ( False and True ) is\nA: Let's think step by step.\nnot True is False.\n\n"
      "False and True is False.\nFalse or False is False. So the answer is False.\n\n"
      "Q: True and False is\nA: Let's think step by step.")
  assert direct[1]["inputs"] == (
      "Evaluate the truth value of a Boolean expression.\n\n"
      "Q: not ( True ) and ( True ) is\nA: False\n\n"
      "Q: True and not not ( not False ) is\nA: True\n\n"
      "Q: not True or ( False and True ) is\nA: False\n\n"
      "Q: not not True is\nA:")


def test_missing_folder_names_the_setting(tmp_path, monkeypatch):
  monkeypatch.delenv("FLAN_JAX_BBH_DIR", raising=False)
  with pytest.raises(errors.FlanJaxError, match="FLAN_JAX_BBH_DIR.*--bbh_dir"):
    bbh.read_rows("boolean_expressions", "cot")
  monkeypatch.setenv("FLAN_JAX_BBH_DIR", str(tmp_path))
  with pytest.raises(errors.FlanJaxError, match="boolean_expressions.json.*FLAN_JAX_BBH_DIR"):
    bbh.read_rows("boolean_expressions", "cot")


def test_registered_task_reads_files_only_when_built(tmp_path, monkeypatch):
  import seqio
  monkeypatch.delenv("FLAN_JAX_BBH_DIR", raising=False)
  catalog.register_names(["bbh_cot", "bbh_direct"])  # No folder: registering still works.
  assert "bbh_web_of_lies_direct" in seqio.TaskRegistry.names()
  assert len(seqio.MixtureRegistry.get("bbh_cot").tasks) == 27
  monkeypatch.setenv("FLAN_JAX_BBH_DIR", suite_files.write_bbh(tmp_path))
  task = seqio.TaskRegistry.get("bbh_boolean_expressions_cot")
  ds = task.get_dataset({"inputs": 512, "targets": 16}, split="test", shuffle=False)
  rows = list(ds.as_numpy_iterator())
  assert [r["targets_pretokenized"].decode() for r in rows] == ["False", "True", "True"]
  assert rows[2]["inputs_pretokenized"].decode().endswith(
      "Q: False or True is\nA: Let's think step by step.")
  assert task.postprocess_fn("Step one. So the answer is True.", is_target=False) == "True"


def test_eval_fails_on_missing_files_before_loading_a_model(tmp_path, monkeypatch, capsys):
  from flan_jax.cli import main as cli
  monkeypatch.setenv("FLAN_JAX_BBH_DIR", suite_files.write_bbh(tmp_path / "BBH"))
  # Only boolean_expressions is on disk; the model dir does not even exist.
  code = cli.main(["eval", f"--model_dir={tmp_path / 'no_model'}", "--task=bbh_cot"])
  err = capsys.readouterr().err
  assert code == 2
  assert "bbh_causal_judgement_cot needs" in err and "causal_judgement.json" in err
