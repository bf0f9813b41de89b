"""Print which tflnlu packages each tflnlu package imports (static: read from the source).

    python tools/import_graph.py            # package -> packages it imports
    python tools/import_graph.py --modules  # the same per module

A top-level module (tflnlu/io.py) counts as a package of its own; `tensorflow` (and tf_keras,
tensorflow_model_optimization) appears as `TF`, imported directly or through `tflnlu.tf`.
Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "tflnlu"
TF_MODULES = ("tensorflow", "tf_keras", "tensorflow_model_optimization")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Absolute names of everything `path` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def package_of(module: str) -> str | None:
    """`tflnlu.modelfile.metadata` -> `export`; TensorFlow -> `TF`; other libraries -> None."""
    if module.split(".")[0] in TF_MODULES or module == "tflnlu.tf" or module.startswith("tflnlu.tf."):
        return "TF"
    parts = module.split(".")
    if parts[0] != "tflnlu" or len(parts) < 2:
        return None
    candidate = ROOT / parts[1]
    return parts[1] if candidate.is_dir() or candidate.with_suffix(".py").is_file() else None


def module_graph() -> dict[str, set[str]]:
    graph = {}
    for path in sorted(ROOT.rglob("*.py")):
        graph[module_name(path)] = {m for m in imported_modules(path) if package_of(m)}
    return graph


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, imports in module_graph().items():
        own = package_of(module) if module != "tflnlu" else None
        if own is None or own == "TF":
            continue
        graph[own] |= {p for p in map(package_of, imports) if p and p != own}
    return dict(sorted(graph.items()))


def main(argv: list[str]) -> int:
    graph = module_graph() if "--modules" in argv else package_graph()
    for name, imports in graph.items():
        shown = sorted({package_of(m) or m for m in imports} if "--modules" in argv else imports)
        print(f"{name:<28} -> {', '.join(shown) or '(nothing)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
