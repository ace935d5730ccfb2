"""Time to a DataFrame on every result shape of tests/shapes.py: e6magic's fetch_df, served engine, vs DuckDB's .df().

    .venv/bin/python bench/bench_shapes.py [--runs 3] [--scale 1.0] [--shapes text_mid,orders,...]
                                           [--official text_mid,lineitem,orders] [--official-rows 100000]
                                           [--stages] [--memory] [--first-rows 5] [--startup 15]

One `e6magic-engine serve` process (as a server runs). For every shape and run, DuckDB in-process
`db.sql(q).df()` and e6magic `cur.execute(q); cur.fetch_df()` each run in a fresh subprocess, the two
interleaved (the order flips run by run); medians. The official connector 3.0.2 (`fetchall()` +
`pd.DataFrame`) runs the `--official` shapes on `--official-rows` rows (a LIMIT), compared by rows/s.

Memory: each side's RSS high-water mark (VmHWM, reset through /proc/self/clear_refs just before the
query, after the same query's first 1,000 rows warmed the code paths) minus its RSS at that moment,
against the final DataFrame's `memory_usage(deep=True)`. RSS and not tracemalloc: Arrow allocates from
its own pool (jemalloc/mimalloc), which tracemalloc never sees, and the client's peak is mostly Arrow
buffers. A fresh process per measurement keeps one run's freed memory from hiding the next run's peak.

`--stages` splits e6magic's time per shape, each measured alone in one process: the engine's DuckDB
query (the same SQL to Arrow in process, what the engine runs before it answers), the client's own
timings (prepare; execution = until the metadata arrives; fetch = streaming with decode overlapped),
the raw transport (every V2 envelope received, nothing decoded), decode (`decode_chunk` of those
bytes) and frame build (`build_frame` of the decoded batches). `--memory` adds e6magic's peak receiving the
result with the plain stubs (nothing decoded) and receiving + decoding it (no DataFrame), beside `fetch_df`'s.
`--startup N` times `import e6magic`
and `%load_ext e6magic` in N fresh interpreters each.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # shapes.py: the one list the tests check too

import bench_client  # noqa: E402 - after the path set-up
from bench_client import peak_rss, start_peak  # noqa: E402 - after the path set-up
from served import served_engine  # noqa: E402 - after the path set-up
from shapes import BY_NAME, SHAPES, Shape  # noqa: E402 - after the path set-up

OFFICIAL_DEFAULT = "text_mid,lineitem,orders"


def shape_sql(shape: Shape, rows: int, limit: int | None = None) -> str:
    sql = shape.query(rows)
    return f"SELECT * FROM ({sql}) q LIMIT {limit}" if limit else sql


def warm_sql(sql: str) -> str:
    """The first 1,000 rows of the same query: a side runs it first, so the peak measured is the query's and not
    the code each type's path loads on first use (+5.6-5.8 MiB once per process, measured with SELECT 1 and the
    demo all_types), as in a session past its first query."""
    return f"SELECT * FROM ({sql}) q LIMIT 1000"


def duckdb_with_demo():
    import duckdb

    from e6magic.engine.catalog import build_demo

    db = duckdb.connect(":memory:")
    build_demo(db)
    return db


# --- one side, in a fresh subprocess --------------------------------------------------------------------------
def side_duckdb(port: int, token: str, sql: str) -> dict:
    db = duckdb_with_demo()
    db.sql(warm_sql(sql)).df()
    base = start_peak()
    start = time.perf_counter()
    df = db.sql(sql).df()
    return {"seconds": time.perf_counter() - start, "df": df, "base": base}


def side_e6magic(port: int, token: str, sql: str) -> dict:
    from e6magic.client import connect

    conn = connect(host="127.0.0.1", port=port, username="bench", password=token, catalog="demo", database="main")
    with conn.cursor() as warm:  # sign in and warm the code paths, as the other sides do
        warm.execute(warm_sql(sql))
        warm.fetch_df()
    base = start_peak()
    start = time.perf_counter()
    cur = conn.cursor()
    cur.execute(sql)
    df = cur.fetch_df()
    elapsed = time.perf_counter() - start
    timings = dict(cur.handle.timings)
    cur.close()
    conn.close()
    return {"seconds": elapsed, "df": df, "base": base, "timings": timings}


def side_official(port: int, token: str, sql: str) -> dict:
    seconds, df, base = bench_client.side_official(port, token, sql)
    return {"seconds": seconds, "df": df, "base": base}


def side_stages(port: int, token: str, sql: str) -> dict:
    """e6magic's time taken apart, each stage alone: see the module docstring."""
    import grpc
    import pyarrow as pa

    from e6magic._proto import e6x_engine_pb2 as pb
    from e6magic._proto import e6x_engine_pb2_grpc as pb_grpc
    from e6magic.client.frame import build_frame
    from e6magic.wire import decode_chunk, decode_metadata

    db = duckdb_with_demo()
    db.execute(sql).to_arrow_table()  # warm
    start = time.perf_counter()
    table = db.execute(sql).to_arrow_table()
    engine_query = time.perf_counter() - start
    del table
    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", -1)])
    stub = pb_grpc.QueryEngineServiceStub(channel)
    sid = stub.authenticate(pb.AuthenticateRequest(user="bench", password=token)).sessionId
    asked = time.perf_counter()
    qid = stub.prepareStatementV2(pb.PrepareStatementV2Request(sessionId=sid, catalog="demo", schema="main",
                                                               queryString=sql)).queryId
    stub.executeStatementV2(pb.ExecuteStatementV2Request(sessionId=sid, queryId=qid))
    meta = stub.getResultMetadata(pb.GetResultMetadataRequest(sessionId=sid, queryId=qid))
    ran = time.perf_counter()
    chunks = []
    while True:
        response = stub.getNextResultBatchV2(pb.GetNextResultBatchRequest(sessionId=sid, queryId=qid))
        chunks.extend(response.resultBatches)
        if response.endOfStream:
            break
    streamed = time.perf_counter()
    stub.clear(pb.ClearRequest(sessionId=sid, queryId=qid))
    metadata = decode_metadata(meta.resultMetaData)
    start = time.perf_counter()
    batches = [decode_chunk(c, metadata) for c in chunks if c]
    decode = time.perf_counter() - start
    schema = batches[0].schema if batches else pa.schema([])
    start = time.perf_counter()
    df = build_frame(iter(batches), schema, rows=metadata.row_count)
    frame = time.perf_counter() - start
    channel.close()
    return {"engine_query": engine_query, "until_metadata": ran - asked, "transport": streamed - ran,
            "decode": decode, "frame": frame, "wire_bytes": sum(len(c) for c in chunks), "df": df, "base": 0}


def side_memory_raw(port: int, token: str, sql: str) -> dict:
    """Peak RSS receiving every V2 response with the plain stubs (gRPC, protobuf), nothing decoded or kept."""
    import grpc

    from e6magic._proto import e6x_engine_pb2 as pb
    from e6magic._proto import e6x_engine_pb2_grpc as pb_grpc

    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", -1)])
    stub = pb_grpc.QueryEngineServiceStub(channel)
    sid = stub.authenticate(pb.AuthenticateRequest(user="bench", password=token)).sessionId

    def receive(query: str) -> int:
        qid = stub.prepareStatementV2(pb.PrepareStatementV2Request(sessionId=sid, catalog="demo", schema="main",
                                                                   queryString=query)).queryId
        stub.executeStatementV2(pb.ExecuteStatementV2Request(sessionId=sid, queryId=qid))
        stub.getResultMetadata(pb.GetResultMetadataRequest(sessionId=sid, queryId=qid))
        wire = 0
        while True:
            response = stub.getNextResultBatchV2(pb.GetNextResultBatchRequest(sessionId=sid, queryId=qid))
            wire += sum(len(c) for c in response.resultBatches)
            if response.endOfStream:
                stub.clear(pb.ClearRequest(sessionId=sid, queryId=qid))
                return wire
            del response

    receive(warm_sql(sql))
    base = start_peak()
    wire = receive(sql)
    peak = peak_rss() - base
    channel.close()
    import pandas as pd

    return {"memory_raw": peak, "wire_bytes": wire, "df": pd.DataFrame(), "base": 0}


def side_memory_decode(port: int, token: str, sql: str) -> dict:
    """Peak RSS of the client reading and decoding every batch (its prefetch included), each dropped."""
    from e6magic.client import connect

    conn = connect(host="127.0.0.1", port=port, username="bench", password=token, catalog="demo", database="main")
    with conn.cursor() as warm:
        warm.execute(warm_sql(sql))
        sum(b.num_rows for b in warm.fetch_batches())
    base = start_peak()
    cur = conn.cursor()
    cur.execute(sql)
    rows = sum(b.num_rows for b in cur.fetch_batches())
    peak = peak_rss() - base
    cur.close()
    conn.close()
    import pandas as pd

    return {"memory_decode": peak, "df": pd.DataFrame(index=range(rows)), "base": 0}


def side_first_rows(port: int, token: str, sql: str) -> dict:
    """Time to first rows: `execute` returning (metadata known), the first decoded batch, and the grid's
    first page ready to send (made, first batch appended, the page update's JSON), then the rest drained."""
    from bench_widgets import page_message

    from e6magic.client import connect
    from e6magic.widgets import ResultGrid

    conn = connect(host="127.0.0.1", port=port, username="bench", password=token, catalog="demo", database="main")
    with conn.cursor() as warm:
        warm.execute(warm_sql(sql))
        ResultGrid(warm.fetch_arrow().schema, page_size=50)
    marks = _mark_first_rows()
    start = time.perf_counter()
    cur = conn.cursor()
    cur.execute(sql)
    executed = time.perf_counter()
    batches = cur.fetch_batches()
    first = next(batches)
    batch_at = time.perf_counter()
    grid = ResultGrid(first.schema, page_size=50)
    grid.append(first)
    page_message(grid)
    page_at = time.perf_counter()
    rows = first.num_rows + sum(b.num_rows for b in batches)
    timings = dict(cur.handle.timings)
    cur.close()
    conn.close()
    import pandas as pd

    steps = {k: v - start for k, v in marks.items()}
    return {"execute": executed - start, "first_batch": batch_at - start, "first_page": page_at - start,
            "timings": timings, "steps": steps, "df": pd.DataFrame(index=range(rows)), "base": 0}


def _mark_first_rows() -> dict[str, float]:
    """When the metadata and the first V2 response came back, and when the first chunk's decode began and
    ended (client clock): the client's calls and decode wrapped for this process only."""
    from e6magic.client import query

    marks: dict[str, float] = {}
    call, decode = query.QueryHandle._call, query.decode_chunk

    def timed_call(self, method, make_request, **options):
        answer = call(self, method, make_request, **options)
        marks.setdefault(method, time.perf_counter())
        return answer

    def timed_decode(payload, metadata):
        marks.setdefault("decode started", time.perf_counter())
        batch = decode(payload, metadata)
        marks.setdefault("decoded", time.perf_counter())
        return batch

    query.QueryHandle._call, query.decode_chunk = timed_call, timed_decode
    return marks


SIDES = {"duckdb": side_duckdb, "first_rows": side_first_rows, "e6magic": side_e6magic, "official": side_official,
         "stages": side_stages, "memory_raw": side_memory_raw, "memory_decode": side_memory_decode}


def run_side(argv: list[str]) -> None:
    import pandas  # noqa: F401 - imported before the baseline, by every side alike
    import pyarrow  # noqa: F401

    name, port, sql = argv[0], int(argv[1]), argv[2]
    out = SIDES[name](port, os.environ["E6_BENCH_TOKEN"], sql)
    df = out.pop("df")
    base = out.pop("base")
    if name in ("duckdb", "e6magic", "official"):
        out["peak_bytes"] = peak_rss() - base
    out["rows"] = len(df)
    out["df_bytes"] = int(df.memory_usage(deep=True).sum())
    print(json.dumps(out))


def in_subprocess(name: str, port: int, token: str, sql: str) -> dict:
    env = dict(os.environ, E6_BENCH_TOKEN=token, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, __file__, "--side", name, str(port), sql], env=env, cwd=ROOT, check=False,
                         capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"{name} side failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- start-up ---------------------------------------------------------------------------------------------
STARTUP = {
    "python -c pass (baseline)": "pass",
    "import e6magic": "import e6magic",
    "%load_ext e6magic": "from IPython.core.interactiveshell import InteractiveShell\n"
                         "shell = InteractiveShell.instance()\n"
                         "import time; t = time.perf_counter()\n"
                         "shell.run_line_magic('load_ext', 'e6magic')\n"
                         "print('LOAD', time.perf_counter() - t)",
    "%load_ext e6magic, asyncio already loaded (as in a Jupyter kernel)":
        "import asyncio\nfrom IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "import time; t = time.perf_counter()\n"
        "shell.run_line_magic('load_ext', 'e6magic')\n"
        "print('LOAD', time.perf_counter() - t)",
    "import e6magic; e6magic.connect (client loaded)": "import e6magic; e6magic.connect",
}


def startup(runs: int) -> dict[str, float]:
    """Median wall time of a fresh interpreter running each snippet (interleaved); for %load_ext, the
    magic's own time inside an IPython shell that is already up. With bytecode cached (in a prefix of its own),
    as a pip-installed package has it: this machine sets PYTHONDONTWRITEBYTECODE, so a worktree's modules were
    compiled afresh in every interpreter (site-packages keep their own cache either way)."""
    import tempfile

    times: dict[str, list[float]] = {k: [] for k in STARTUP}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="e6-pycache-")
    for code in STARTUP.values():  # fills the cache
        subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, cwd=ROOT, timeout=120, env=env)
    for _ in range(runs):
        for label, code in STARTUP.items():
            start = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 cwd=ROOT, timeout=120, env=env)
            elapsed = time.perf_counter() - start
            loaded = [line for line in out.stdout.splitlines() if line.startswith("LOAD ")]
            times[label].append(float(loaded[0].split()[1]) if loaded else elapsed)
    return {label: statistics.median(values) for label, values in times.items()}


def median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every shape's row count")
    parser.add_argument("--shapes", default=",".join(s.name for s in SHAPES))
    parser.add_argument("--official", default=OFFICIAL_DEFAULT, help="shapes the official connector runs ('' none)")
    parser.add_argument("--official-rows", type=int, default=100_000)
    parser.add_argument("--stages", action="store_true", help="take e6magic's time apart per shape")
    parser.add_argument("--first-rows", type=int, default=0, help="runs of the time-to-first-rows measurement")
    parser.add_argument("--startup", type=int, default=0, help="fresh interpreters per start-up measurement")
    parser.add_argument("--memory", action="store_true", help="e6magic's peak memory without decode, without frame")
    args = parser.parse_args()
    names = [n for n in args.shapes.split(",") if n]
    official = [n for n in args.official.split(",") if n]

    rows_table, stage_table, memory_table = [], [], []
    with served_engine() as (port, token):
        print(f"engine 127.0.0.1:{port} (e6magic-engine serve); {args.runs} runs per side, median, interleaved",
              flush=True)
        for name in names:
            shape = BY_NAME[name]
            rows = shape.rows if shape.fixed_rows else max(1, int(shape.rows * args.scale))
            sql = shape_sql(shape, rows)
            runs: dict[str, list[dict]] = {"duckdb": [], "e6magic": []}
            for r in range(args.runs):
                for side in (("duckdb", "e6magic") if r % 2 == 0 else ("e6magic", "duckdb")):
                    runs[side].append(in_subprocess(side, port, token, sql))
            duck, e6 = median_run(runs["duckdb"]), median_run(runs["e6magic"])
            assert duck["rows"] == e6["rows"], (name, duck["rows"], e6["rows"])
            worst_peak = max(r["peak_bytes"] / r["df_bytes"] for r in runs["e6magic"])
            line = {"shape": name, "rows": e6["rows"], "duckdb": duck["seconds"], "e6magic": e6["seconds"],
                    "vs_duckdb": e6["seconds"] / duck["seconds"], "df_mib": e6["df_bytes"] / 2**20,
                    "peak_mib": e6["peak_bytes"] / 2**20, "peak_ratio": e6["peak_bytes"] / e6["df_bytes"],
                    "worst_peak_ratio": worst_peak, "duck_peak_ratio": duck["peak_bytes"] / duck["df_bytes"],
                    "timings": e6["timings"], "e6_runs": [r["seconds"] for r in runs["e6magic"]],
                    "duck_runs": [r["seconds"] for r in runs["duckdb"]]}
            if name in official:
                off_sql = shape_sql(shape, rows, limit=min(rows, args.official_rows))
                off = median_run([in_subprocess("official", port, token, off_sql)
                                  for _ in range(max(1, args.runs // 2))])
                line["official_rows_s"] = off["rows"] / off["seconds"]
                line["vs_official"] = (e6["rows"] / e6["seconds"]) / line["official_rows_s"]
            rows_table.append(line)
            t = e6["timings"]
            print(f"{name:10s} {e6['rows']:>9,} rows  duckdb {duck['seconds']:.3f} s  e6magic {e6['seconds']:.3f} s "
                  f"({line['vs_duckdb']:.2f}x)  peak {line['peak_ratio']:.2f} (worst {worst_peak:.2f}) of "
                  f"{line['df_mib']:.1f} MiB"
                  + (f"  official {line['official_rows_s'] / 1e3:.1f} k rows/s ({line['vs_official']:.1f}x)"
                     if "vs_official" in line else "")
                  + f"  [prepare {t.get('prepare', 0):.3f} execution {t.get('execution', 0):.3f} "
                    f"fetch {t.get('fetch', 0):.3f}]", flush=True)
            if args.memory:
                raw = in_subprocess("memory_raw", port, token, sql)
                dec = in_subprocess("memory_decode", port, token, sql)
                memory_table.append({"shape": name, "df": e6["df_bytes"], "fetch_df": e6["peak_bytes"],
                                     "raw": raw["memory_raw"], "decode": dec["memory_decode"]})
                print(f"{'':10s} memory: receiving only +{raw['memory_raw'] / 2**20:.1f} MiB, receiving and "
                      f"decoding +{dec['memory_decode'] / 2**20:.1f} MiB, fetch_df +{e6['peak_bytes'] / 2**20:.1f} MiB",
                      flush=True)
            if args.stages:
                st = in_subprocess("stages", port, token, sql)
                stage_table.append({"shape": name, **st})
                print(f"{'':10s} stages: engine's DuckDB query {st['engine_query']:.3f} s, transport "
                      f"{st['transport']:.3f} s ({st['wire_bytes'] / 2**20:.1f} MiB), decode {st['decode']:.3f} s, "
                      f"frame build {st['frame']:.3f} s", flush=True)
        if args.first_rows:
            firsts = [in_subprocess("first_rows", port, token, BY_NAME["orders"].query(0))
                      for _ in range(args.first_rows)]
    print()
    print("| shape | rows | DuckDB `.df()` s | e6magic `fetch_df` s | e6magic / DuckDB | official (rows/s) | "
          "e6magic / official | peak / DataFrame (worst run) | DataFrame MiB | peak - DataFrame MiB | "
          "DuckDB's peak / DataFrame |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for line in rows_table:
        off = (f"{line['official_rows_s'] / 1e3:.1f} k | **{line['vs_official']:.1f}x**" if "vs_official" in line
               else " | ")
        print(f"| {line['shape']} | {line['rows']:,} | {line['duckdb']:.3f} | {line['e6magic']:.3f} | "
              f"**{line['vs_duckdb']:.2f}x** | {off} | **{line['peak_ratio']:.2f}** ({line['worst_peak_ratio']:.2f}) | "
              f"{line['df_mib']:.1f} | {line['peak_mib'] - line['df_mib']:+.1f} | {line['duck_peak_ratio']:.2f} |")
    if stage_table:
        print()
        print("| shape | engine's DuckDB query (in process) s | transport (raw V2, nothing decoded) s | decode s | "
              "frame build s | wire MiB |")
        print("|---|---|---|---|---|---|")
        for st in stage_table:
            print(f"| {st['shape']} | {st['engine_query']:.3f} | {st['transport']:.3f} | {st['decode']:.3f} | "
                  f"{st['frame']:.3f} | {st['wire_bytes'] / 2**20:.1f} |")
    if memory_table:
        print()
        print("| shape | DataFrame MiB | peak receiving only (plain stubs, nothing kept) | peak receiving + decoding "
              "(batches dropped) | `fetch_df` peak | `fetch_df` peak / DataFrame |")
        print("|---|---|---|---|---|---|")
        for m in memory_table:
            print(f"| {m['shape']} | {m['df'] / 2**20:.1f} | +{m['raw'] / 2**20:.1f} MiB | "
                  f"+{m['decode'] / 2**20:.1f} MiB | +{m['fetch_df'] / 2**20:.1f} MiB | "
                  f"{m['fetch_df'] / max(m['df'], 1):.2f} |")
    if args.first_rows:
        med = {k: statistics.median(f[k] for f in firsts) for k in ("execute", "first_batch", "first_page")}
        engine = statistics.median(f["timings"]["execution"] for f in firsts)
        print()
        print(f"| SELECT * FROM orders ({firsts[0]['rows']:,} rows), median of {len(firsts)} | ms |")
        print("|---|---|")
        print(f"| `execute()` returns (metadata answered: the engine has read its first two batches) | "
              f"{med['execute'] * 1e3:.0f} |")
        print(f"| of which waiting for the metadata (`getResultMetadata`) | {engine * 1e3:.0f} |")
        for step, label in (("getNextResultBatchV2", "first V2 response received (first chunk encoded and sent)"),
                            ("decode started", "its decode starts (fetcher thread)"),
                            ("decoded", "first chunk decoded")):
            print(f"| {label} | {statistics.median(f['steps'].get(step, 0) for f in firsts) * 1e3:.0f} |")
        print(f"| first batch in the reader's hands | {med['first_batch'] * 1e3:.0f} |")
        print(f"| first grid page ready to send | {med['first_page'] * 1e3:.0f} |")
    if args.startup:
        print()
        print(f"| start-up (median of {args.startup} fresh interpreters) | seconds |")
        print("|---|---|")
        for label, seconds in startup(args.startup).items():
            print(f"| {label} | {seconds * 1e3:.0f} ms |")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--side":
        run_side(sys.argv[2:])
    else:
        main()
