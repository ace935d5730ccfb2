"""A notebook run by nbclient and rendered by nbconvert (no widget manager) still shows status, rows and plan."""
from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

pytestmark = pytest.mark.slow


@pytest.fixture
def kernel_env(engine, monkeypatch, tmp_path):
    monkeypatch.setenv("E6DATA_HOST", "127.0.0.1")
    monkeypatch.setenv("E6DATA_PORT", str(engine.port))
    monkeypatch.setenv("E6DATA_USERNAME", "saved@example.com")
    monkeypatch.setenv("E6DATA_PASSWORD", engine.token)
    monkeypatch.setenv("E6MAGIC_PROFILES", str(tmp_path / "none.toml"))
    return engine


def test_saved_notebook_shows_the_fallbacks(kernel_env, tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in [
        "%load_ext e6magic",
        "%%e6sql\nSELECT i AS n, 'value ' || i AS s FROM range(500) t(i) ORDER BY n",
        "%%e6sql --explain\nSELECT i % 3 AS g, count(*) AS c FROM range(100000) t(i) GROUP BY g",
    ]]
    NotebookClient(nb, timeout=120, kernel_name="python3", cwd=str(tmp_path)).execute()
    page, _ = HTMLExporter().from_notebook_node(nb)
    query_cell = "".join(o.get("data", {}).get("text/html", "") for o in nb.cells[1].outputs)
    assert "· finished ·" in query_cell and "500 rows" in query_cell  # the final status, not "running"
    assert "500 rows × 2 columns" in query_cell and "<td>value 0</td>" in query_cell
    assert "plan: parse" in page and "execution" in page
    assert kernel_env.token not in nbformat.writes(nb)  # nothing secret is saved with the outputs
