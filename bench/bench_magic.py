"""Overhead of `%%e6sql` over calling the client directly, against the local engine on loopback.

Two cases, each run interleaved (client, magic, client, magic, ...) in one process so both sides
see the same machine load:
  * a one-row query: target < 2 ms median overhead per cell;
  * a 1M-row export to a pandas DataFrame: target < 10 % overhead.

    .venv/bin/python bench/bench_magic.py [--small-runs 200] [--big-runs 5] [--rows 1000000]
"""
from __future__ import annotations

import argparse
import statistics
import time

from IPython.core.interactiveshell import InteractiveShell

from e6magic.client import connect
from e6magic.engine import LocalEngine

ONE_ROW = "SELECT 1 AS one"


def big_query(rows: int) -> str:
    return f"SELECT range AS id, range * 0.5 AS x, 'row' || range AS label FROM range({rows})"


def measure(label: str, client_call, magic_call, runs: int) -> tuple[float, float]:
    client_times, magic_times = [], []
    client_call(), magic_call()  # warm both paths (connections, imports, caches)
    for _ in range(runs):
        start = time.perf_counter()
        client_call()
        client_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        magic_call()
        magic_times.append(time.perf_counter() - start)
    client_median, magic_median = statistics.median(client_times), statistics.median(magic_times)
    print(f"{label}: client median {client_median * 1e3:.2f} ms, %%e6sql median {magic_median * 1e3:.2f} ms, "
          f"overhead {(magic_median - client_median) * 1e3:+.2f} ms ({(magic_median / client_median - 1) * 100:+.1f} %), "
          f"{runs} runs each")
    return client_median, magic_median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-runs", type=int, default=200)
    parser.add_argument("--big-runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    with LocalEngine(host="127.0.0.1", port=0) as engine:
        conn = connect(host="127.0.0.1", port=engine.port, username="bench@example.com", password=engine.token)
        shell = InteractiveShell.instance()
        shell.run_cell("%load_ext e6magic")
        for setting in ("widgets = False", "progress = False", "feedback = 0"):
            shell.run_cell(f"%config E6Magic.{setting}")
        shell.run_cell(f"%e6sql --connect --host 127.0.0.1 --port {engine.port} --token {engine.token.reveal()}")

        def run_cell(source: str) -> None:
            result = shell.run_cell(source, store_history=False, silent=True)
            result.raise_error()

        # the baseline closes its cursor (clears the query on the engine), as the magic does
        def client_small() -> None:
            with conn.cursor() as cur:
                cur.execute(ONE_ROW)
                cur.fetch_df()

        def client_big() -> None:
            with conn.cursor() as cur:
                cur.execute(big_query(args.rows))
                cur.fetch_df()

        print(f"engine {engine.address}; python {__import__('sys').version.split()[0]}")
        measure("one-row query", client_small, lambda: run_cell(f"%%e6sql x <<\n{ONE_ROW}"), args.small_runs)
        measure(f"{args.rows:,}-row export to pandas", client_big,
                lambda: run_cell(f"%%e6sql df <<\n{big_query(args.rows)}"), args.big_runs)
        shell.run_cell("%unload_ext e6magic")
        conn.close()


if __name__ == "__main__":
    main()
