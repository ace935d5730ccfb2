"""pandas.read_sql of 1M rows through SQLAlchemy: the e6magic:// dialect vs the official e6data:// dialect vs fetch_df().

One local engine (`e6magic-engine serve`, its own process), bench_client's mixed query (int64, double,
decimal(18,2), varchar, date, timestamp; 10 % nulls). Every side runs in a fresh subprocess (the official
connector's protobuf stubs cannot share a process with e6magic's), the sides interleaved run by run, the
median kept. Sides:
  pandas        pd.read_sql_query(sql, create_engine("e6magic://..."))             rows through fetchall()
  pandas-arrow  the same with dtype_backend="pyarrow"                              still rows: pandas has Arrow
                                                                                   handoff only for ADBC
  fast          e6magic.sqlalchemy.read_sql(sql, engine)                           Arrow batches -> fetch_df()
  fast-arrow    e6magic.sqlalchemy.read_sql(sql, engine, dtype_backend="pyarrow")  Arrow columns, no conversion
  fetch_df      the client's cursor.fetch_df(), no SQLAlchemy                      the floor
  official      pd.read_sql_query(sql, create_engine("e6data://..."))              connector 3.0.2's dialect

    .venv/bin/python bench/bench_sqlalchemy.py [--rows 1000000] [--official-rows N] [--runs 3] [--sides ...]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from bench_client import (  # bench/ is the script folder
    mixed_query,
    peak_rss,
    start_peak,
)
from served import served_engine

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIDES = ("pandas", "pandas-arrow", "fast", "fast-arrow", "fetch_df", "official")


def _url(scheme: str, port: int, token: str) -> str:
    from urllib.parse import quote

    extra = ""
    return f"{scheme}://bench:{quote(token, safe='')}@127.0.0.1:{port}/?catalog=demo&schema=main{extra}"


def _read(side: str, port: int, token: str, sql: str):
    """Returns a function that reads `sql` into a DataFrame, warmed up (signed in, code paths loaded)."""
    import pandas as pd

    if side == "fetch_df":
        from e6magic.client import connect

        conn = connect(host="127.0.0.1", port=port, username="bench", password=token, catalog="demo",
                       database="main")

        def read(text: str):
            cur = conn.cursor()
            cur.execute(text)
            try:
                return cur.fetch_df()
            finally:
                cur.close()
        return read
    import sqlalchemy as sa

    engine = sa.create_engine(_url("e6data" if side == "official" else "e6magic", port, token))
    if side in ("fast", "fast-arrow"):
        from e6magic.sqlalchemy import read_sql

        backend = "pyarrow" if side == "fast-arrow" else "numpy"
        return lambda text: read_sql(text, engine, dtype_backend=backend)
    if side == "official":  # its cursor %-formats even with no parameters: a `%` in SQL must be doubled
        return lambda text: pd.read_sql_query(text.replace("%", "%%"), engine)
    if side == "pandas-arrow":
        return lambda text: pd.read_sql_query(text, engine, dtype_backend="pyarrow")
    return lambda text: pd.read_sql_query(text, engine)


def run_side(side: str, port: int, rows: int) -> None:
    import pandas  # noqa: F401 - imported before the baseline, by every side alike
    import pyarrow  # noqa: F401

    read = _read(side, port, os.environ["E6_BENCH_TOKEN"], mixed_query(rows))
    read("SELECT 1 AS one")
    base = start_peak()
    start = time.perf_counter()
    df = read(mixed_query(rows))
    elapsed = time.perf_counter() - start
    peak = peak_rss() - base
    assert len(df) == rows and df.shape[1] == 6, df.shape
    print(json.dumps({"seconds": elapsed, "rows": rows, "peak_bytes": peak,
                      "df_bytes": int(df.memory_usage(deep=True).sum()), "nulls": int(df.isna().sum().sum())}))


def in_subprocess(side: str, port: int, rows: int, token: str) -> dict:
    env = dict(os.environ, E6_BENCH_TOKEN=token, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, __file__, "--side", side, str(port), str(rows)], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=900, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{side} side failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--official-rows", type=int, default=None, help="default: --rows")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sides", default=",".join(SIDES), help=f"comma-separated, of {', '.join(SIDES)}")
    args = parser.parse_args()
    sides = args.sides.split(",")
    rows_for = {side: (args.official_rows or args.rows) if side == "official" else args.rows for side in sides}
    runs: dict[str, list[dict]] = {side: [] for side in sides}
    with served_engine() as (port, token):
        print(f"engine 127.0.0.1:{port} (e6magic-engine serve); {args.runs} runs per side, interleaved, median; "
              "query: 6 mixed columns, 10% nulls")
        for _ in range(args.runs):
            for side in sides:
                runs[side].append(in_subprocess(side, port, rows_for[side], token))
    best = {}
    for side in sides:
        result = sorted(runs[side], key=lambda r: r["seconds"])[len(runs[side]) // 2]
        result["rows_per_s"] = result["rows"] / result["seconds"]
        best[side] = result
        times = ", ".join(f"{r['seconds']:.2f}" for r in runs[side])
        print(f"{side:13s} {result['rows']:>9,} rows  {result['seconds']:7.3f} s  "
              f"{result['rows_per_s'] / 1e6:6.2f} M rows/s  peak +{result['peak_bytes'] / 2**20:7.1f} MiB  "
              f"DataFrame {result['df_bytes'] / 2**20:6.1f} MiB; runs: {times} s")
    base = best.get("pandas")
    for side, result in best.items():
        if base and side != "pandas":
            print(f"{side} vs pandas.read_sql on e6magic://: {result['rows_per_s'] / base['rows_per_s']:.2f}x the rows/s")
    if base and "official" in best:
        print(f"pandas.read_sql on e6magic:// vs on e6data://: "
              f"{base['rows_per_s'] / best['official']['rows_per_s']:.1f}x the rows/s")
    print("medians:", json.dumps({side: round(r["seconds"], 3) for side, r in best.items()}))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--side":
        run_side(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
