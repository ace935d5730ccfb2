"""Imports inside e6magic only flow one way: engine > wire > client > magic > widgets (and client > sqlalchemy)."""
from __future__ import annotations

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "e6magic"

# layer -> the e6magic layers it may import (besides itself)
ALLOWED = {
    "_proto": set(),
    "wire": set(),
    "engine": {"wire", "_proto"},
    "client": {"wire", "_proto"},
    "widgets": {"client"},
    "magic": {"client", "widgets", "engine"},  # engine: only to start the embedded local default
    "sqlalchemy": {"client"},  # the dialect sits on the DB-API client, beside magic
}


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "e6magic" and parts[1] in ALLOWED else None


def _imports(path: pathlib.Path, package: str):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing module's package
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
                yield target
                yield from (f"{target}.{alias.name}" for alias in node.names if not node.module)
            elif node.module:
                yield node.module


def _backward_edges():
    for path in sorted(PACKAGE.rglob("*.py")):
        package = ".".join(path.relative_to(PACKAGE.parent).parent.parts)
        layer = _layer_of(package)
        if layer is None:
            continue
        for target in _imports(path, package):
            other = _layer_of(target)
            if other and other != layer and other not in ALLOWED[layer]:
                yield f"{package} imports {target} ({layer} -> {other})"


def test_no_layer_imports_against_the_flow():
    assert list(_backward_edges()) == []


def test_the_checker_sees_a_backward_edge(tmp_path, monkeypatch):
    fake = tmp_path / "e6magic"
    (fake / "wire").mkdir(parents=True)
    (fake / "wire" / "__init__.py").write_text("from e6magic.client import connect\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    assert list(_backward_edges()) == ["e6magic.wire imports e6magic.client (wire -> client)"]


def _client_graph(package: pathlib.Path) -> dict[str, set[str]]:
    """Each client module -> the client modules it imports, anywhere in it (TYPE_CHECKING and function-level
    imports count: a cycle hidden there still ties the modules together)."""
    client = package / "client"
    names = {path.stem for path in client.glob("*.py") if path.stem != "__init__"}
    graph = {}
    for name in sorted(names):
        targets = set()
        for node in ast.walk(ast.parse((client / f"{name}.py").read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "e6magic.client":
                targets |= {alias.name for alias in node.names}  # from e6magic.client import cursor
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("e6magic.client."):
                targets.add(node.module.split(".")[2])
            elif isinstance(node, ast.Import):
                targets |= {a.name.split(".")[2] for a in node.names if a.name.startswith("e6magic.client.")}
        graph[name] = (targets & names) - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, done = [], set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            found.append([*path[path.index(node):], node])
            return
        if node in done:
            return
        for target in sorted(graph.get(node, ())):
            visit(target, [*path, node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])
    return found


def test_the_client_modules_import_one_another_without_a_cycle():
    # connection -> cursor -> query -> session: the handle gets a session, never the connection
    assert _cycles(_client_graph(PACKAGE)) == []


def test_the_cycle_check_sees_one(tmp_path):
    client = tmp_path / "e6magic" / "client"
    client.mkdir(parents=True)
    (client / "a.py").write_text("from e6magic.client.b import x\n")
    (client / "b.py").write_text("from typing import TYPE_CHECKING\n"
                                 "if TYPE_CHECKING:\n    from e6magic.client import a\n")
    assert _cycles(_client_graph(tmp_path / "e6magic")) == [["a", "b", "a"]]
