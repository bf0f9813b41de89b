"""The layout of docs/architecture.md, checked: which package may import which, and the size
of functions and calls (a codebase a new engineer reads in an afternoon)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import import_graph  # noqa: E402

# export may import everything below it; the benchmark that and export itself, not quiet.
EXPORT_MAY = {
    "TF",
    "data",
    "nlu",
    "models",
    "layers",
    "modelfile",
    "runtime",
    "train",
    "io",
    "outputs",
    "quiet",
}
BELOW_BENCH = EXPORT_MAY - {"quiet"} | {"export"}

# package -> the tflnlu packages it may import ("TF" = TensorFlow, directly or via tflnlu.tf).
ALLOWED = {
    "io": set(),
    "outputs": set(),
    "quiet": set(),
    "extras": set(),
    "modelfile": set(),
    "data": {"io"},
    "nlu": {"data"},
    "runtime": {"data", "nlu", "modelfile", "quiet"},
    "layers": {"TF", "modelfile"},
    "models": {"TF", "data", "layers", "modelfile"},
    "train": {"TF", "data", "nlu", "models", "io", "outputs", "quiet"},
    "export": EXPORT_MAY,
    "bench": BELOW_BENCH,
    "fit": BELOW_BENCH,
    # the commands: anything but TensorFlow directly (they import it lazily, through train/export)
    "cli": BELOW_BENCH - {"TF"} | {"bench", "fit", "quiet", "extras"},
    "tf": {"extras", "quiet"},
}
DEPLOY_MODULES = (
    "tflnlu.runtime",
    "tflnlu.cli.predict",
    "tflnlu.cli.eval",
    "tflnlu.cli.size",
    "tflnlu.cli.launch",
)
MAX_FUNCTION_LINES = 60
MAX_POSITIONAL_ARGUMENTS = 4
# Foreign functions (ctypes, struct): their arity is the C API's, not ours.
FOREIGN_CALLS = re.compile(r"^(self\.)?lib\.|^C\.|^struct\.|^load_kernel\(\)\.|^LookupShape$")
SOURCES = sorted((Path(__file__).resolve().parents[1] / "tflnlu").rglob("*.py"))


def test_packages_import_only_what_the_layout_allows():
    graph = import_graph.package_graph()
    assert set(graph) <= set(ALLOWED), f"a package the layout does not know: {set(graph) - set(ALLOWED)}"
    wrong = {
        name: sorted(imports - ALLOWED[name]) for name, imports in graph.items() if imports - ALLOWED[name]
    }
    assert not wrong, wrong


def test_the_deploy_side_imports_no_tensorflow_even_transitively():
    graph = import_graph.module_graph()

    def reach(module: str, seen: set[str]) -> set[str]:
        for imported in graph.get(module, ()):
            target = imported if imported in graph else imported.rpartition(".")[0]
            if target in graph and target not in seen:
                seen.add(target)
                reach(target, seen)
        return seen

    for module in DEPLOY_MODULES:
        reached = reach(module, {module})
        tf = sorted(m for m in reached for i in graph[m] if import_graph.package_of(i) == "TF")
        assert not tf, f"{module} reaches TensorFlow through {tf}"


def _functions(tree: ast.AST):
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_functions_are_short_and_calls_take_few_positional_arguments(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [
        f"{f.name} ({f.end_lineno - f.lineno + 1} lines)"
        for f in _functions(tree)
        if f.end_lineno - f.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, long
    crowded = [
        f"line {call.lineno}: {ast.unparse(call.func)} with {len(call.args)}"
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        and len([a for a in call.args if not isinstance(a, ast.Starred)]) > MAX_POSITIONAL_ARGUMENTS
        and not FOREIGN_CALLS.match(ast.unparse(call.func))
    ]
    assert not crowded, crowded
