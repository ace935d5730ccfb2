"""The widgets in a real JupyterLab in headless Chromium, through %%e6sql on the real local engine.

One JupyterLab per module; its kernels reach the session's engine through E6DATA_* variables set on
the server (so no token is written into a notebook or a screenshot).
"""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import expect

from lab import Lab, cancel_running_cell, kernel_env, running_lab, wait_cancelled_on_engine

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Screenshots refresh docs/img only when asked (E6MAGIC_SCREENSHOTS=1), so a test run leaves the tree clean.
IMG = (Path(__file__).resolve().parents[2] / "docs" / "img" if os.environ.get("E6MAGIC_SCREENSHOTS") == "1"
       else Path(tempfile.gettempdir()) / "e6magic-screenshots")
# 52.8 s through the local engine on this machine (measured once); the tests cancel it within seconds
LONG_SQL = "SELECT count(*) FROM range(10000000000) t(i) WHERE i % 7 = 3"
GRID_SQL = ("SELECT i AS id, CASE WHEN i % 1000 = 0 THEN NULL ELSE (i * 7919) % 100003 END AS k, "
            "'row ' || i AS label FROM range(1000000) t(i)")
SETUP = "%load_ext e6magic"


@pytest.fixture(scope="module")
def lab(engine, tmp_path_factory) -> Iterator[Lab]:
    env = kernel_env(engine, tmp_path_factory.mktemp("profiles"), "browser@example.com")
    with running_lab(env) as started:
        yield started
    # a widget module that failed to load or render shows up here, not just as a missing element
    assert not [e for e in started.errors() if "e6" in e.lower() or "anywidget" in e.lower()], started.errors()


def shot(page, name: str, locator) -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    locator.scroll_into_view_if_needed()
    page.screenshot(path=str(IMG / name))


def run_setup(page) -> None:
    Lab.run_cell(page, 0)
    Lab.wait_cell_done(page, 0)


def grid_row(page, which: str) -> list[str]:
    return page.locator(f".e6-grid tbody tr:{which} td").all_inner_texts()


def test_cancel_button_cancels_the_running_query_on_the_engine(lab, engine):
    page = lab.open_notebook("cancel.ipynb", [SETUP, f"%%e6sql\n{LONG_SQL}", "print('after')"])
    run_setup(page)
    _, shown_after = cancel_running_cell(page, engine, 1)
    text = Lab.cell_text(page, 1)
    assert "cancelled after" in text and "Traceback" not in text and "KeyboardInterrupt" not in text
    expect(page.locator(".e6-cancel")).to_have_count(0)  # the live line, Cancel and all, became its final line
    shot(page, "status.png", Lab.cell(page, 1))
    print(f"click -> 'cancelled' shown in {shown_after:.2f} s")


def test_the_kernels_stop_button_ends_the_cell_with_the_one_cancel_line(lab, engine):
    page = lab.open_notebook("stop.ipynb", [SETUP, f"%%e6sql\n{LONG_SQL}"])
    run_setup(page)
    Lab.run_cell(page, 1)
    status = page.locator(".e6-status")
    expect(status).to_contain_text("running", timeout=30000)
    qid = status.get_attribute("data-query-id")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:interrupt-kernel')")
    Lab.wait_cell_done(page, 1, timeout=30)
    expect(status).to_have_attribute("data-state", "cancelled")
    lines = [line for line in Lab.cell_text(page, 1).splitlines() if line.strip() and "connected to" not in line]
    assert len(lines) == 1 and re.fullmatch(r"cancelled after [\d.]+ m?s · query \S+ copy id", lines[0]), lines
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    wait_cancelled_on_engine(engine, qid)
    shot(page, "stop-button.png", Lab.cell(page, 1))


def test_an_error_shows_once_with_its_caret_line(lab):
    page = lab.open_notebook("error.ipynb", [SETUP, "%%e6sql\nSELECT 1 FROM range(3) WHERE select"])
    page.set_viewport_size({"width": 800, "height": 800})
    run_setup(page)
    Lab.run_cell(page, 1)
    Lab.wait_cell_done(page, 1)
    text = Lab.cell_text(page, 1)
    assert text.count('syntax error at or near "select"') == 1 and text.count("query id") == 1
    where = next(line for line in text.splitlines() if line.startswith("LINE 1:"))
    caret = text.splitlines()[text.splitlines().index(where) + 1]
    assert caret.strip() == "^^^^^^" and caret.index("^") == where.index("select")  # still under the word
    assert "hint" not in text and page.locator(".e6-status").count() == 0  # no red status line repeating it
    shot(page, "error.png", Lab.cell(page, 1))


BLOCKING_CELL = f"""import os, e6magic
from IPython.display import display
from e6magic.widgets import QueryStatus
conn = e6magic.connect(host=os.environ['E6DATA_HOST'], port=int(os.environ['E6DATA_PORT']),
                       username=os.environ['E6DATA_USERNAME'], password=os.environ['E6DATA_PASSWORD'])
q = conn.cursor().submit({LONG_SQL!r})
display(QueryStatus(q))
q.wait(8)  # a plain blocking cell: ipykernel 7.4 holds widget messages until it ends"""


def test_a_click_the_busy_kernel_cannot_take_is_admitted_then_honoured(lab, engine):
    page = lab.open_notebook("blocking.ipynb", [BLOCKING_CELL])
    Lab.run_cell(page, 0)
    status = page.locator(".e6-status")
    expect(status).to_contain_text("running", timeout=30000)
    qid = status.get_attribute("data-query-id")
    page.locator(".e6-cancel").click()
    expect(status).to_contain_text("cancelling")
    hint = page.locator(".e6-hint")
    expect(hint).to_contain_text("The kernel has not received the click", timeout=4000)
    expect(hint).to_contain_text("Kernel > Interrupt")
    shot(page, "status-busy-hint.png", Lab.cell(page, 0))
    assert engine.query_state(qid) == "running"
    expect(status).to_contain_text("cancelled", timeout=20000)  # delivered once the cell ends
    wait_cancelled_on_engine(engine, qid)
    expect(hint).to_be_hidden()


def test_grid_pages_to_the_end_and_sorts_the_whole_result(lab):
    page = lab.open_notebook("grid.ipynb", [SETUP + "\n%config E6Magic.display_limit = 20", f"%%e6sql\n{GRID_SQL}"])
    run_setup(page)
    Lab.run_cell(page, 1)
    grid = page.locator(".e6-grid")
    grid.wait_for(state="visible", timeout=120000)
    expect(page.locator(".e6-grid-info")).to_contain_text("of 1,000,000 rows · 3 columns", timeout=60000)
    assert grid_row(page, "first-child")[:2] == ["1", "0"]

    page.locator(".e6-page-last").click()
    expect(page.locator(".e6-grid-info")).to_contain_text("rows 999,981–1,000,000 of")
    assert grid_row(page, "last-child")[:3] == ["1,000,000", "999,999", f"{999999 * 7919 % 100003:,}"]
    assert page.locator(".e6-grid tbody tr").count() == 20  # the page holds one page, not the result

    ordered = duckdb.sql(f"SELECT id, k FROM ({GRID_SQL}) ORDER BY k ASC NULLS LAST, id").fetchall()
    first_desc = duckdb.sql(f"SELECT id, k FROM ({GRID_SQL}) ORDER BY k DESC NULLS LAST, id LIMIT 1").fetchall()[0]

    page.locator(".e6-grid th[data-column='k']").click()
    page.locator(".e6-grid th.e6-sorted-asc[data-column='k']").wait_for()
    expect(page.locator(".e6-page-input")).to_have_value("1")
    assert grid_row(page, "first-child")[1:3] == [f"{ordered[0][0]:,}", f"{ordered[0][1]:,}"]
    page.locator(".e6-page-last").click()
    expect(page.locator(".e6-grid-info")).to_contain_text("rows 999,981–1,000,000 of")
    assert ordered[-1][1] is None
    assert grid_row(page, "last-child")[1:3] == [f"{ordered[-1][0]:,}", "NULL"]  # nulls last over all 1M rows
    assert grid_row(page, "first-child")[1] == f"{ordered[-20][0]:,}"

    page.locator(".e6-grid th[data-column='k']").click()
    page.locator(".e6-grid th.e6-sorted-desc[data-column='k']").wait_for()
    expect(page.locator(".e6-page-input")).to_have_value("1")
    assert grid_row(page, "first-child")[1:3] == [f"{first_desc[0]:,}", f"{first_desc[1]:,}"]
    shot(page, "grid.png", grid)


@pytest.mark.parametrize("keep_mb", [None, 1], ids=["kept", "window"])
def test_download_csv_gives_every_row_and_enter_pages(lab, keep_mb, tmp_path):
    setup = SETUP + "\n%config E6Magic.display_limit = 20" + (f"\n%config E6Magic.grid_keep_mb = {keep_mb}" if keep_mb else "")
    page = lab.open_notebook(f"download-{keep_mb}.ipynb", [setup, f"%%e6sql\n{GRID_SQL}"])
    page.set_viewport_size({"width": 800, "height": 800})
    run_setup(page)
    Lab.run_cell(page, 1)
    info = page.locator(".e6-grid-info")
    expect(info).to_contain_text("of 1,000,000 rows · 3 columns", timeout=120000)
    box = page.locator(".e6-page-input")
    box.fill("7")
    box.press("Enter")
    expect(info).to_contain_text("rows 121–140 of")
    box.press("Enter")  # Enter again on the same value: still that page, no error
    expect(info).to_contain_text("rows 121–140 of")
    with page.expect_download(timeout=120000) as caught:
        page.locator(".e6-download").click()
        expect(page.locator(".e6-download-note")).to_contain_text("downloading: ", timeout=60000)
    download = caught.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with saved.open("rb") as f:
        assert sum(1 for _ in f) == 1_000_001
    assert re.fullmatch(r"query-[0-9a-f]{8}\.csv", download.suggested_filename), download.suggested_filename
    expect(page.locator(".e6-download-note")).to_contain_text("saved ")
    shot(page, f"download-{'window' if keep_mb else 'kept'}.png", page.locator(".e6-grid"))


def test_grid_too_big_to_keep_pages_and_sorts_through_the_engine(lab):
    cells = [SETUP + "\n%config E6Magic.display_limit = 20\n%config E6Magic.grid_keep_mb = 1", f"%%e6sql\n{GRID_SQL}"]
    page = lab.open_notebook("window.ipynb", cells)
    run_setup(page)
    Lab.run_cell(page, 1)
    info = page.locator(".e6-grid-info")
    # a streamed result keeps at least the window (10,000 rows), or the batches read before the count was known
    kept = re.compile(r"of 1,000,000 rows · 3 columns · first (10,000|16,384|32,768) rows kept here")
    expect(info).to_contain_text(kept, timeout=120000)
    expect(page.locator(".e6-status")).to_have_attribute("data-state", "finished")
    expect(page.locator(".e6-status")).to_contain_text("1,000,000 rows · 3 columns")
    page.locator(".e6-page-last").click()  # past the window: one query on the engine
    expect(info).to_contain_text("rows 999,981–1,000,000 of")
    assert grid_row(page, "last-child")[:3] == ["1,000,000", "999,999", f"{999999 * 7919 % 100003:,}"]

    [(top,)] = duckdb.sql(f"SELECT max(k) FROM ({GRID_SQL})").fetchall()
    page.locator(".e6-grid th[data-column='k']").click()
    page.locator(".e6-grid th.e6-sorted-asc[data-column='k']").wait_for()
    page.locator(".e6-grid th[data-column='k']").click()
    page.locator(".e6-grid th.e6-sorted-desc[data-column='k']").wait_for()
    expect(page.locator(".e6-grid tbody tr:first-child td:nth-child(3)")).to_have_text(f"{top:,}")
    page.locator(".e6-page-last").click()
    expect(page.locator(".e6-grid tbody tr:last-child td:nth-child(3)")).to_have_text("NULL")  # nulls last
    assert not page.locator(".e6-error").is_visible()


STREAM_CELL = """import threading, time, duckdb
from e6magic.widgets import ResultGrid
reader = duckdb.connect().sql("SELECT i AS id, i * 2 AS twice FROM range(10000000) t(i)").to_arrow_reader(65536)
grid = ResultGrid(reader.schema, page_size=25)
def feed():
    for n, batch in enumerate(reader):
        grid.append(batch)
        if n == 0:
            time.sleep(3.0)  # hold after the first batch: the page must already show it
    grid.done()
threading.Thread(target=feed, daemon=True).start()
grid"""


def test_grid_shows_the_first_batch_and_stays_responsive_while_10m_rows_stream(lab):
    page = lab.open_notebook("stream.ipynb", [STREAM_CELL])
    Lab.run_cell(page, 0)
    info = page.locator(".e6-grid-info")
    expect(info).to_contain_text("of 65,536 rows so far (streaming…)", timeout=60000)
    assert grid_row(page, "first-child")[1:] == ["0", "0"]
    page.locator(".e6-page-next").click()  # the kernel answers while rows keep arriving
    expect(info).to_contain_text("rows 26–50 of")
    assert grid_row(page, "first-child")[1:] == ["25", "50"]
    expect(info).to_contain_text("rows 26–50 of 10,000,000 rows · 2 columns", timeout=120000)
    assert page.locator(".e6-grid tbody tr").count() == 25
    page.locator(".e6-page-last").click()
    expect(info).to_contain_text("rows 9,999,976–10,000,000 of 10,000,000 rows")
    assert grid_row(page, "last-child")[1:] == ["9,999,999", "19,999,998"]  # thousands separators by default


# 13 operators on the local engine, 6 of them projections that only pass columns on
PLAN_13 = ("SELECT status, count(*) FROM demo.main.orders GROUP BY status UNION ALL "
           "SELECT name, count(*) FROM demo.main.customers GROUP BY name ORDER BY 2 DESC LIMIT 5")


def test_plan_is_a_tree_table_with_aligned_columns_and_only_the_slowest_path_hot(lab):
    page = lab.open_notebook("plan.ipynb", [SETUP, f"%%e6sql --explain\n{PLAN_13}"])
    page.set_viewport_size({"width": 800, "height": 1000})
    run_setup(page)
    Lab.run_cell(page, 1)
    plan = page.locator(".e6-plan")
    plan.wait_for(state="visible", timeout=120000)
    outputs = Lab.cell(page, 1).locator(".jp-OutputArea-output")
    expect(plan.locator(".e6-plan-title")).to_have_text("Plan")
    order = outputs.evaluate_all("os => os.map(o => o.querySelector('.e6-plan') ? 'plan' : "
                                 "o.querySelector('.e6-status') ? 'status' : o.querySelector('.e6-grid') ? 'grid' : '')")
    assert order.index("plan") < order.index("status") < order.index("grid")  # the plan first, then the result
    summary = page.locator(".e6-plan-summary").inner_text()
    assert all(word in summary for word in ("parse", "queue", "execution", "total", "operator time"))
    expect(page.locator(".e6-plan-note")).to_contain_text("wall-clock execution")
    nodes = page.locator(".e6-plan-node")
    expect(nodes).to_have_count(7)  # the 6 pass-through projections are folded
    page.locator(".e6-plan-fold input").check()
    expect(nodes).to_have_count(13)
    page.locator(".e6-collapse-all").click()
    expect(nodes).to_have_count(1)
    page.locator(".e6-expand-all").click()
    expect(nodes).to_have_count(13)

    depths = [int(d) for d in page.eval_on_selector_all(".e6-plan-node", "ns => ns.map(n => n.dataset.depth)")]
    assert max(depths) >= 6
    for column in ("e6-plan-time", "e6-plan-share", "e6-plan-rows", "e6-plan-est", "e6-plan-bytes"):
        rights = page.eval_on_selector_all(f".e6-plan-node .{column}",
                                           "cs => cs.map(c => Math.round(c.getBoundingClientRect().right))")
        assert len(rights) == 13 and len(set(rights)) == 1, (column, rights)  # the same x at every depth
    cut = page.eval_on_selector_all(".e6-plan-node td", "cs => cs.filter(c => c.scrollWidth > c.clientWidth + 1)"
                                    ".map(c => c.textContent)")
    assert cut == [], cut  # every name and figure readable at 800 px, even 8 levels down
    box = plan.bounding_box()
    for cell in page.locator(".e6-plan-node .e6-plan-bytes").all():  # nothing cut off at 800 px
        assert cell.bounding_box()["x"] + cell.bounding_box()["width"] <= box["x"] + box["width"] + 1

    slowest = page.locator(".e6-slowest")
    expect(slowest).to_have_count(1)
    shares = [float(t.rstrip("%")) for t in page.locator(".e6-plan-node .e6-plan-pct").all_inner_texts()]
    assert float(slowest.locator(".e6-plan-pct").inner_text().rstrip("%")) == max(shares)
    # Which operators are slow is the engine's timing of the moment, so the check is the rule, not a count: a row
    # is hot exactly when it is on the slowest path and is the slowest or spent >= 10 % itself (shown rounded to
    # 0.1 %, so a row shown at 10.0 % may go either way).
    rows = page.eval_on_selector_all(".e6-plan-node", "ns => ns.map(n => [n.classList.contains('e6-hot'), "
                                     "n.classList.contains('e6-on-path'), n.classList.contains('e6-slowest'), "
                                     "n.querySelector('.e6-plan-pct').textContent])")
    for is_hot, on_path, is_slowest, pct_text in rows:
        pct = float(pct_text.strip().lstrip("<").rstrip("%"))
        assert not is_hot or on_path, rows
        if on_path and (is_slowest or pct > 10.05):
            assert is_hot, rows
        elif not is_slowest and pct < 9.95:
            assert not is_hot, rows
    on_path_count = sum(1 for r in rows if r[1])
    assert 1 <= sum(1 for r in rows if r[0]) < on_path_count, rows  # the 0.0 ms root is on the path, never hot
    assert "e6-hot" not in (nodes.first.get_attribute("class") or "")  # RESULT_COLLECTOR, 0.0 ms

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator(".e6-copy-plan").click()
    expect(page.locator(".e6-copy-plan")).to_have_text("Copied")
    shot(page, "plan.png", plan)


def test_schema_browser_search_and_preview(lab):
    page = lab.open_notebook("schema.ipynb", [
        "import os, e6magic\nfrom e6magic.widgets import SchemaBrowser\n"
        "conn = e6magic.connect(host=os.environ['E6DATA_HOST'], port=int(os.environ['E6DATA_PORT']),\n"
        "                       username=os.environ['E6DATA_USERNAME'], password=os.environ['E6DATA_PASSWORD'])\n"
        "SchemaBrowser(conn)"])
    Lab.run_cell(page, 0)
    browser = page.locator(".e6-schema")
    browser.wait_for(state="visible", timeout=60000)
    expect(page.locator(".e6-schema-node[data-path='demo']")).to_be_visible()
    page.locator(".e6-search").fill("amount")  # a fresh browser: no table opened yet
    match = page.locator(".e6-match[data-path='demo.main.orders.amount']")
    expect(match).to_be_visible(timeout=10000)
    expect(match.locator("mark")).to_have_text("amount")
    column = page.locator(".e6-schema-node[data-path='demo.main.orders.amount']")
    expect(column).to_be_visible(timeout=10000)  # the tree opened down to the match
    expect(column.locator("mark.e6-hit")).to_have_text("amount")
    orders = page.locator(".e6-schema-node[data-path='demo.main.orders']")
    expect(orders.locator(":scope > .e6-schema-row .e6-row-count")).to_have_text("1,000,000 rows", timeout=10000)

    orders.locator(":scope > .e6-schema-row .e6-preview-btn").click()
    grid = orders.locator(":scope > .e6-preview .e6-grid")  # the result grid, under its own table
    expect(grid).to_be_visible(timeout=20000)
    expect(grid.locator(".e6-grid-info")).to_contain_text("of 100 rows")
    assert grid.locator("tbody tr").count() == 20
    headers = grid.locator("th .e6-col-name").all_inner_texts()
    listed = orders.locator(".e6-kind-column > .e6-schema-row > .e6-schema-name").all_inner_texts()
    assert headers == listed
    amount_at = headers.index("amount")
    assert "e6-num" in (grid.locator(f"tbody tr:first-child td:nth-child({amount_at + 2})").get_attribute("class") or "")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    orders.locator(":scope > .e6-schema-row .e6-copy-name").click()
    expect(page.locator(".e6-schema-status")).to_have_text('copied "demo"."main"."orders"')
    sql = '%%e6sql\nSELECT * FROM "demo"."main"."orders" LIMIT 100'
    orders.locator(":scope > .e6-schema-row .e6-insert-sql").click()  # the Lab harness exposes the app
    expect(page.locator(".e6-schema-status")).to_have_text("inserted in a new cell")
    expect(Lab.cell(page, 1).locator(".jp-InputArea")).to_contain_text('SELECT * FROM "demo"."main"."orders" LIMIT 100')
    page.evaluate("window.__app = window.jupyterapp; delete window.jupyterapp")  # as JupyterLab is by default
    orders.locator(":scope > .e6-schema-row .e6-insert-sql").click()
    expect(page.locator(".e6-schema-status")).to_contain_text("paste it into a new cell")
    assert page.evaluate("navigator.clipboard.readText()") == sql
    page.evaluate("window.jupyterapp = window.__app")
    page.locator(".e6-refresh").click()
    expect(column).to_be_visible(timeout=10000)
    shot(page, "schema.png", browser)


def test_grid_profiles_and_filters_orders_against_duckdb(lab):
    from e6magic.engine.catalog import build_demo

    demo = duckdb.connect()
    build_demo(demo)
    (lo, hi, shipped), = demo.sql("SELECT min(amount), max(amount), count(*) FILTER (WHERE status = 'shipped') "
                                  "FROM demo.main.orders").fetchall()
    page = lab.open_notebook("explore.ipynb", [SETUP + "\n%config E6Magic.display_limit = 20",
                                               "%%e6sql\nSELECT * FROM demo.main.orders"])
    run_setup(page)
    Lab.run_cell(page, 1)
    grid = page.locator(".e6-grid")
    expect(page.locator(".e6-grid-info")).to_contain_text("of 1,000,000 rows", timeout=120000)
    page.locator(".e6-profile-btn").click()
    status = page.locator(".e6-prof[data-column='status']")
    expect(status.locator(".e6-prof-null")).to_have_text("null 10.0%", timeout=60000)
    amount = page.locator(".e6-prof[data-column='amount']")
    assert amount.locator(".e6-prof-min").inner_text() == str(lo)
    assert amount.locator(".e6-prof-max").inner_text() == str(hi)
    assert amount.locator(".e6-prof-hist rect").count() >= 5
    assert status.locator(".e6-prof-top div").count() == 4
    shot(page, "profile.png", grid)

    page.locator(".e6-filter-btn").click()
    box = page.locator(".e6-filter[data-column='status']")
    box.fill("=shipped")
    box.press("Enter")
    expect(page.locator(".e6-grid-info")).to_contain_text(f"of {shipped:,} rows", timeout=30000)
    expect(page.locator(".e6-grid-info")).to_contain_text("filtered from 1,000,000")
    expect(page.locator(".e6-filter-sql")).to_have_text("WHERE \"status\" = 'shipped'")
    statuses = set(page.locator(".e6-grid tbody tr td:last-child").all_inner_texts())
    assert statuses == {"shipped"}
    shot(page, "filter.png", grid)


def test_quick_chart_renders_and_exports(lab):
    page = lab.open_notebook("chart.ipynb", [
        SETUP + "\n%config E6Magic.display_limit = 20",
        "%%e6sql\nSELECT * FROM demo.main.orders",
        "from e6magic.widgets import QuickChart\nQuickChart(_e6.grid, kind='bar', x='status', y='quantity')"])
    run_setup(page)
    Lab.run_cell(page, 1)
    Lab.wait_cell_done(page, 1)
    Lab.run_cell(page, 2)
    chart = page.locator(".e6-chart")
    chart.wait_for(state="visible", timeout=60000)
    expect(chart.locator("rect.e6-chart-bar")).to_have_count(5)  # four statuses and NULL
    chart.locator(".e6-chart-kind").select_option("histogram")
    chart.locator(".e6-chart-x").select_option("amount")
    expect(chart.locator("rect.e6-chart-bar")).to_have_count(20)
    with page.expect_download() as svg:
        chart.locator(".e6-chart-svg-btn").click()
    assert svg.value.suggested_filename == "chart.svg"
    assert "<svg" in Path(svg.value.path()).read_text()
    with page.expect_download() as png:
        chart.locator(".e6-chart-png-btn").click()
    assert Path(png.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shot(page, "chart.png", chart)

    grid = Lab.cell(page, 1).locator(".e6-grid")  # the grid's own Chart button: the chart of its view beside it
    grid.locator(".e6-chart-btn").click()
    beside = grid.locator(".e6-grid-body > .e6-grid-chart .e6-chart")
    expect(beside.locator("svg.e6-chart-svg")).to_be_visible(timeout=20000)
    beside.locator(".e6-chart-x").select_option("status")
    expect(beside.locator("rect.e6-chart-bar")).to_have_count(5)
    grid.locator(".e6-filter-btn").click()
    box = grid.locator(".e6-filter[data-column='status']")
    box.fill("=shipped")
    box.press("Enter")
    expect(beside.locator("rect.e6-chart-bar")).to_have_count(1, timeout=20000)  # it follows the filter
    expect(grid.locator(".e6-chart-btn")).to_have_text("Close chart")
    shot(page, "grid-chart.png", grid)
    grid.locator(".e6-chart-btn").click()
    expect(beside).to_have_count(0, timeout=20000)


def test_a_one_page_result_has_no_pager_and_headers_sort_from_the_keyboard(lab):
    sql = "SELECT i * 1000 AS n, repeat('long text ', 20) AS t FROM range(5) t(i)"
    page = lab.open_notebook("small.ipynb", [SETUP + "\n%config E6Magic.thousands = False", f"%%e6sql\n{sql}"])
    run_setup(page)
    Lab.run_cell(page, 1)
    expect(page.locator(".e6-grid-info")).to_contain_text("rows 1–5 of 5 rows · 2 columns", timeout=30000)
    expect(page.locator(".e6-pager")).to_be_hidden()
    header = page.locator(".e6-grid th[data-column='n']")
    expect(header).to_have_attribute("aria-sort", "none")
    header.focus()
    page.keyboard.press("Enter")
    expect(header).to_have_attribute("aria-sort", "ascending")
    page.keyboard.press("Enter")
    expect(page.locator(".e6-grid th[data-column='n']")).to_have_attribute("aria-sort", "descending")
    assert grid_row(page, "first-child")[1] == "4000"  # E6Magic.thousands = False: plain digits
    cell = page.locator(".e6-grid tbody tr:first-child td").nth(2)
    assert cell.get_attribute("title") == "long text " * 20  # the whole text where the column cuts it


def header_widths(page) -> list[float]:
    return page.locator(".e6-grid thead tr:first-child th").evaluate_all(
        "ths => ths.map(th => Math.round(th.getBoundingClientRect().width))")


@pytest.mark.parametrize("keep_mb", [None, 1], ids=["kept", "window"])
def test_grid_copies_rows_and_cells_expands_cut_text_keeps_widths_and_pages_by_the_chosen_size(lab, keep_mb):
    # the label grows from 'r' to 'r' + 59 x's every 1,500 rows: later pages hold wider text than the first;
    # 100,000 rows are more than 1 MB, so with grid_keep_mb = 1 other pages come from the engine
    sql = ("SELECT i AS id, 'r' || repeat('x', ((i % 1500) // 25)::INTEGER) AS label, i * 1000 AS n "
           "FROM range(100000) t(i)")
    setup = SETUP + "\n%config E6Magic.display_limit = 20"
    setup += f"\n%config E6Magic.grid_keep_mb = {keep_mb}" if keep_mb else ""
    page = lab.open_notebook(f"mechanics-{keep_mb}.ipynb", [setup, f"%%e6sql\n{sql}"])
    page.set_viewport_size({"width": 800, "height": 800})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    run_setup(page)
    Lab.run_cell(page, 1)
    info = page.locator(".e6-grid-info")
    expect(info).to_contain_text("rows 1–20 of 100,000 rows · 3 columns", timeout=60000)
    widths = header_widths(page)

    page.locator(".e6-page-last").click()  # labels of 39 x's, cut at the first page's width
    expect(info).to_contain_text("rows 99,981–100,000 of")
    page.locator(".e6-grid th[data-column='n']").click()
    page.locator(".e6-grid th.e6-sorted-asc[data-column='n']").wait_for()
    page.locator(".e6-page-last").click()  # sorted: the longest numbers
    expect(info).to_contain_text("rows 99,981–100,000 of")
    wider = header_widths(page)
    assert wider[2] == widths[2]  # the text column keeps the first page's width (and cuts)
    assert all(b >= a for a, b in zip(widths, wider))  # number columns only widen, for longer numbers
    numbers_cut = "tds => tds.filter(td => td.scrollWidth > td.clientWidth).length"
    assert page.locator(".e6-grid td.e6-num, .e6-grid td.e6-rownum").evaluate_all(numbers_cut) == 0
    page.locator(".e6-page-first").click()
    expect(info).to_contain_text("rows 1–20 of")
    assert header_widths(page) == wider  # never narrower again: no jump back

    # a row number copies its row as one tab-separated line, from the keyboard too
    page.locator(".e6-grid tbody tr:first-child td.e6-rownum").focus()  # the rows' one Tab stop
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator(".e6-grid tbody tr:nth-child(3) td.e6-rownum")).to_have_text("copied")
    assert page.evaluate("navigator.clipboard.readText()") == "2\tr\t2000\n"  # plain digits, not 2,000
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Control+c")
    assert page.evaluate("navigator.clipboard.readText()") == "2000"  # the focused cell alone

    # a cut cell shows its whole value on click (or Enter), in the column's fixed width
    page.locator(".e6-page-last").click()
    expect(info).to_contain_text("rows 99,981–100,000 of")
    cell = page.locator(".e6-grid tbody tr:last-child td").nth(2)
    assert cell.evaluate("td => td.scrollWidth > td.clientWidth")  # cut
    before = cell.bounding_box()["height"]
    cell.click()
    expect(cell).to_have_class(re.compile("e6-expanded"))
    assert cell.evaluate("td => td.scrollWidth <= td.clientWidth")  # all of it in view
    assert cell.bounding_box()["height"] > before
    assert header_widths(page) == wider
    if not keep_mb:
        shot(page, "grid-mechanics.png", page.locator(".e6-grid"))
    cell.press("Enter")
    expect(cell).not_to_have_class(re.compile("e6-expanded"))

    # a page size chosen in the bar: the kernel (or, past the window, the engine) sends that many rows
    page.locator(".e6-page-size").select_option("100")
    expect(info).to_contain_text("rows 99,901–100,000 of 100,000 rows")  # the page that holds the first row shown
    assert page.locator(".e6-grid tbody tr").count() == 100
    expect(page.locator(".e6-page-of")).to_have_text(" of 1,000")
    assert grid_row(page, "last-child")[1] == "99,999"  # still sorted by n
    page.locator(".e6-page-first").click()
    expect(info).to_contain_text("rows 1–100 of 100,000 rows")
    # one scroll area: 100 rows make the output taller, the grid does not scroll inside itself
    scroll = page.locator(".e6-grid-scroll")
    assert scroll.evaluate("s => s.scrollHeight <= s.clientHeight + 1 && getComputedStyle(s).overflowY !== 'auto'")
    assert scroll.bounding_box()["height"] > 100 * 14
    if not keep_mb:
        shot(page, "grid-page-size.png", page.locator(".e6-grid"))
