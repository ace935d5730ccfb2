"""ruff and mypy --strict (configured in pyproject.toml) find nothing in the package: CI keeps every module so.

Until this round the tree was held to it module by module (a CLEAN list that only grew, so several people could
clean up at once without a tree-wide reformat colliding with all of them); every module got there, so the list
is gone and a new module is held from its first commit. `python tests/test_lint.py` prints what either tool finds.
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


@pytest.fixture(scope="module")
def ruff() -> dict[str, list[str]]:
    return ruff_findings()


@pytest.fixture(scope="module")
def mypy() -> dict[str, list[str]]:
    return mypy_findings()


def test_the_tools_judge_the_whole_package() -> None:
    assert len(modules()) > 80 and "e6magic/magic/session.py" in modules()  # generated stubs aside, every module


def test_no_module_has_a_ruff_finding(ruff: dict[str, list[str]]) -> None:
    found = [line for path in modules() for line in ruff.get(path, [])]
    assert found == [], "ruff findings:\n" + "\n".join(found)


def test_no_module_has_a_mypy_strict_finding(mypy: dict[str, list[str]]) -> None:
    found = [line for path in modules() for line in mypy.get(path, [])]
    assert found == [], "mypy --strict findings:\n" + "\n".join(found)


def test_a_planted_finding_is_seen(tmp_path: pathlib.Path) -> None:
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
    for tool, found in (("ruff", ruff_findings()), ("mypy --strict", mypy_findings())):
        print(f"{tool}: {sum(map(len, found.values()))} findings", *(x for lines in found.values() for x in lines),
              sep="\n")
