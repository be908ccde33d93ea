"""The package graph of flan_jax, read from the source (ast, nothing imported).

Packages are layered: none may import a package that imports it back, function-level
(lazy) imports included. MODEL_DIR's layout is known to one module.
"""

from __future__ import annotations

import ast
import collections
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1] / "flan_jax"


def _imported_modules(path: pathlib.Path, root: pathlib.Path = ROOT) -> set[str]:
  """Absolute names of the flan_jax modules (or packages) `path` imports, at any depth."""
  package = ("flan_jax",) + path.relative_to(root).parent.parts
  found = set()
  for node in ast.walk(ast.parse(path.read_text(), str(path))):
    if isinstance(node, ast.Import):
      found.update(alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ""
      if node.level:
        anchor = package[:len(package) - node.level + 1]
        base = ".".join(anchor + ((node.module,) if node.module else ()))
      found.add(base)
      found.update(f"{base}.{alias.name}" for alias in node.names)
  return {name for name in found if name.startswith("flan_jax.")}


def _unit(module: str) -> str:
  """flan_jax.<pkg>.x -> <pkg>; a top-level module (flan_jax.errors) is its own unit."""
  return module.split(".")[1]


def package_graph() -> dict[str, dict[str, set[str]]]:
  """{package: {imported package: modules of the first that import it}}."""
  graph: dict[str, dict[str, set[str]]] = collections.defaultdict(
      lambda: collections.defaultdict(set))
  for path in sorted(ROOT.rglob("*.py")):
    module = ".".join(("flan_jax",) + path.relative_to(ROOT).with_suffix("").parts)
    source = _unit(module)
    for target in map(_unit, _imported_modules(path)):
      if target != source:
        graph[source][target].add(module)
  return graph


def find_cycles(graph) -> set[frozenset]:
  """Packages that reach each other: each strongly connected component with 2+ members."""
  index, low, stack, on_stack, result = {}, {}, [], set(), set()

  def visit(node):
    index[node] = low[node] = len(index)
    stack.append(node)
    on_stack.add(node)
    for nxt in graph.get(node, {}):
      if nxt not in index:
        visit(nxt)
        low[node] = min(low[node], low[nxt])
      elif nxt in on_stack:
        low[node] = min(low[node], index[nxt])
    if low[node] == index[node]:
      component = set()
      while True:
        member = stack.pop()
        on_stack.discard(member)
        component.add(member)
        if member == node:
          break
      if len(component) > 1:
        result.add(frozenset(component))

  for node in list(graph):
    if node not in index:
      visit(node)
  return result


def _describe(graph, cycle) -> str:
  return "; ".join(f"{a} -> {b} (in {', '.join(sorted(graph[a][b]))})"
                   for a in sorted(cycle) for b in sorted(graph[a]) if b in cycle)


def test_the_cycle_finder_sees_a_planted_cycle():
  graph = {"a": {"b": {"flan_jax.a.x"}}, "b": {"c": {"flan_jax.b.y"}},
           "c": {"a": {"flan_jax.c.z"}}, "d": {"a": {"flan_jax.d.w"}}}
  assert find_cycles(graph) == {frozenset({"a", "b", "c"})}
  assert find_cycles({"a": {"b": set()}, "b": {}}) == set()


def test_relative_and_lazy_imports_are_seen(tmp_path):
  package = tmp_path / "flan_jax" / "pkg"
  package.mkdir(parents=True)
  (package / "mod.py").write_text(
      "from . import sibling\nfrom ..other import thing\n"
      "def f():\n  from flan_jax.lazy import x\n")
  names = _imported_modules(package / "mod.py", root=tmp_path / "flan_jax")
  assert {"flan_jax.pkg.sibling", "flan_jax.other.thing", "flan_jax.lazy.x"} <= names


def test_no_package_imports_a_package_that_imports_it_back():
  graph = package_graph()
  assert "training" in graph and "runtime" in graph["training"]  # The walk sees imports.
  cycles = find_cycles(graph)
  assert not cycles, "package cycles: " + " | ".join(_describe(graph, c) for c in cycles)


def test_training_and_evaluation_share_runtime_without_importing_each_other_back():
  graph = package_graph()
  assert "training" not in graph["evaluation"]
  assert "training" not in graph["runtime"] and "evaluation" not in graph["runtime"]


def test_only_one_module_knows_the_run_record_file():
  mentions = sorted(str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py")
                    if "run.json" in p.read_text())
  assert mentions == ["runtime/model_dir.py"]


def test_every_package_folder_is_a_package():
  """setup.py's find_packages installs only folders with an __init__.py."""
  missing = sorted(str(d.relative_to(ROOT)) for d in ROOT.rglob("*")
                   if d.is_dir() and any(d.glob("*.py")) and not (d / "__init__.py").exists())
  assert not missing, f"add an __init__.py to {missing}"


def test_readers_sit_above_the_catalog_which_sits_above_data():
  """data (templates, rendering) < catalog (names, specs, preflight) < readers (publishers'
  files): a reader may check preflight, the catalog never imports a reader."""
  graph = package_graph()
  assert "catalog" in graph["readers"] and "data" in graph["catalog"]  # The walk sees them.
  assert "catalog" not in graph["data"] and "readers" not in graph["data"]
  assert "readers" not in graph["catalog"]
