"""Real-dataset readiness: template sets on TFDS sources, and an up-front prepared check."""

import pytest
import seqio
import tensorflow as tf
import tensorflow_datasets as tfds

from flan_jax.catalog import preflight
from flan_jax.data import registration
from flan_jax.readers import tfds_check
from flan_jax.data import vocab
from flan_jax.data.templates import Template, TemplateSet

LABELS = ("yes", "no")
RTE_LIKE = TemplateSet(
    name="rte_like", fields=("premise", "hypothesis", "answer", "options"),
    options_field="options",
    templates=(Template("follows", "{premise}\nDoes it follow that {hypothesis}?\n{options}"),
               Template("claim", "Text: {premise}\nClaim: {hypothesis}\n{options}")),
)


def label_to_answer(ds: tf.data.Dataset) -> tf.data.Dataset:
  """Reads label (int); writes answer and options (the label names)."""
  names = tf.constant(LABELS)

  def fn(ex):
    return {"premise": ex["premise"], "hypothesis": ex["hypothesis"],
            "answer": tf.gather(names, tf.cast(ex["label"], tf.int32) % 2),
            "options": names}
  return ds.map(fn)


class TinyEntailment(tfds.core.GeneratorBasedBuilder):
  """A local TFDS dataset (no download) with an RTE-like schema."""
  VERSION = tfds.core.Version("1.0.0")
  # Nothing to download; also skips TFDS's checksum lookup, which needs `importlib_resources`
  # (not installed by setup.py; see the data report).
  url_infos = {}

  def _info(self):
    return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
        "premise": tfds.features.Text(), "hypothesis": tfds.features.Text(),
        "label": tfds.features.ClassLabel(names=list(LABELS))}))

  def _split_generators(self, dl_manager):
    return {"train": self._generate_examples(8), "validation": self._generate_examples(3)}

  def _generate_examples(self, n):
    for i in range(n):
      yield i, {"premise": f"Box {i} is red.", "hypothesis": f"box {i} has a color",
                "label": i % 2}


@pytest.fixture(autouse=True)
def _forget_registered_tasks():
  before = set(seqio.TaskRegistry.names())
  yield
  for name in set(seqio.TaskRegistry.names()) - before:
    seqio.TaskRegistry.remove(name)


def _features():
  return {k: seqio.Feature(vocab.toy_vocabulary(), add_eos=True) for k in ("inputs", "targets")}


def _register(name, source):
  ts = TemplateSet(**{**RTE_LIKE.__dict__, "name": name})
  return registration.register_template_tasks(
      "tfds", ts, source, _features(), prompt_formats=["zs_opt", "fs_noopt"],
      pre_render=[label_to_answer], pool_size=8)


def _texts(name, split="validation"):
  # try_in_mem_cache=False: mocked TFDS data has no split sizes for seqio to look up.
  ds = seqio.get_mixture_or_task(name).get_dataset(None, split=split, shuffle=False,
                                                   try_in_mem_cache=False)
  return [(r["inputs_pretokenized"].decode(), r["targets_pretokenized"].decode())
          for r in ds.as_numpy_iterator()]


def test_template_set_on_a_prepared_local_tfds_dataset(tmp_path):
  TinyEntailment(data_dir=str(tmp_path)).download_and_prepare()
  source = tfds_check.CheckedTfdsDataSource("tiny_entailment:1.0.0", tfds_data_dir=str(tmp_path))
  zs, fs = _register("tiny_entailment", source)
  rows = _texts(zs)
  assert len(rows) == 3
  assert all("Box" in inputs for inputs, _ in rows)
  assert all(len(_texts(fs)) == 3 for _ in range(1))
  with pytest.MonkeyPatch.context() as mp:
    mp.setenv("TFDS_DATA_DIR", str(tmp_path / "elsewhere"))  # The source's own dir counts.
    assert [(r.dataset, r.ok) for r in preflight.check_name(zs)] == [
        ("tiny_entailment:1.0.0", True)]


def test_template_set_on_mocked_super_glue_rte():
  source = tfds_check.CheckedTfdsDataSource("super_glue/rte:1.0.2", check_prepared=False)
  (zs, _) = _register("mock_rte", source)
  with tfds.testing.mock_data(num_examples=4):
    rows = _texts(zs)
  assert len(rows) == 4
  for inputs, target in rows:
    assert "\nDoes it follow that " in inputs or "\nClaim: " in inputs
    assert target  # a marker or yes/no.


def test_missing_dataset_fails_up_front_with_the_build_command(tmp_path):
  source = tfds_check.CheckedTfdsDataSource("tiny_entailment:1.0.0", tfds_data_dir=str(tmp_path))
  (zs, _) = _register("missing_entailment", source)
  with pytest.raises(tfds_check.DatasetNotPreparedError) as e:
    seqio.get_mixture_or_task(zs).get_dataset(None, split="validation", shuffle=False)
  msg = str(e.value)
  assert "tiny_entailment:1.0.0" in msg
  assert f"tfds build tiny_entailment:1.0.0 --data_dir={tmp_path}" in msg
  (row,) = preflight.check_name(zs)
  assert row.state == preflight.NEEDS_DOWNLOAD
  assert f"tfds build tiny_entailment:1.0.0 --data_dir={tmp_path}" in row.how


def test_wrong_schema_is_reported_with_available_fields():
  records = [{"text": "a"}]
  from flan_jax.data import testing
  source = seqio.FunctionDataSource(lambda split, shuffle_files: testing.records_dataset(records),
                                    splits=("validation",))
  ts = TemplateSet(name="needs_question", fields=("question", "answer"),
                   templates=(Template("t", "{question}"),))
  (name,) = registration.register_template_tasks("unit", ts, source, _features(),
                                                 prompt_formats=["zs_noopt"])
  with pytest.raises(Exception, match=r"needs_question.*\['question', 'answer'\].*\['text'\]"):
    seqio.get_mixture_or_task(name).get_dataset(None, split="validation", shuffle=False)
