"""The widgets in a real Notebook 7 (and JupyterLab) in headless Chromium, loading nothing from off the machine.

One ``jupyter notebook`` server for the module; it serves Notebook 7 under /notebooks and JupyterLab
under /lab, so both UIs are checked without a second server. Its kernels reach the session's engine
through E6DATA_* variables set on the server, as in test_browser.py.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from lab import Lab, cancel_running_cell, notebook7_for
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Screenshots refresh docs/img only when asked (E6MAGIC_SCREENSHOTS=1), so a test run leaves the tree clean.
IMG = (Path(__file__).resolve().parents[2] / "docs" / "img" if os.environ.get("E6MAGIC_SCREENSHOTS") == "1"
       else Path(tempfile.gettempdir()) / "e6magic-screenshots")
# the query test_browser.py cancels: ~50 s on the local engine, so it is surely still running when clicked
LONG_SQL = "SELECT count(*) FROM range(10000000000) t(i) WHERE i % 7 = 3"
GRID_SQL = "SELECT i AS id, 'row ' || i AS label FROM range(100) t(i)"
SETUP = "%load_ext e6magic\n%config E6Magic.display_limit = 20"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(scope="module")
def server(engine, tmp_path_factory) -> Iterator[Lab]:
    with notebook7_for(engine, tmp_path_factory.mktemp("profiles"), "browser@example.com") as started:
        yield started


def off_machine(urls: list[str]) -> list[str]:
    """The URLs that would leave the machine (blob: and data: never touch the network)."""
    return [u for u in urls if urlsplit(u).scheme not in ("blob", "data") and urlsplit(u).hostname not in LOOPBACK]


def open_and_setup(server: Lab, name: str, cells: list[str], ui: str = "notebook"):
    page = server.open_notebook(name, [SETUP, *cells], ui=ui)
    Lab.run_cell(page, 0)
    Lab.wait_cell_done(page, 0)
    return page


def rows(page, n: int) -> list[list[str]]:
    body = page.locator(".e6-grid tbody tr")
    return [body.nth(i).locator("td").all_inner_texts() for i in range(n)]


def test_query_renders_status_and_a_grid_that_pages(server):
    first_request = len(server.requests)
    page = open_and_setup(server, "grid.ipynb", [f"%%e6sql\n{GRID_SQL}"])
    Lab.run_cell(page, 1)
    expect(page.locator(".e6-status")).to_have_attribute("data-state", "finished", timeout=30000)
    expect(page.locator(".e6-status")).to_contain_text("100 rows · 2 columns")
    info = page.locator(".e6-grid-info")
    expect(info).to_contain_text("rows 1–20 of 100 rows · 2 columns", timeout=30000)
    assert rows(page, 3) == [["1", "0", "row 0"], ["2", "1", "row 1"], ["3", "2", "row 2"]]
    assert page.locator(".e6-grid tbody tr").count() == 20

    page.locator(".e6-page-next").click()  # a round trip to the kernel for the next page
    expect(info).to_contain_text("rows 21–40 of 100 rows")
    expect(page.locator(".e6-page-input")).to_have_value("2")
    assert rows(page, 2) == [["21", "20", "row 20"], ["22", "21", "row 21"]]
    IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG / "notebook7-grid.png"))
    requests = server.requests[first_request:]
    assert any("/notebooks/grid.ipynb" in u for u in requests)  # Notebook 7's page, not JupyterLab's
    assert off_machine(requests) == []


def test_cancel_button_cancels_the_running_query_on_the_engine(server, engine):
    first_request = len(server.requests)
    page = open_and_setup(server, "cancel.ipynb", [f"%%e6sql\n{LONG_SQL}"])
    cancel_running_cell(page, engine, 1)
    expect(page.locator(".e6-cancel")).to_have_count(0)
    assert "cancelled after" in Lab.cell_text(page, 1)
    assert off_machine(server.requests[first_request:]) == []


def test_jupyterlab_loads_nothing_from_off_the_machine(server):
    first_request = len(server.requests)
    page = open_and_setup(server, "lab.ipynb", [f"%%e6sql\n{GRID_SQL}"], ui="lab")
    Lab.run_cell(page, 1)
    expect(page.locator(".e6-grid-info")).to_contain_text("rows 1–20 of 100 rows", timeout=30000)
    requests = server.requests[first_request:]
    assert any("/lab/" in u for u in requests)  # it was the JupyterLab page, not Notebook 7's
    assert off_machine(requests) == []
