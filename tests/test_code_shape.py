"""The shape of e6magic's code, measured: no function over 40 lines (but today's few), one `one_line`."""
from __future__ import annotations

import ast
import pathlib
from collections.abc import Iterator

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "e6magic"
MAX_LINES = 40

# Today's offenders (name: body lines when listed). Shrink this list, never grow it: split a long function
# into named steps instead. An entry no longer over the limit must go, so the list stays true.
TOO_LONG_TODAY = {
}


def body_lines(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the first statement after the docstring to the function's last line (nested ones included)."""
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return fn.end_lineno - body[0].lineno + 1 if body else 0


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield f"{prefix}{node.name}", node
            yield from _functions(node, f"{prefix}{node.name}.<locals>.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")
        else:
            yield from _functions(node, prefix)


def functions(root: pathlib.Path = PACKAGE) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function and method in the package as `module:Qual.name`, generated protobuf stubs left out."""
    for path in sorted(root.rglob("*.py")):
        if path.name.endswith(("_pb2.py", "_pb2_grpc.py")):
            continue
        module = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        for name, fn in _functions(ast.parse(path.read_text(encoding="utf-8"))):
            yield f"{module}:{name}", fn


def test_no_function_is_over_40_lines_but_the_listed_ones():
    long = {name: body_lines(fn) for name, fn in functions() if body_lines(fn) > MAX_LINES}
    new = {name: n for name, n in long.items() if name not in TOO_LONG_TODAY}
    assert new == {}, f"over {MAX_LINES} lines: split them into named steps"
    fixed = sorted(set(TOO_LONG_TODAY) - set(long))
    assert fixed == [], "no longer over the limit: take them off TOO_LONG_TODAY"


def test_the_measure_counts_body_lines_without_the_docstring(tmp_path):
    package = tmp_path / "e6magic"
    package.mkdir()
    body = "".join(f"        x{i} = {i}\n" for i in range(MAX_LINES + 1))
    (package / "m.py").write_text('def short():\n    """Doc."""\n    return 1\n\n\nclass C:\n'
                                  '    def long(self):\n        """Doc\n        on two lines."""\n' + body)
    measured = {name: body_lines(fn) for name, fn in functions(package)}
    assert measured == {"e6magic.m:short": 1, "e6magic.m:C.long": MAX_LINES + 1}


def test_one_line_is_defined_once():
    names = [name for name, _ in functions() if name.split(":")[1].split(".")[-1].lstrip("_") == "one_line"]
    assert names == ["e6magic.widgets._base:one_line"]
