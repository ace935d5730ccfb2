"""Time to a pandas DataFrame: e6magic's client vs the official connector 3.0.2 vs DuckDB in-process.

One run, one local engine (`e6magic-engine serve`, in its own process as a server would be), the same
mixed-type query (int64, double, decimal(18,2), varchar, date, timestamp; 10 % nulls in every column)
generated from range(). Each side runs in a fresh subprocess, so its peak memory is its own: the
kernel's RSS high-water mark (VmHWM), reset just before the query, minus the RSS at that moment, next
to the final DataFrame's size (memory_usage(deep=True)). Not ru_maxrss: a child started by
posix_spawn/vfork inherits the parent's high-water mark, which hid the client's own peak. Also: what
the first connection's strategy detection costs, and that a cached strategy adds no RPC (counted with
a gRPC client interceptor, against an in-process engine whose colour the bench flips).

    .venv/bin/python bench/bench_client.py [--rows 1000000] [--official-rows ROWS] [--runs 3]
                                           [--sides duckdb,e6magic,official]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from served import served_engine  # bench/ is the script folder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mixed_query(rows: int) -> str:
    return f"""
SELECT CASE WHEN i % 10 = 1 THEN NULL ELSE i * 7919 END AS c_bigint,
       CASE WHEN i % 10 = 2 THEN NULL ELSE i / 7.0 END::DOUBLE AS c_double,
       CASE WHEN i % 10 = 3 THEN NULL ELSE CAST((i % 1000000) / 100.0 AS DECIMAL(18, 2)) END AS c_decimal,
       CASE WHEN i % 10 = 4 THEN NULL ELSE 'customer ' || (i % 50000) END AS c_varchar,
       CASE WHEN i % 10 = 5 THEN NULL ELSE DATE '2020-01-01' + CAST(i % 3000 AS INTEGER) END AS c_date,
       CASE WHEN i % 10 = 6 THEN NULL ELSE TIMESTAMP '2024-01-01' + to_seconds(i) END AS c_timestamp
FROM range({rows}) t(i)"""


def rss_now() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def start_peak() -> int:
    """Reset the RSS high-water mark (Linux >= 4.0) and return the RSS it starts from."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    return rss_now()


def peak_rss() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


# --- one side, in a fresh subprocess -----------------------------------------------------------------------
def side_e6magic(port: int, token: str, sql: str) -> tuple[float, object]:
    from e6magic.client import connect

    conn = connect(host="127.0.0.1", port=port, username="bench", password=token, catalog="demo", database="main")
    warm = conn.cursor()  # sign in and warm the code paths before the clock starts, as the other sides do
    warm.execute("SELECT 1 AS one")
    warm.fetch_df()
    warm.close()
    base = start_peak()
    start = time.perf_counter()
    cur = conn.cursor()
    cur.execute(sql)
    df = cur.fetch_df()
    elapsed = time.perf_counter() - start
    cur.close()
    conn.close()
    return elapsed, df, base


def side_official(port: int, token: str, sql: str) -> tuple[float, object, int]:
    import pandas as pd
    from e6data_python_connector import Connection

    conn = Connection(host="127.0.0.1", port=port, username="bench", password=token, catalog="demo",
                      database="main")
    warm = conn.cursor(catalog_name="demo", db_name="main")
    warm.execute("SELECT 1 AS one")
    pd.DataFrame(warm.fetchall())
    warm.clear()
    base = start_peak()
    start = time.perf_counter()
    cur = conn.cursor(catalog_name="demo", db_name="main")
    cur.execute(sql)
    rows = cur.fetchall()
    df = pd.DataFrame(rows, columns=[d[0] for d in cur.description])
    elapsed = time.perf_counter() - start
    cur.clear()
    conn.close()
    return elapsed, df, base


def side_duckdb(port: int, token: str, sql: str) -> tuple[float, object]:
    import duckdb

    db = duckdb.connect(":memory:")
    db.sql("SELECT 1 AS one").df()
    base = start_peak()
    start = time.perf_counter()
    df = db.sql(sql).df()
    elapsed = time.perf_counter() - start
    return elapsed, df, base


def run_side(name: str) -> None:
    import pandas  # noqa: F401 - imported before the baseline, by every side alike
    import pyarrow  # noqa: F401

    port, rows = int(sys.argv[3]), int(sys.argv[4])
    token = os.environ["E6_BENCH_TOKEN"]
    elapsed, df, base = {"e6magic": side_e6magic, "official": side_official, "duckdb": side_duckdb}[name](
        port, token, mixed_query(rows))
    peak = peak_rss() - base
    assert len(df) == rows and df.shape[1] == 6, df.shape
    print(json.dumps({"seconds": elapsed, "rows": rows, "peak_bytes": peak,
                      "df_bytes": int(df.memory_usage(deep=True).sum()),
                      "nulls": int(df.isna().sum().sum())}))


def in_subprocess(name: str, port: int, rows: int, token: str) -> dict:
    env = dict(os.environ, E6_BENCH_TOKEN=token, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, __file__, "--side", name, str(port), str(rows)], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"{name} side failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- strategy detection and RPC counts ---------------------------------------------------------------------
def strategy_costs(engine, runs: int = 20) -> dict:
    import grpc

    from e6magic.client import connect
    from e6magic.client import strategy as strategies

    class Counter(grpc.UnaryUnaryClientInterceptor):
        def __init__(self) -> None:
            self.methods: list[str] = []

        def intercept_unary_unary(self, continuation, details, request):
            self.methods.append(details.method.rsplit("/", 1)[-1])
            return continuation(details, request)

    def counted(counter: Counter):
        conn = connect(host="127.0.0.1", port=engine.port, username="bench", password=engine.token,
                       catalog="demo", database="main")
        conn._session.transport.bind(grpc.intercept_channel(conn._session.transport.channel, counter))
        return conn

    def first_sign_in(serving: str) -> float:
        engine.set_strategy(serving)
        strategies.reset_all()
        conn = connect(host="127.0.0.1", port=engine.port, username="bench", password=engine.token)
        start = time.perf_counter()
        conn.session_id
        elapsed = time.perf_counter() - start
        conn.close()
        return elapsed

    known = []
    for _ in range(runs):  # a known colour: one authenticate, no probe
        engine.set_strategy("blue")
        conn = connect(host="127.0.0.1", port=engine.port, username="bench", password=engine.token)
        conn._session.strategy.confirm("blue")
        start = time.perf_counter()
        conn.session_id
        known.append(time.perf_counter() - start)
        conn.close()
    blue = [first_sign_in("blue") for _ in range(runs)]
    green = [first_sign_in("green") for _ in range(runs)]  # the probe of blue is refused first
    engine.set_strategy("green")  # the worst first connection: blue is asked first and refused
    strategies.reset_all()
    cold, warm = Counter(), Counter()
    for counter in (cold, warm):
        conn = counted(counter)
        cur = conn.cursor()
        cur.execute("SELECT 1")
        cur.fetchall()
        cur.close()
        conn.close()
    engine.set_strategy("blue")
    median = statistics.median
    return {"known_ms": median(known) * 1e3, "detect_blue_ms": median(blue) * 1e3,
            "detect_green_ms": median(green) * 1e3, "cold_rpcs": cold.methods, "warm_rpcs": warm.methods}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--official-rows", type=int, default=None, help="default: --rows")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sides", default="duckdb,e6magic,official", help="comma-separated, in this order")
    args = parser.parse_args()
    sides = args.sides.split(",")
    official_rows = args.official_rows or args.rows

    with served_engine() as (port, token):
        print(f"engine 127.0.0.1:{port} (e6magic-engine serve); {args.runs} runs per side, median; "
              "query: 6 mixed columns, 10% nulls")
        results = {}
        plan = [(name, official_rows if name == "official" else args.rows) for name in sides]
        for name, rows in plan:
            runs = [in_subprocess(name, port, rows, token) for _ in range(args.runs)]
            best = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
            best["rows_per_s"] = best["rows"] / best["seconds"]
            results[name] = best
            worst = max(r["peak_bytes"] / r["df_bytes"] for r in runs)
            times = ", ".join(f"{r['seconds']:.2f}" for r in runs)
            print(f"{name:9s} {rows:>9,} rows  {best['seconds']:7.3f} s  {best['rows_per_s'] / 1e6:6.2f} M rows/s  "
                  f"peak +{best['peak_bytes'] / 2**20:7.1f} MiB  DataFrame {best['df_bytes'] / 2**20:6.1f} MiB  "
                  f"peak/df {best['peak_bytes'] / best['df_bytes']:.2f} (worst run {worst:.2f}); runs: {times} s")
    e6, off, duck = results.get("e6magic"), results.get("official"), results.get("duckdb")
    if e6 and off:
        print(f"e6magic vs official connector: {e6['rows_per_s'] / off['rows_per_s']:.1f}x faster (rows/s)")
    if e6 and duck:
        print(f"e6magic vs DuckDB in-process: {e6['seconds'] / duck['seconds'] * duck['rows'] / e6['rows']:.2f}x "
              f"DuckDB's time")
    if len(sides) < 3:
        return
    from e6magic.engine import LocalEngine

    with LocalEngine(host="127.0.0.1", port=0) as engine:
        costs = strategy_costs(engine)
    print(f"sign-in with a known colour {costs['known_ms']:.2f} ms; first connection detecting blue "
          f"{costs['detect_blue_ms']:.2f} ms, detecting green (blue refused first) {costs['detect_green_ms']:.2f} ms")
    print(f"RPCs, first query with no cached strategy (engine serving green): {costs['cold_rpcs']}")
    print(f"RPCs, next connection's query with the cached strategy: {costs['warm_rpcs']}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--side":
        run_side(sys.argv[2])
    else:
        main()
