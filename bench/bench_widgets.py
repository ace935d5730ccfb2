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


def run_engine(rows: int, page_size: int) -> dict[str, Any]:
    """The same result streamed by the local engine through the client: first page after the first batch."""
    import e6magic
    from e6magic.engine import LocalEngine

    with LocalEngine(host="127.0.0.1", port=0) as engine:
        conn = e6magic.connect(host="127.0.0.1", port=engine.port, username="bench@example.com", password=engine.token)
        try:
            t_submit = time.perf_counter()
            handle = conn.cursor().submit(SQL.format(rows=rows))
            batches = handle.batches()
            first = next(batches)
            t_first = time.perf_counter()
            grid = ResultGrid(handle, page_size=page_size)
            grid.append(first)
            page_message(grid)
            first_page_s = time.perf_counter() - t_first
            n = first.num_rows
            for batch in batches:
                grid.append(batch)
                n += batch.num_rows
            grid.done()
            total_s = time.perf_counter() - t_submit
        finally:
            conn.close()
    return {"engine_first_batch_s": t_first - t_submit, "engine_first_page_s": first_page_s,
            "engine_total_s": total_s, "engine_rows": n}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--page-size", type=int, default=50)
    ap.add_argument("--batch-rows", type=int, default=65536)
    ap.add_argument("--engine", action="store_true", help="also stream the result from the local engine")
    a = ap.parse_args()
    r = run(a.rows, a.page_size, a.batch_rows)
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
    if a.engine:
        e = run_engine(a.rows, a.page_size)
        print(f"local engine + client: first batch after {e['engine_first_batch_s']:.3f} s, first page "
              f"{1000 * e['engine_first_page_s']:.2f} ms after it; all {e['engine_rows']:,} rows in "
              f"{e['engine_total_s']:.1f} s")


if __name__ == "__main__":
    main()
