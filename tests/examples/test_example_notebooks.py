"""Every notebook in examples/notebooks runs top to bottom in the "Python 3 (e6magic)" kernel, saying what it should.

Each runs as a newcomer's would: nothing configured (the embedded engine starts), the notebook's own folder as the
working directory. Cells tagged `raises-exception` fail on purpose (a cancel, an interrupt); every other cell must
succeed, and the checks below read the outputs a reader would see.
"""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from notebook_outputs import cell_text as _text

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "examples" / "notebooks"


@pytest.fixture(scope="module")
def kernel_home(tmp_path_factory):
    """The repo's kernelspec, started by this test's Python (the 'python' on PATH may be another)."""
    home = tmp_path_factory.mktemp("jupyter")
    spec = json.loads((ROOT / "jupyter-config" / "kernels" / "e6magic" / "kernel.json").read_text())
    spec["argv"][0] = sys.executable
    (home / "kernels" / "e6magic").mkdir(parents=True)
    (home / "kernels" / "e6magic" / "kernel.json").write_text(json.dumps(spec))
    return home


@pytest.fixture
def run(kernel_home, tmp_path, monkeypatch):
    for var in list(os.environ):
        if var.startswith(("E6DATA_", "E6MAGIC_")):
            monkeypatch.delenv(var)
    monkeypatch.setenv("E6MAGIC_PROFILES", str(tmp_path / "no-profiles.toml"))
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_home))

    def execute(name: str) -> list[str]:
        path = NOTEBOOKS / f"{name}.ipynb"
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata.kernelspec.name == "e6magic"
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{name}: stored with outputs"
        NotebookClient(nb, timeout=90, kernel_name="e6magic",
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
        texts = []
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            text = _text(cell)
            errors = [o for o in cell.outputs if o.get("output_type") == "error"]
            if "raises-exception" not in cell.metadata.get("tags", []):
                assert not errors, f"{name}: cell failed:\n{cell.source}\n{text}"
            texts.append(text)
        return texts

    return execute


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_every_notebook_has_a_test():
    tested = {name[len("test_"):] for name in globals() if name.startswith("test_")}
    assert {p.stem for p in NOTEBOOKS.glob("*.ipynb")} <= tested


def test_quickstart(run):
    out = "\n".join(run("quickstart"))
    assert "embedded local engine" in out and "Error" not in out


def test_cancel(run):
    out = run("cancel")
    assert "True cancelled False" in out[2]
    assert "cancelled" in out[3]
    assert "cancelled after" in out[5] and "Traceback" not in out[5] and "big" not in out[6].split()[0]
    assert out[6].startswith("False cancelled")
    assert "cancelled after" in _strip_ansi(out[8]) and "KeyboardInterrupt" not in _strip_ansi(out[8])
    assert "False running on the engine: {}" in out[9]


def test_plans(run):
    out = run("plans")
    assert "HASH_JOIN" in out[1] or "HASH_GROUP_BY" in out[1]
    assert "queue" in out[3]
    assert "total_ms" in out[4] and "rows" in out[4]


def test_schema(run):
    out = run("schema")
    assert "['demo']" in out[2] and "'orders'" in out[2] and "'customers'" in out[2]
    assert "'amount'" in out[3]
    assert "customers" in out[4]
    assert "customers" in out[6] and "demo.main.orders" in out[6] and "quantity" in out[6]
    assert "custom_regions" not in out[6].splitlines()[0] and "custom_regions" in out[9]


def test_parameters(run):
    out = run("parameters")
    assert "True 0" in out[4]
    assert "%(region)s" in out[5] and "North'; DROP TABLE customers; --" in out[5]  # the value apart, unpasted
    assert "category" in out[8]
    assert "42" in out[11] and "memory" in out[11]  # the second engine's (it has no demo catalog)
    assert "nowhere" in out[12] and "scratch" in out[12]
    joined = "\n".join(out)
    assert re.search(r"token = \"[^\"]+\"", joined) is None  # the profile's token is never shown


def test_big_results(run):
    out = run("big_results")
    assert "1000000 False" in out[3]
    assert 10_000 <= int(out[4].split()[0]) < 1_000_000  # the window, or the batches read before the count was known
    assert "['recent.parquet', 'recent_head.csv']" in out[7]
    kind, rows, written = out[10].split()[:3]
    assert kind == "Table" and rows == written and int(rows) >= 4


def test_bluegreen(run):
    out = run("bluegreen")
    assert "e6magic engine listening" in out[0]
    summary = out[4]
    assert " 0 wrong" in summary and "['blue', 'green']" in summary
    assert "True" in out[5]


def test_client(run):
    out = run("client")
    assert "'North')" in out[1] and "customer_id" in out[1]
    assert "DataFrame (1000000," in out[2]
    assert "Table" in out[3] and "status" in out[3]
    assert "DataFrame (" in out[4]
    assert "streamed 1000000 rows" in out[5]
    assert "1000000" in out[6]
    assert "ObjectNotFound" in out[7] or "ProgrammingError" in out[7]
