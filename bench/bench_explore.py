"""Benchmark profile and filter of a windowed grid (10M rows, only a window kept): kernel memory stays flat.

The engine runs in its own process (as a cluster would); this process is the kernel side: a grid that keeps the
first rows and reads the rest from the engine, then Profile, a filter, paging the filtered rows and a profile of
them, each with the process's RSS. Baseline in the same run: the Arrow size of the window, scaled to the whole
result (what keeping the result in the kernel would hold), and the in-kernel Arrow profile of the window.
"""
from __future__ import annotations

import argparse
import json
import time
from typing import Any

from bench_widgets import SQL, rss_mib
from served import served_engine

import e6magic
from e6magic.widgets import EnginePager, ResultGrid
from e6magic.widgets._profile import profile_table


def timed(call: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = call()
    return time.perf_counter() - t0, value


def run(port: int, token: str, rows: int, window: int) -> dict[str, Any]:
    conn = e6magic.connect(host="127.0.0.1", port=port, username="bench@example.com", password=token)
    sql = SQL.format(rows=rows)
    cur = conn.cursor()
    cur.execute("SELECT 1")
    cur.fetchall()
    cur.close()
    rss = {"start": rss_mib()}
    cur = conn.cursor()
    cur.execute(f"{sql} LIMIT {window}")
    first = cur.fetch_arrow()
    cur.close()
    grid = ResultGrid(first, page_size=50)
    grid.page_from(EnginePager(lambda: conn.cursor(), sql), rows)
    rss["window shown"] = rss_mib()
    seconds: dict[str, float] = {}
    seconds["profile (engine)"], _ = timed(grid.profile)
    rss["after profile"] = rss_mib()
    seconds["filter name contains '4999' (engine)"], _ = timed(lambda: grid.filter_by({"name": "4999"}))
    filtered_rows = grid.row_count
    rss["after filter"] = rss_mib()
    seconds["last page of the filtered rows"], _ = timed(lambda: grid.goto(-1))
    seconds["profile of the filtered rows"], _ = timed(grid.profile)
    seconds["range filter k 0..1000 and x > 1000"], _ = timed(lambda: grid.filter_by({"k": "0..1000", "x": ">1000"}))
    rss["after second filter and paging"] = rss_mib()
    grid.filter_by({})
    rss["filter cleared"] = rss_mib()
    seconds["baseline: Arrow profile of the window in the kernel"], _ = timed(lambda: profile_table(first))
    assert grid.error == "" and grid.filter_error == "", (grid.error, grid.filter_error)
    grid.close()
    conn.close()
    return {"rows": rows, "window": window, "window_mib": first.nbytes / 2**20,
            "whole_result_mib": first.nbytes / 2**20 * rows / window, "filtered_rows": filtered_rows,
            "rss_mib": {k: v - rss["start"] for k, v in rss.items()}, "seconds": seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--window", type=int, default=10_000)
    args = ap.parse_args()
    with served_engine() as (port, token):
        result = run(port, token, args.rows, args.window)
    print(f"rows {result['rows']:,}, window {result['window']:,} kept ({result['window_mib']:.1f} MiB); the whole "
          f"result would be ~{result['whole_result_mib']:.0f} MiB of Arrow in the kernel")
    for label, mib in result["rss_mib"].items():
        print(f"  kernel RSS {label}: {mib:+.1f} MiB")
    for label, s in result["seconds"].items():
        print(f"  {label}: {s:.2f} s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
