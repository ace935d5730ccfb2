"""Benchmark what reading e6data string literals adds to a query on the local engine (engine/literals.py).

Run: .venv/bin/python bench/bench_literals.py [--repeats 7] [--loops 200]
Prints a markdown table (medians of interleaved repeats, microseconds per query). Baseline in the same run:
DuckDB's `extract_statements` of the same text, which the engine's prepare already does for every query. The
sqlglot tokenizer (optional; skipped where sqlglot is missing) is timed on the same text for comparison: it is
what reading the literals with a library tokenizer would cost at least.
"""
from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import time

import duckdb

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from e6magic.client.params import bind
from e6magic.engine.literals import to_duckdb

PLAIN = ("SELECT o.order_id, c.name, sum(o.amount) AS total FROM orders o JOIN customers c "
         "ON o.customer_id = c.customer_id WHERE c.region = 'North' AND o.status <> 'it''s' "
         "GROUP BY 1, 2 ORDER BY total DESC LIMIT 100 -- a comment")
BOUND = bind("SELECT * FROM customers WHERE name IN %s AND region = %s",
             (tuple(f"C:\\users\\{i}\\it's" for i in range(20)), "North\\South"))
LINES = ("lorem ipsum dolor sit amet " * 3 + "\\n") * 12_500  # ~1 MB of text as the official connector sends it
PROSE = f"SELECT length('{LINES}')"  # a line break (escaped) every 82 characters
DENSE = bind("SELECT length(%s)", ("x\\y'" * 250_000,))  # 1 MB value, an escape every 2 characters (worst case)
CASES = {"plain query, no backslash (fast path)": PLAIN, "20 bound strings with backslashes": BOUND,
         "1 MB of text, an escaped line break per 82 chars": PROSE, "1 MB value, an escape per 2 chars": DENSE}


def _per_query(fn, text: str, loops: int) -> float:
    started = time.perf_counter()
    for _ in range(loops):
        fn(text)
    return (time.perf_counter() - started) / loops * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--loops", type=int, default=200)
    args = parser.parse_args()
    try:
        from sqlglot.tokens import Tokenizer

        tokenize = Tokenizer().tokenize
    except ImportError:
        tokenize = None
    db = duckdb.connect()
    print("| query | `to_duckdb` µs | baseline `extract_statements` µs | ratio | sqlglot `tokenize` µs |")
    print("|---|---|---|---|---|")
    for name, text in CASES.items():
        loops = max(1, args.loops // 100) if len(text) > 100_000 else args.loops
        ours, base, glot = [], [], []
        for _ in range(args.repeats):  # interleaved, so load on the shared machine hits all three alike
            ours.append(_per_query(to_duckdb, text, loops))
            base.append(_per_query(db.extract_statements, to_duckdb(text), loops))
            if tokenize is not None:
                glot.append(_per_query(tokenize, text, loops))
        o, b = statistics.median(ours), statistics.median(base)
        g = f"{statistics.median(glot):,.1f}" if glot else "n/a"
        print(f"| {name} ({len(text):,} chars) | {o:,.1f} | {b:,.1f} | {o / b:.2f}x | {g} |")


if __name__ == "__main__":
    main()
