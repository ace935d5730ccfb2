"""Blue/green, hard: 16 clients (threads, two processes, shared and own connections) while the engine flips colour.

Every client runs queries with a known answer and checks each row; a query that raises is `failed`, one that
returns anything else is `wrong`. Afterwards no connection may hold a colour pin and the engine may hold no query.

    .venv/bin/python bench/bench_bluegreen.py [--seconds 60] [--interval 0.1]

The engine is `e6magic-engine serve --bluegreen-interval S` in its own process; `tests/reliability/
test_bluegreen_hard.py` runs the same load for ~10 s against the in-process engine (`LocalEngine(bluegreen_interval=)`).
The token reaches the worker processes through the environment, never their command line.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from e6magic.client import connect  # noqa: E402 - after the repo root is on the path

TOKEN_ENV = "E6MAGIC_BENCH_TOKEN"
SHARED, OWN = 2, 2  # threads per process on one shared connection, threads with a connection each
PROCESSES = 2  # worker processes, each SHARED + OWN clients; the parent runs 2 * (SHARED + OWN) itself
SQL = "SELECT i, 'v' || i AS s FROM range(%(c)s) t(i) ORDER BY i"


def _connect(port: int, token: str) -> Any:
    return connect(host="127.0.0.1", port=port, username="bluegreen", password=token, catalog="demo",
                   database="main", timeout=60)


def run_clients(port: int, token: str, seconds: float, shared: int, own: int) -> dict[str, Any]:
    """`shared` threads on one connection and `own` threads on one each, for `seconds`; the tally."""
    tally: Counter[str] = Counter()
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    shared_conn = _connect(port, token)
    conns = [shared_conn] * shared + [_connect(port, token) for _ in range(own)]

    def client(index: int, conn: Any) -> None:
        cur = conn.cursor()
        n = 0
        while time.monotonic() < deadline:
            count = 200 + 37 * (n % 11) + index
            n += 1
            try:
                cur.execute(SQL, {"c": count})
                rows = cur.fetchall()
            except Exception as exc:  # noqa: BLE001 - counted and reported
                with lock:
                    tally["failed"] += 1
                    if len(errors) < 10:
                        errors.append(f"{type(exc).__name__} in {getattr(exc, 'method', None)}: {exc}")
                continue
            right = len(rows) == count and all(r[0] == i and r[1] == f"v{i}" for i, r in enumerate(rows))
            with lock:
                tally["ok" if right else "wrong"] += 1
        cur.close()

    threads = [threading.Thread(target=client, args=(i, c), name=f"bg-client-{i}") for i, c in enumerate(conns)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    pinned = sum(len(c._session.strategy.pinned()) for c in {id(c): c for c in conns}.values())
    for conn in {id(c): c for c in conns}.values():
        conn.close()
    return {"clients": len(conns), "ok": tally["ok"], "failed": tally["failed"], "wrong": tally["wrong"],
            "pinned": pinned, "errors": errors, "stuck": sum(t.is_alive() for t in threads)}


def run(port: int, token: str, seconds: float) -> dict[str, Any]:
    """The whole load: 2 worker processes and this one, 16 clients in all; the summed tally."""
    env = dict(os.environ, **{TOKEN_ENV: token}, PYTHONPATH=ROOT)
    workers = [subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", "--port", str(port),
                                 "--seconds", str(seconds)], env=env, stdout=subprocess.PIPE, text=True)
               for _ in range(PROCESSES)]
    parts = [run_clients(port, token, seconds, 2 * SHARED, 2 * OWN)]
    for proc in workers:
        out, _ = proc.communicate(timeout=seconds + 180)
        parts.append(json.loads(out.strip().splitlines()[-1]) if proc.returncode == 0 else
                     {"clients": 0, "ok": 0, "failed": 1, "wrong": 0, "pinned": 0, "stuck": 0,
                      "errors": [f"worker exited {proc.returncode}"]})
    keys = ("clients", "ok", "failed", "wrong", "pinned", "stuck")
    total: dict[str, Any] = {k: sum(p[k] for p in parts) for k in keys}
    total["errors"] = [e for p in parts for e in p["errors"]][:10]
    total["processes"] = 1 + PROCESSES
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between colour flips")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_clients(args.port, os.environ[TOKEN_ENV], args.seconds, SHARED, OWN)))
        return
    from served import served_engine  # bench/ is the script folder

    with served_engine("--bluegreen-interval", str(args.interval)) as (port, token):
        started = time.monotonic()
        total = run(port, token, args.seconds)
        total["seconds"] = round(time.monotonic() - started, 1)
    total["flips"] = int(args.seconds / args.interval)
    print(json.dumps(total, indent=1))
    sys.exit(0 if total["failed"] == total["wrong"] == total["pinned"] == total["stuck"] == 0 else 1)


if __name__ == "__main__":
    main()
