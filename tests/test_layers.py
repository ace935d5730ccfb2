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
