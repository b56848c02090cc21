"""The package's shape (issue #10): small modules, no import cycle, the data model imports no
algorithm (SH1-SH4).

The import graph is read from the source (every ``import`` / ``from ... import`` statement,
also those inside functions and ``TYPE_CHECKING`` blocks); an edge goes to the most specific
package module a statement names (``from attribution_viewer.app import steering`` ->
``attribution_viewer.app.steering``), not to the parent packages Python initialises on the way.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "attribution_viewer"
MAX_LINES = 400
# Not imported in SH4: running them has effects (the CLI runs; a WSGI app is built from the
# environment). Their imports are still walked by SH2.
SIDE_EFFECT_MODULES = {"attribution_viewer.__main__", "attribution_viewer.wsgi"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``path`` (module ``name``) imports anywhere in its text."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            # The longest known module the name starts with (a submodule, else its package).
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = package_modules()
    known = set(modules)
    return {name: imported_modules(name, path, known) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as ``[a, b, ..., a]``, or ``[]`` (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in sorted(graph):
        if start in state:
            continue
        path = [start]
        stack = [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return []


def test_sh1_no_package_module_over_400_lines() -> None:
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in package_modules().items()
    }
    assert len(sizes) > 100  # the walk sees the package
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_sh2_the_import_graph_has_no_cycle() -> None:
    graph = import_graph()
    # The walk reads real edges, and its cycle search finds a cycle where there is one.
    assert "attribution_viewer.kinds" in graph["attribution_viewer.pruning"]
    assert "attribution_viewer.app.steering_requests" in graph["attribution_viewer.app.steering"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle(graph) == []


def test_sh3_the_data_model_imports_no_algorithm() -> None:
    graph = import_graph()
    assert graph["attribution_viewer.model"] <= {"attribution_viewer.kinds"}
    assert graph["attribution_viewer.kinds"] == set()
    assert "attribution_viewer.model" not in graph["attribution_viewer.pruning"]


def test_sh4_every_module_imports_on_its_own() -> None:
    """Each module imported first, in one child process with the package's modules dropped from
    ``sys.modules`` before each (an import-order dependency or a cycle fails here)."""
    names = sorted(set(package_modules()) - SIDE_EFFECT_MODULES)
    script = (
        "import importlib, sys\n"
        "failed = []\n"
        f"for name in {names!r}:\n"
        "    for loaded in [m for m in sys.modules if m.split('.')[0] == 'attribution_viewer']:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {type(exc).__name__}: {exc}')\n"
        "print('\\n'.join(failed))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == ""
