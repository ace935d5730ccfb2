"""Benchmark the local engine's result streaming (getNextResultBatchV2 over loopback) against DuckDB's Arrow export.

Run: .venv/bin/python bench/bench_engine.py [--rows 1000000] [--repeats 5] [--no-write]
Prints a markdown table and writes it under "## Engine" in docs/benchmarks.md. Two `e6magic-engine serve`
processes with the default chunking, one as it starts (freed memory kept for reuse) and one with
`--return-freed-memory` (glibc's default), are asked in turn; this process only receives the bytes (decode is
not counted: bench_wire.py measures it).
"""
from __future__ import annotations

import argparse
import datetime
import pathlib
import platform
import statistics
import sys
import time

import duckdb
import grpc

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from e6magic._proto import e6x_engine_pb2 as pb  # noqa: E402
from e6magic._proto import e6x_engine_pb2_grpc as pb_grpc  # noqa: E402
from mixed_data import MIXED_QUERY  # noqa: E402 - bench/ is the script folder
from served import served_engine  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Engine"
QUERY = MIXED_QUERY  # the same mixed-type data as the wire benchmark


def duckdb_export(sql: str) -> tuple[float, int]:
    con = duckdb.connect()
    started = time.perf_counter()
    table = con.execute(sql).to_arrow_table()
    return time.perf_counter() - started, table.num_rows


def engine_stream(stub, sid: str, sql: str) -> dict:
    """Submit, wait for the metadata (the query has run), then receive every V2 envelope; nothing is decoded."""
    started = time.perf_counter()
    qid = stub.prepareStatementV2(pb.PrepareStatementV2Request(sessionId=sid, queryString=sql)).queryId
    stub.executeStatementV2(pb.ExecuteStatementV2Request(sessionId=sid, queryId=qid))
    stub.getResultMetadata(pb.GetResultMetadataRequest(sessionId=sid, queryId=qid))
    ran = time.perf_counter()
    received = chunks = envelopes = 0
    while True:
        response = stub.getNextResultBatchV2(pb.GetNextResultBatchRequest(sessionId=sid, queryId=qid))
        envelopes += 1
        chunks += len(response.resultBatches)
        received += sum(len(c) for c in response.resultBatches)
        if response.endOfStream:
            break
    ended = time.perf_counter()
    stub.clear(pb.ClearRequest(sessionId=sid, queryId=qid))
    return {"total": ended - started, "stream": ended - ran, "bytes": received, "chunks": chunks,
            "envelopes": envelopes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    sql = QUERY.format(rows=args.rows)

    baseline = min(duckdb_export(sql)[0] for _ in range(args.repeats))
    runs: dict[str, list[dict]] = {"kept": [], "returned": []}
    with served_engine("--no-demo") as kept, served_engine("--no-demo", "--return-freed-memory") as back:
        stubs = {}
        for name, (port, token) in (("kept", kept), ("returned", back)):
            channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", -1)])
            stub = pb_grpc.QueryEngineServiceStub(channel)
            stubs[name] = (channel, stub, stub.authenticate(pb.AuthenticateRequest(user="bench", password=token)).sessionId)
        for _ in range(args.repeats):  # interleaved, so both see the same machine
            for name, (_, stub, sid) in stubs.items():
                runs[name].append(engine_stream(stub, sid, sql))
        for channel, _, _ in stubs.values():
            channel.close()
    best = {name: {key: statistics.median(r[key] for r in rs) for key in ("total", "stream")} for name, rs in runs.items()}
    last = runs["kept"][-1]
    rows = args.rows
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = ".venv/bin/python bench/bench_engine.py" + (f" --rows {rows}" if rows != 1_000_000 else "")
    lines = [
        SECTION,
        "",
        f"Command: `{command}` (CPython {platform.python_version()}, {when}; baseline best of {args.repeats}, "
        f"engine medians of {args.repeats} interleaved runs; shared 2-core machine).",
        "Data: the wire benchmark's query (BIGINT, DOUBLE, DECIMAL(18,2), VARCHAR, DATE, TIMESTAMP, ~10% NULLs each), "
        "run by `e6magic-engine serve` in its own process (default chunking) and received raw over loopback gRPC "
        "with `getNextResultBatchV2` (not decoded).",
        "",
        "| measurement | rows | seconds | throughput | vs baseline |",
        "|---|---|---|---|---|",
        f"| baseline: DuckDB `execute(sql).to_arrow_table()` in process | {rows:,} | {baseline:.3f} | "
        f"{rows / baseline / 1e6:.2f} M rows/s | 1.00x |",
    ]
    for name, label in (("kept", "freed memory kept for reuse (the default)"),
                        ("returned", "`--return-freed-memory` (glibc's default)")):
        total, stream = best[name]["total"], best[name]["stream"]
        lines += [
            f"| engine, {label}: prepare + execute + metadata + every V2 envelope | {rows:,} | {total:.3f} | "
            f"{rows / total / 1e6:.2f} M rows/s | {baseline / total:.2f}x the export rate |",
            f"| engine, {label}: streaming only (metadata ready -> endOfStream) | {rows:,} | {stream:.3f} | "
            f"{rows / stream / 1e6:.2f} M rows/s | {baseline / stream:.2f}x the export rate |",
        ]
    lines += [
        "",
        f"Per run: {last['bytes'] / 1e6:.0f} MB in {last['chunks']} chunks and {last['envelopes']} envelopes.",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    if not args.no_write:
        text = DOCS.read_text()
        start = text.find(SECTION + "\n")
        if start < 0:
            text = text.rstrip("\n") + "\n\n" + section
        else:
            end = text.find("\n## ", start + len(SECTION))
            text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
        DOCS.write_text(text.rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
