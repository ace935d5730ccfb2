"""Every code block in README.md runs as written: Python and %%e6sql cells in a fresh IPython, TOML profiles parsed.

Blocks of one section run in order in one shell (a notebook's cells). A block that cannot run here (a cluster, a
server that runs until Ctrl-C) carries `<!-- not run: why -->` on the line before it and is reported as skipped
with that reason; any other block that is not Python or TOML fails the test until it is marked.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from e6magic.magic.connections import load_profiles, resolve

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.DOTALL | re.MULTILINE)
NOT_RUN = re.compile(r"<!-- not run: (.+?) -->\s*$")

# Runs the cells of one section in a plain IPython shell, stopping at the first that fails.
SHELL = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
for n, cell in enumerate(json.loads(sys.stdin.read())):
    if not shell.run_cell(cell).success:
        print(f"README block {n} failed", file=sys.stderr)
        sys.exit(1)
"""


@dataclass(frozen=True)
class Block:
    section: str
    lang: str
    code: str
    not_run: str | None
    line: int


def readme_blocks(text: str) -> list[Block]:
    blocks = []
    for match in FENCE.finditer(text):
        before = text[:match.start()]
        heading = re.findall(r"^## (.+)$", before, re.MULTILINE)
        previous = before.rstrip("\n").rsplit("\n", 1)[-1]
        reason = NOT_RUN.search(previous)
        blocks.append(Block(section=heading[-1] if heading else "top", lang=match.group(1), code=match.group(2),
                            not_run=reason.group(1) if reason else None, line=before.count("\n") + 1))
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))
SECTIONS = sorted({b.section for b in BLOCKS if b.lang == "python" and not b.not_run},
                  key=lambda s: min(b.line for b in BLOCKS if b.section == s))


def _newcomer_env(tmp_path: Path) -> dict[str, str]:
    """A machine with nothing configured: no E6DATA_* variables, no profiles, a fresh home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("E6DATA_", "E6MAGIC_", "PYTHONPATH"))}
    env.update(E6MAGIC_PROFILES=str(tmp_path / "none.toml"), HOME=str(tmp_path), IPYTHONDIR=str(tmp_path / "ipy"))
    return env


def test_the_readme_has_the_blocks_this_test_knows():
    assert {"In a notebook", "The client on its own"} <= set(SECTIONS)
    assert any(b.lang == "toml" for b in BLOCKS)
    for block in BLOCKS:
        runnable = block.lang in ("python", "toml") or block.not_run
        assert runnable, f"README line {block.line}: a ```{block.lang} block needs <!-- not run: why --> before it"
        assert block.not_run is None or block.not_run.strip(), f"README line {block.line}: say why it is not run"


@pytest.mark.slow
@pytest.mark.parametrize("section", SECTIONS)
def test_python_blocks_run_as_written(section, tmp_path):
    cells = [b.code for b in BLOCKS if b.section == section and b.lang == "python" and not b.not_run]
    done = subprocess.run([sys.executable, "-c", SHELL], check=False, input=json.dumps(cells), cwd=tmp_path,
                          env=_newcomer_env(tmp_path), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Error" not in done.stdout, done.stdout[-3000:]


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.lang == "toml"], ids=lambda b: f"line{b.line}")
def test_profile_blocks_are_valid_profiles(block, tmp_path):
    path = tmp_path / "connections.toml"
    path.write_text(block.code, encoding="utf-8")
    profiles = load_profiles(path)
    assert "default" in profiles
    for alias in profiles:
        endpoint = resolve(None, alias, profiles=path, environ={})
        assert endpoint is not None and endpoint.host and endpoint.port == 443 and endpoint.secure


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.not_run], ids=lambda b: f"line{b.line}-{b.lang}")
def test_blocks_not_run_say_why(block):
    pytest.skip(f"README line {block.line} ({block.section}): not run: {block.not_run}")
