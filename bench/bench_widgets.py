"""Benchmark ResultGrid on a streamed 10M-row result: time to first page, paging/sorting cost, what memory it holds."""
from __future__ import annotations

import argparse
import json
import time
from typing import Any

import duckdb
import pyarrow as pa

from e6magic.widgets import ResultGrid

SQL = ("SELECT i AS id, (i * 7919) % 1000003 AS k, i * 0.5 AS x, 'customer ' || (i % 50000) AS name, "
       "DATE '2020-01-01' + (i % 3000)::INTEGER AS day FROM range({rows}) t(i)")


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def page_message(grid: ResultGrid) -> bytes:
    """What the kernel sends for one page: the JSON of the trait update the view receives."""
    return json.dumps({"method": "update", "state": {"rows": grid.rows, "page": grid.page}}).encode()


def timed(call: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = call()
    return time.perf_counter() - t0, value


def run(rows: int, page_size: int, batch_rows: int) -> dict[str, Any]:
    con = duckdb.connect()
    reader = con.sql(SQL.format(rows=rows)).to_arrow_reader(batch_rows)
    first = reader.read_next_batch()
    # first page: the grid is made, takes the first batch and has the page JSON ready to send
    t0 = time.perf_counter()
    grid = ResultGrid(reader.schema, page_size=page_size)
    grid.append(first)
    first_message = page_message(grid)
    first_page_s = time.perf_counter() - t0
    # baseline in the same run: what a plain HTML display of the same first rows costs
    html_page = lambda: pa.Table.from_batches([first]).slice(0, page_size).to_pandas().to_html()  # noqa: E731
    html_page()  # warm: the first call pays for importing pandas' formatters
    baseline_s, _ = timed(html_page)

    append_s = 0.0
    kept: list[pa.RecordBatch] = [first]
    for batch in reader:
        kept.append(batch)
        dt, _ = timed(lambda b=batch: grid.append(b))
        append_s += dt
    grid.done()
    result_mib = sum(b.nbytes for b in kept) / 2**20
    arrow_before = pa.total_allocated_bytes()
    rss_before = rss_mib()
    last_s, _ = timed(lambda: grid.goto(-1))
    pages = [grid.page_count * i // 20 for i in range(20)]
    paging_s, _ = timed(lambda: [grid.goto(p) for p in pages])
    arrow_paging = pa.total_allocated_bytes() - arrow_before
    sort_s, _ = timed(lambda: grid.sort_by("k", descending=True))
    sorted_last_s, _ = timed(lambda: grid.goto(-1))
    arrow_sorted = pa.total_allocated_bytes() - arrow_before
    return {
        "rows": grid.row_count, "batches": len(kept), "page_size": page_size,
        "first_page_s": first_page_s, "html_baseline_s": baseline_s,
        "first_page_bytes": len(first_message),
        "append_total_s": append_s, "append_per_batch_ms": 1000 * append_s / max(1, len(kept) - 1),
        "last_page_s": last_s, "random_page_ms": 1000 * paging_s / len(pages),
        "sort_10M_s": sort_s, "sorted_last_page_s": sorted_last_s,
        "result_arrow_mib": result_mib,
        "grid_extra_mib_unsorted": arrow_paging / 2**20, "grid_extra_mib_sorted": arrow_sorted / 2**20,
        "rss_mib_with_result": rss_before, "page_bytes": len(page_message(grid)),
    }


def kernel_side(port: int, token: str, rows: int, keep_mb: float, page_size: int) -> dict[str, Any]:
    """The magic's shown-only path in a fresh process (the kernel): submit, keep what `grid_keep_mb` allows,
    show the grid, then page to the end and sort. Memory is this process's own, the engine being elsewhere."""
    import e6magic
    from e6magic.magic.statement import WINDOW_ROWS, read_result
    from e6magic.widgets import EnginePager

    conn = e6magic.connect(host="127.0.0.1", port=port, username="bench@example.com", password=token)
    warm = conn.cursor()
    warm.execute("SELECT 1")
    warm.fetch_arrow()
    warm.close()
    rss_before = rss_mib()
    t_submit = time.perf_counter()
    cursor = conn.cursor()
    handle = cursor.submit(SQL.format(rows=rows))
    batches: list[pa.RecordBatch] = []
    grid = None
    t_first = first_page_s = None
    keep = int(keep_mb * 2**20) if keep_mb > 0 else None
    # what the magic does, minus the main-thread pump: the grid takes batches as read_result() keeps them
    import threading

    done = threading.Event()
    out: dict[str, Any] = {}

    def work() -> None:
        out["table"], out["total"] = read_result(cursor, handle, None, batches, keep, max(WINDOW_ROWS, 20 * page_size))
        done.set()

    threading.Thread(target=work, daemon=True).start()
    handed = 0
    while not done.is_set() or handed < len(batches):
        if handed < len(batches):
            if grid is None:
                t_first = time.perf_counter()
                grid = ResultGrid(batches[0].schema, page_size=page_size)
            grid.append(batches[handed])
            handed += 1
            if first_page_s is None:
                page_message(grid)
                first_page_s = time.perf_counter() - t_first
        else:
            time.sleep(0.001)
    assert grid is not None
    if out["total"] is not None:
        grid.page_from(EnginePager(conn.cursor, handle.sql), out["total"])
    else:
        grid.done()
    shown_s = time.perf_counter() - t_submit
    rss_shown, held_mib = rss_mib() - rss_before, grid.table.nbytes / 2**20
    last_s, _ = timed(lambda: grid.goto(-1))
    sort_s, _ = timed(lambda: grid.sort_by("k", descending=True))
    sorted_last_s, _ = timed(lambda: grid.goto(-1))
    rss_after = rss_mib() - rss_before
    conn.close()
    return {"rows": grid.row_count, "kept": grid.table.num_rows, "first_batch_s": t_first - t_submit,
            "first_page_s": first_page_s, "shown_s": shown_s, "rss_shown_mib": rss_shown,
            "held_mib": held_mib, "last_page_s": last_s, "sort_s": sort_s,
            "sorted_last_page_s": sorted_last_s, "rss_after_paging_mib": rss_after}


def run_engine(rows_list: list[int], keep_mb: float, page_size: int) -> list[dict[str, Any]]:
    """For each size: the kernel side in its own process against one local engine (in this process)."""
    import os
    import subprocess
    import sys

    from e6magic.engine import LocalEngine

    results = []
    with LocalEngine(host="127.0.0.1", port=0) as engine:
        for rows in rows_list:
            for keep in (keep_mb, 0.0):
                env = dict(os.environ, E6MAGIC_BENCH_TOKEN=engine.token.reveal())
                args = [sys.executable, __file__, "--kernel-side", str(engine.port), str(rows), str(keep), str(page_size)]
                done = subprocess.run(args, env=env, capture_output=True, text=True, check=True, timeout=900)
                results.append({"keep_mb": keep, **json.loads(done.stdout.strip().splitlines()[-1])})
    return results


def embedded_kernel(rows: int, keep_mb: float) -> dict[str, float]:
    """A real kernel (nbclient) on the default embedded engine, which runs inside that kernel: its RSS before a
    shown-only `%%e6sql` cell, right after it, and 10 s later (when the engine's copy has gone)."""
    import nbformat
    from nbclient import NotebookClient

    rss = ("import os\nwith open('/proc/self/statm') as f: "
           "print(int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20)")
    cells = ["%load_ext e6magic", f"%config E6Magic.grid_keep_mb = {keep_mb}", "%%e6sql\nSELECT 1 AS warm", rss,
             f"%%e6sql\n{SQL.format(rows=rows)}", rss, "import time; time.sleep(10)", rss]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=600, kernel_name="python3").execute()
    before, after, later = (float(next(o["text"] for o in nb.cells[i].outputs if o.get("name") == "stdout"))
                            for i in (3, 5, 7))
    return {"rows": rows, "keep_mb": keep_mb, "before": before, "after": after, "later": later}


def report_in_process(r: dict[str, Any], a: argparse.Namespace) -> None:
    print(f"rows {r['rows']:,} in {r['batches']} batches of {a.batch_rows:,}; page size {r['page_size']}")
    print(f"first page after the first batch: {1000 * r['first_page_s']:.2f} ms "
          f"({r['first_page_s'] / r['html_baseline_s']:.2f}x pandas to_html of the same rows, "
          f"{1000 * r['html_baseline_s']:.2f} ms); page message {r['first_page_bytes']:,} bytes")
    print(f"append while streaming: {r['append_per_batch_ms']:.3f} ms per batch ({r['append_total_s']:.3f} s total)")
    print(f"last page {1000 * r['last_page_s']:.2f} ms; random pages {r['random_page_ms']:.2f} ms each; "
          f"sort all rows by k {r['sort_10M_s']:.2f} s, then last page {1000 * r['sorted_last_page_s']:.2f} ms")
    print(f"result (Arrow) {r['result_arrow_mib']:.0f} MiB, held by reference; grid's own Arrow memory: "
          f"{r['grid_extra_mib_unsorted']:.2f} MiB unsorted, {r['grid_extra_mib_sorted']:.1f} MiB sorted "
          f"(one index per row); process RSS {r['rss_mib_with_result']:.0f} MiB; a page on the wire "
          f"{r['page_bytes']:,} bytes")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--page-size", type=int, default=50)
    ap.add_argument("--batch-rows", type=int, default=65536)
    ap.add_argument("--engine", action="store_true", help="also run the magic's kernel side against the local engine")
    ap.add_argument("--engine-rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--keep-mb", type=float, default=256.0, help="E6Magic.grid_keep_mb for the windowed runs")
    ap.add_argument("--skip-in-process", action="store_true", help="only the --engine runs")
    ap.add_argument("--embedded", action="store_true",
                    help="also a real kernel on the embedded engine (in that kernel): its memory around a shown cell")
    a = ap.parse_args()
    if a.skip_in_process:
        a.rows = 0
    if a.rows:
        report_in_process(run(a.rows, a.page_size, a.batch_rows), a)
    if a.engine:
        print(f"kernel side of %%e6sql (own process) vs the local engine; E6Magic.grid_keep_mb = {a.keep_mb:g} "
              "(window) vs 0 (keep whole):")
        for e in run_engine(a.engine_rows, a.keep_mb, a.page_size):
            mode = f"keep_mb {e['keep_mb']:g}" if e["keep_mb"] else "keep whole"
            print(f"  {e['rows']:>10,} rows {mode:>12}: kept {e['kept']:>10,}; first batch {e['first_batch_s']:.3f} s, "
                  f"first page {1000 * e['first_page_s']:.2f} ms after it; grid shown after {e['shown_s']:.2f} s; "
                  f"kernel memory while shown: RSS +{e['rss_shown_mib']:.0f} MiB, result rows held {e['held_mib']:.1f} MiB; "
                  f"last page {e['last_page_s']:.2f} s, sort {e['sort_s']:.2f} s, sorted last page "
                  f"{e['sorted_last_page_s']:.2f} s; RSS after paging +{e['rss_after_paging_mib']:.0f} MiB")


    if a.embedded:
        print("a real kernel on the embedded engine, a shown-only cell of --engine-rows rows:")
        for rows in a.engine_rows:
            for keep in (a.keep_mb, 0.0):
                e = embedded_kernel(rows, keep)
                mode = f"keep_mb {keep:g}" if keep else "keep whole"
                print(f"  {rows:>10,} rows {mode:>12}: kernel RSS {e['before']:.0f} MiB before, "
                      f"+{e['after'] - e['before']:.0f} MiB right after the cell, +{e['later'] - e['before']:.0f} MiB 10 s later")


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 1 and sys.argv[1] == "--kernel-side":
        import os

        port, rows, keep, page = sys.argv[2:6]
        print(json.dumps(kernel_side(int(port), os.environ["E6MAGIC_BENCH_TOKEN"], int(rows), float(keep), int(page))))
    else:
        main()
