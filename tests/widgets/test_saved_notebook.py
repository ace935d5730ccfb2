"""A notebook run by nbclient and saved still shows status, rows and plan where no widget manager runs.

What GitHub and VS Code-without-widgets read is each output's text/html; nbconvert's markdown (and
LaTeX/PDF) exporters use it too. nbconvert's HTML exporter always picks the widget view instead (it
draws it only from saved widget state, with a script from a CDN): that one is nbconvert's choice.
"""
from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import MarkdownExporter
from engine_env import connect_through_env

pytestmark = pytest.mark.slow


@pytest.fixture
def kernel_env(engine, monkeypatch, tmp_path):
    connect_through_env(monkeypatch, engine, "saved@example.com")
    monkeypatch.setenv("E6MAGIC_PROFILES", str(tmp_path / "none.toml"))
    return engine


def test_saved_notebook_shows_the_fallbacks(kernel_env, tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in [
        "%load_ext e6magic",
        "%%e6sql\nSELECT i AS n, 'value ' || i AS s FROM range(500) t(i) ORDER BY n",
        "%%e6sql --explain\nSELECT i % 3 AS g, count(*) AS c FROM range(100000) t(i) GROUP BY g",
    ]]
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    saved = [[o.get("data", {}).get("text/html", "") for o in cell.outputs] for cell in nb.cells]
    status_html, grid_html = [h for h in saved[1] if h]
    assert 'data-state="finished"' in status_html  # the final status, not "running"
    assert "500 rows · 2 columns · " in status_html
    assert "500 rows × 2 columns" in grid_html and "<td>value 0</td>" in grid_html
    assert 'class="e6-twin"' in grid_html  # a plain output of its own, not the widget's bundle
    assert any("plan: parse" in h and "execution" in h and "slowest operator" in h for h in saved[2])
    page, _ = MarkdownExporter().from_notebook_node(nb)
    assert "500 rows · 2 columns · " in page and "<td>value 9</td>" in page and "plan: parse" in page
    assert kernel_env.token.reveal() not in nbformat.writes(nb)  # nothing secret is saved with the outputs
