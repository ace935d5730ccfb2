"""The grid's whole-result CSV download against pyarrow writing the same table into memory (the baseline).

Both run in this process, interleaved, medians of --runs; the download's chunks go to a comm that drops
them (what the browser does with them is not timed). Also the Python heap's peak during one download:
it stays near one chunk, not the file.

    .venv/bin/python bench/bench_download.py --rows 1000000 --runs 3
"""
from __future__ import annotations

import argparse
import io
import statistics
import time
import tracemalloc

import comm
import duckdb
import pyarrow.csv as pacsv
from comm.base_comm import BaseComm


class _DropComm(BaseComm):
    def publish_msg(self, *args: object, **kwargs: object) -> None:
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    comm.create_comm = lambda *args, **kwargs: _DropComm(*args, **kwargs)
    from e6magic.widgets import ResultGrid

    table = duckdb.sql(f"SELECT i AS id, 'row ' || i AS label, i * 0.5 AS half FROM range({a.rows}) t(i)").to_arrow_table()
    grid = ResultGrid(table, page_size=20)
    base, ours = [], []
    for _ in range(a.runs):
        start = time.perf_counter()
        sink = io.BytesIO()
        pacsv.write_csv(table, sink)
        base.append(time.perf_counter() - start)
        start = time.perf_counter()
        grid.download("csv")
        ours.append(time.perf_counter() - start)
    tracemalloc.start()
    grid.download("csv")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"{a.rows:,} rows, {len(sink.getvalue()) / 1e6:.1f} MB of CSV: write_csv {statistics.median(base):.2f} s, "
          f"grid.download {statistics.median(ours):.2f} s (x{statistics.median(ours) / statistics.median(base):.2f}); "
          f"Python heap peak during a download {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
