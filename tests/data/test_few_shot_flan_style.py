"""FLAN_JAX_FEW_SHOT=flan: few-shot prompts built as FLAN's released code builds them.

x-shot (fs_*): 25 candidates, those whose uniformly drawn template is the query's kept (at
most 8), pruned to the budget; none kept drops the query. Template mix (fsmix_*): asks for
5, pruned to the budget."""

import collections
import dataclasses
import os
import subprocess
import sys

from flan_jax.data import few_shot
from flan_jax.data import formats
from flan_jax.data.templates import Template
from tests.data.test_few_shot import FEATURES, _forget_registered_tasks, _records, _task, _train_ids  # pylint: disable=unused-import

FIVE_TEMPLATES = tuple(Template(f"t{i}", f"Q{i}: {{question}}\nA:") for i in range(5))


def _render(task, fmt, budget=None):
  step = [p for p in task.preprocessors if getattr(p, "func", None) is few_shot.render_few_shot][0]
  spec = dataclasses.replace(step.keywords["spec"], fmt=fmt)
  if budget is not None:
    spec = dataclasses.replace(spec, token_budget=budget)
  out = few_shot.render_few_shot(task.source.get_dataset("validation", shuffle=False), FEATURES,
                                 spec=spec, source=task.source)
  return [{k: (v.decode() if isinstance(v, bytes) else v) for k, v in r.items()}
          for r in out.as_numpy_iterator()], spec


def test_x_shot_keeps_the_candidates_in_the_query_template():
  """Five templates: 25 candidates match the query's template with p = 1/5, so a prompt asks
  for Binomial(25, 0.2) exemplars (mean 5), at most 8; P(0) = 0.8**25 = 0.4%."""
  (task,) = _task("xshot", FIVE_TEMPLATES, ["fs_noopt"], _records(400), _records(200, "validation"))
  fmt = dataclasses.replace(formats.FORMATS["fs_noopt"], **formats.few_shot_fields("flan", False))
  assert fmt.shots == tuple(range(1, 9)) and fmt.x_shot_candidates == 25
  rows, spec = _render(task, fmt)
  counts = collections.Counter(int(r["num_exemplars"]) for r in rows)
  assert set(counts) <= set(range(1, 9)) and len(counts) >= 5
  mean = sum(k * v for k, v in counts.items()) / len(rows)
  assert 4.0 < mean < 5.5  # Binomial(25, 0.2) clipped at 8 has mean 4.9.
  assert len(rows) + few_shot.dropped_examples(spec.task_name) == 200
  for r in rows:
    prompt = r["inputs"]
    assert len(_train_ids(prompt)) == r["num_exemplars"]
    query_template = r["template"].split("/")[-1]
    marker = f"Q{query_template[1:]}: "
    assert prompt.count(marker) == r["num_exemplars"] + 1  # Every exemplar in the query's template.


def test_template_mix_asks_for_five_and_prunes_to_the_budget():
  (task,) = _task("mix5", FIVE_TEMPLATES, ["fsmix_noopt"], _records(200),
                  _records(30, "validation"))
  fmt = dataclasses.replace(formats.FORMATS["fsmix_noopt"], **formats.few_shot_fields("flan", True))
  rows, _ = _render(task, fmt)
  assert [int(r["num_exemplars"]) for r in rows] == [5] * 30
  # Exemplar "Qi: qtNNNN\nA: aNNNN" = 19 bytes + a 1-3 byte separator; query 13. Budget 80:
  # three fit (at most 3 x 22 + 13 = 79), four never (at least 4 x 20 + 13 = 93).
  pruned, _ = _render(task, fmt, budget=80)
  assert [int(r["num_exemplars"]) for r in pruned] == [3] * 30


def test_style_comes_from_the_environment():
  env = dict(os.environ, FLAN_JAX_FEW_SHOT="flan")
  code = ("from flan_jax.data import formats as f; "
          "print(f.FORMATS['fs_opt'].x_shot_candidates, f.FORMATS['fsmix_opt'].shots, "
          "f.FORMATS['fs_cot'].shots[-1])")
  out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       check=True).stdout
  assert out.split() == ["25", "(1,", "2,", "3,", "4,", "5)", "8"]
  env["FLAN_JAX_FEW_SHOT"] = "papr"
  bad = subprocess.run([sys.executable, "-c", "import flan_jax.data.formats"], env=env,
                       capture_output=True, text=True)
  assert bad.returncode != 0 and "FLAN_JAX_FEW_SHOT='papr'" in bad.stderr
  assert formats.FORMATS["fs_opt"].shots == (2, 3, 5)  # This process: the default, "paper".
