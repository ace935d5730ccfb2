"""ruff and mypy --strict (configured in pyproject.toml) keep the listed modules clean; the list only grows.

The whole tree is not held to it yet: several people edit the rest at once, and a tree-wide reformat would
collide with all of them. Make a module clean, add it to CLEAN, and CI keeps it so. `python tests/test_lint.py`
prints what is left, per file.
"""
from __future__ import annotations

import collections
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "e6magic"

# Files (from the repo root) with no ruff and no mypy --strict finding. Keep it sorted; never take one off.
CLEAN = (
    "e6magic/__init__.py",
    "e6magic/_proto/__init__.py",
    "e6magic/_proto/regenerate.py",
    "e6magic/client/__init__.py",
    "e6magic/client/arrow_stream.py",
    "e6magic/client/batch_response.py",
    "e6magic/client/catalog.py",
    "e6magic/client/connection.py",
    "e6magic/client/cursor.py",
    "e6magic/client/dbapi.py",
    "e6magic/client/frame.py",
    "e6magic/client/oauth.py",
    "e6magic/client/params.py",
    "e6magic/client/query.py",
    "e6magic/client/retry.py",
    "e6magic/client/secret.py",
    "e6magic/client/session.py",
    "e6magic/client/sqltypes.py",
    "e6magic/client/strategy.py",
    "e6magic/client/transport.py",
    "e6magic/engine/__init__.py",
    "e6magic/engine/allocator.py",
    "e6magic/engine/catalog.py",
    "e6magic/engine/cli.py",
    "e6magic/engine/cluster.py",
    "e6magic/engine/errors.py",
    "e6magic/engine/functions.py",
    "e6magic/engine/literals.py",
    "e6magic/engine/plan.py",
    "e6magic/engine/queries.py",
    "e6magic/engine/server.py",
    "e6magic/engine/service.py",
    "e6magic/engine/sessions.py",
    "e6magic/engine/sqltext.py",
    "e6magic/magic/__init__.py",
    "e6magic/magic/command.py",
    "e6magic/magic/completer.py",
    "e6magic/magic/connections.py",
    "e6magic/magic/display.py",
    "e6magic/magic/errors.py",
    "e6magic/magic/last.py",
    "e6magic/magic/magics.py",
    "e6magic/magic/options.py",
    "e6magic/magic/params.py",
    "e6magic/magic/runner.py",
    "e6magic/magic/session.py",
    "e6magic/magic/sqltext.py",
    "e6magic/magic/statement.py",
    "e6magic/magic/summary.py",
    "e6magic/magic/transform.py",
    "e6magic/secret.py",
    "e6magic/sqlalchemy/__init__.py",
    "e6magic/sqlalchemy/arrow.py",
    "e6magic/sqlalchemy/compiler.py",
    "e6magic/sqlalchemy/dialect.py",
    "e6magic/sqlalchemy/types.py",
    "e6magic/states.py",
    "e6magic/widgets/__init__.py",
    "e6magic/widgets/_base.py",
    "e6magic/widgets/_cells.py",
    "e6magic/widgets/_chart.py",
    "e6magic/widgets/_explore.py",
    "e6magic/widgets/_export.py",
    "e6magic/widgets/_filter.py",
    "e6magic/widgets/_grid.py",
    "e6magic/widgets/_pages.py",
    "e6magic/widgets/_plan.py",
    "e6magic/widgets/_plan_shape.py",
    "e6magic/widgets/_profile.py",
    "e6magic/widgets/_schema.py",
    "e6magic/widgets/_status.py",
    "e6magic/wire/__init__.py",
    "e6magic/wire/decode.py",
    "e6magic/wire/encode.py",
    "e6magic/wire/errors.py",
    "e6magic/wire/metadata.py",
    "e6magic/wire/text.py",
    "e6magic/wire/thrift_binary.py",
    "e6magic/wire/types.py",
    "e6magic/wire/vector_schema.py",
)

# grpcio-tools writes these (python -m e6magic._proto.regenerate); pyproject.toml exempts them from both tools
GENERATED = re.compile(r"_pb2(_grpc)?\.pyi?$")

# `path:line[:col]: ...`, the start of every finding both tools print
_FINDING = re.compile(r"^(e6magic/[^:]+\.pyi?):\d+:")


def _findings(command: list[str]) -> dict[str, list[str]]:
    """The tool's findings, by file, over the whole package (the tool's own failures fail the test)."""
    done = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=240)
    by_file: dict[str, list[str]] = collections.defaultdict(list)
    for line in done.stdout.splitlines():
        match = _FINDING.match(line)
        if match:
            by_file[match.group(1)].append(line)
    if done.returncode not in (0, 1) or (done.returncode == 1 and not by_file):
        raise RuntimeError(f"{command[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return dict(by_file)


def ruff_findings() -> dict[str, list[str]]:
    return _findings(["ruff", "check", "--no-fix", "--output-format", "concise", "e6magic"])


def mypy_findings() -> dict[str, list[str]]:
    # notes (`: note:`) explain an error on the line before; only errors count
    found = _findings(["mypy", "--no-error-summary", "--no-pretty", "--show-error-codes"])
    return {path: errors for path, lines in found.items() if (errors := [x for x in lines if ": error:" in x])}


def modules() -> list[str]:
    """Every module of the package that the tools judge (generated stubs left out)."""
    return sorted(
        path.relative_to(ROOT).as_posix() for path in PACKAGE.rglob("*.py") if not GENERATED.search(path.name)
    )


def remaining(ruff: dict[str, list[str]], mypy: dict[str, list[str]]) -> str:
    """The modules not on CLEAN, each with its count of findings (those with none can go on CLEAN now)."""
    rows = []
    for path in modules():
        if path not in CLEAN:
            r, m = len(ruff.get(path, [])), len(mypy.get(path, []))
            rows.append(f"  {path}: ruff {r}, mypy {m}" + ("  <- clean: add it to CLEAN" if r + m == 0 else ""))
    return "not on CLEAN yet:\n" + "\n".join(rows)


@pytest.fixture(scope="module")
def ruff() -> dict[str, list[str]]:
    return ruff_findings()


@pytest.fixture(scope="module")
def mypy() -> dict[str, list[str]]:
    return mypy_findings()


def test_the_list_names_real_modules_in_order() -> None:
    assert [path for path in CLEAN if path not in modules()] == []
    assert list(CLEAN) == sorted(set(CLEAN)), "keep CLEAN sorted and without repeats (easy merges)"


def test_listed_modules_have_no_ruff_finding(ruff: dict[str, list[str]]) -> None:
    found = [line for path in CLEAN for line in ruff.get(path, [])]
    assert found == [], "ruff findings in modules CI keeps clean:\n" + "\n".join(found)


def test_listed_modules_have_no_mypy_strict_finding(ruff: dict[str, list[str]], mypy: dict[str, list[str]]) -> None:
    print(remaining(ruff, mypy))
    found = [line for path in CLEAN for line in mypy.get(path, [])]
    assert found == [], "mypy --strict findings in modules CI keeps clean:\n" + "\n".join(found)


def test_a_finding_in_a_listed_module_is_seen(tmp_path: pathlib.Path) -> None:
    """The parsing above must not read a real finding as none: each tool, on a file with one planted."""
    bad = tmp_path / "e6magic" / "bad.py"
    bad.parent.mkdir()
    bad.write_text("import os\n\ndef f(x):\n    return x\n", encoding="utf-8")
    ruff = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-fix", "--output-format", "concise",
                           "--config", str(ROOT / "pyproject.toml"), "e6magic/bad.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert _FINDING.match(ruff.stdout) and " F401 " in ruff.stdout, ruff.stdout + ruff.stderr
    mypy = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "e6magic/bad.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert _FINDING.match(mypy.stdout) and "[no-untyped-def]" in mypy.stdout, mypy.stdout + mypy.stderr


if __name__ == "__main__":
    print(remaining(ruff_findings(), mypy_findings()))
