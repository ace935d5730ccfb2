"""The local engine through raw gRPC stubs: states, cancel, errors, sessions, colours, suspension, batches, CLI."""
from __future__ import annotations

import json
import logging
import os
import pathlib
import signal
import subprocess
import sys

import duckdb
import grpc
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from cli_process import running, stop
from raw_client import Raw, rpc_error, wait_for

from e6magic._proto import cluster_pb2 as cpb
from e6magic._proto import cluster_pb2_grpc as cpb_grpc
from e6magic._proto import e6x_engine_pb2 as pb
from e6magic._proto import e6x_engine_pb2_grpc as pb_grpc
from e6magic.wire import decode_chunk, decode_metadata

ROOT = pathlib.Path(__file__).resolve().parents[2]
LONG_SQL = "SELECT sum(hash(i)) FROM range(100000000000) t(i)"  # minutes of work: it only ends by cancel


@pytest.fixture
def raw(engine):
    client = Raw(engine)
    yield client
    client.close()


# --- registry ---------------------------------------------------------------------------------------------
def test_query_moves_through_prepared_running_finished_and_clear_forgets_it(engine, raw):
    qid = raw.prepare("SELECT 1 AS one")
    assert engine.query_state(qid) == "prepared" and engine.queries()[qid] == "prepared"
    raw.execute(qid)
    assert raw.rows_v1(qid).to_pydict() == {"one": [1]}
    assert engine.query_state(qid) == "finished"
    raw.clear(qid)
    assert qid not in engine.queries()
    assert engine.query_state(qid) == "finished"  # the last state of a recently cleared query
    error = rpc_error(lambda: raw.rows_v1(qid))
    assert error.code() == grpc.StatusCode.NOT_FOUND and qid in error.details()


def test_a_failed_query_is_failed(engine, raw):
    qid = raw.submit("SELECT 1 / 0 > 'x'::INTEGER")
    error = rpc_error(lambda: raw.rows_v1(qid))
    assert engine.query_state(qid) == "failed"
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and qid in error.details()
    raw.clear(qid)


def test_cancel_frees_the_worker_for_the_next_query(engine_factory):
    single = engine_factory(workers=1)
    client = Raw(single)
    try:
        qid = client.submit(LONG_SQL)
        assert wait_for(lambda: single.query_state(qid) == "running")
        client.cancel(qid)
        assert wait_for(lambda: single.query_state(qid) == "cancelled", timeout=1.0)
        error = rpc_error(lambda: client.rows_v1(qid))
        assert error.code() == grpc.StatusCode.CANCELLED
        # one worker only: the next query can only answer if the cancelled one let go of it
        after = client.submit("SELECT 42 AS n")
        assert client.rows_v1(after).to_pydict() == {"n": [42]}
    finally:
        client.close()


def test_clear_and_cancel_are_quiet_for_unknown_empty_and_repeated_ids(engine, raw):
    for qid in ("", "no-such-query", "0" * 32):
        raw.cancel(qid)
        raw.clear(qid)
        raw.stub.clearOrCancelQuery(pb.ClearOrCancelQueryRequest(sessionId=raw.sid, queryId=qid))
    qid = raw.submit("SELECT 1")
    raw.rows_v1(qid)
    raw.cancel(qid)
    assert engine.query_state(qid) == "finished"  # cancel after the end changes nothing
    raw.clear(qid)
    raw.clear(qid)
    raw.cancel(qid)
    assert qid not in engine.queries()


def test_clear_or_cancel_stops_a_running_query(engine, raw):
    qid = raw.submit(LONG_SQL)
    assert wait_for(lambda: engine.query_state(qid) == "running")
    raw.stub.clearOrCancelQuery(pb.ClearOrCancelQueryRequest(sessionId=raw.sid, queryId=qid))
    assert qid not in engine.queries()
    assert engine.query_state(qid) == "cancelled"


# --- errors -----------------------------------------------------------------------------------------------
def test_parser_error_is_invalid_argument_at_prepare(raw):
    error = rpc_error(lambda: raw.prepare("SELEC 1"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "syntax error" in error.details().lower() and "query id: " in error.details()


def test_unknown_table_is_not_found_with_the_query_id(engine, raw):
    qid = raw.submit("SELECT * FROM no_such_table")
    error = rpc_error(lambda: raw.rows_v1(qid))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert "no_such_table" in error.details() and f"(query id: {qid})" in error.details()
    assert error.details().splitlines()[1].startswith("Did you mean")  # DuckDB's own line breaks are kept
    raw.clear(qid)


def test_a_parser_error_keeps_its_caret_line_apart(engine, raw):
    error = rpc_error(lambda: raw.submit("SELECT 1 FROM range(3) WHERE select"))
    where, caret = error.details().splitlines()[1:3]
    assert where == "LINE 1: SELECT 1 FROM range(3) WHERE select" and caret.index("^") == where.index("select")


def test_oversize_sql_is_refused_and_the_server_keeps_serving(raw):
    error = rpc_error(lambda: raw.prepare("SELECT 1 -- " + "x" * (17 * 1024 * 1024)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "MiB" in error.details()
    qid = raw.submit("SELECT 7 AS n")
    assert raw.rows_v1(qid).to_pydict() == {"n": [7]}
    raw.clear(qid)


def test_empty_sql_is_invalid_argument(raw):
    assert rpc_error(lambda: raw.prepare("   ")).code() == grpc.StatusCode.INVALID_ARGUMENT


# --- concurrency ------------------------------------------------------------------------------------------
def test_a_long_query_in_one_session_does_not_block_another(engine, raw):
    other = Raw(engine)
    try:
        slow = raw.submit(LONG_SQL)
        assert wait_for(lambda: engine.query_state(slow) == "running")
        for n in range(3):
            qid = other.submit(f"SELECT {n} AS n, count(*) AS c FROM customers")
            assert other.rows_v2(qid).to_pydict() == {"n": [n], "c": [10000]}
            other.clear(qid)
        assert engine.query_state(slow) == "running"
    finally:
        raw.clear(slow)
        other.close()


# --- sessions and credentials -----------------------------------------------------------------------------
def test_bad_token_is_unauthenticated_and_never_echoed(engine):
    channel = grpc.insecure_channel(engine.address)
    stub = pb_grpc.QueryEngineServiceStub(channel)
    try:
        error = rpc_error(lambda: stub.authenticate(pb.AuthenticateRequest(user="u", password="wrong-secret-123")))
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "wrong-secret-123" not in error.details() and engine.token.reveal() not in error.details()
        token = engine.token.reveal()
        empty_user = rpc_error(lambda: stub.authenticate(pb.AuthenticateRequest(user="", password=token)))
        assert empty_user.code() == grpc.StatusCode.UNAUTHENTICATED
        no_session = rpc_error(lambda: stub.getSchemaNamesV2(pb.GetSchemaNamesV2Request(catalog="demo")))
        assert no_session.code() == grpc.StatusCode.UNAUTHENTICATED
        bearer = stub.getSchemaNamesV2(pb.GetSchemaNamesV2Request(catalog="demo"),
                                       metadata=(("authorization", f"Bearer {engine.token.reveal()}"),))
        assert "main" in bearer.schemas
    finally:
        channel.close()


def test_expired_sessions_get_internal_access_denied(engine_factory):
    eng = engine_factory()
    client = Raw(eng)
    try:
        qid = client.submit("SELECT 1")
        client.rows_v1(qid)
        eng.expire_sessions()
        error = rpc_error(lambda: client.prepare("SELECT 2"))
        assert error.code() == grpc.StatusCode.INTERNAL and "Access denied" in error.details()
        client.sid = Raw(eng).sid  # re-authenticating is how a client recovers
        qid = client.submit("SELECT 2 AS n")
        assert client.rows_v1(qid).to_pydict() == {"n": [2]}
    finally:
        client.close()


def test_token_never_appears_in_repr_logs_or_errors(engine_factory, caplog):
    caplog.set_level(logging.DEBUG)
    eng = engine_factory(token="sekrit-token-for-the-test")
    client = Raw(eng)
    try:
        details = []
        for sql in ("SELEC", "SELECT * FROM nope"):
            try:
                client.rows_v1(client.submit(sql))
            except grpc.RpcError as exc:
                details.append(exc.details())
        eng.expire_sessions()
        details.append(rpc_error(lambda: client.prepare("SELECT 1")).details())
        details.append(rpc_error(lambda: Raw(eng, strategy="green")).details())
        assert len(details) == 4
        seen = " ".join(details) + repr(eng) + repr(eng._gate) + caplog.text
        assert "sekrit-token-for-the-test" not in seen
    finally:
        client.close()


# --- blue/green and suspension ----------------------------------------------------------------------------
def test_wrong_colour_gets_456_on_authenticate_and_prepare_but_a_pinned_query_still_fetches(engine_factory):
    eng = engine_factory()
    assert eng.serving_strategy == "blue"
    wrong = rpc_error(lambda: Raw(eng, strategy="green"))
    assert wrong.code() == grpc.StatusCode.UNKNOWN and "456" in wrong.details()
    blue = Raw(eng, strategy="blue")
    try:
        qid = blue.submit("SELECT * FROM range(5) t(i)")
        assert eng.flip_strategy() == "green"
        error = rpc_error(lambda: blue.prepare("SELECT 1"))
        assert error.code() == grpc.StatusCode.UNKNOWN and "456" in error.details()
        # the query pinned to blue still answers, and the response tells the client the new colour
        meta = blue.stub.getResultMetadata.with_call(
            pb.GetResultMetadataRequest(sessionId=blue.sid, queryId=qid), metadata=blue.md)[0]
        assert meta.new_strategy == "green"
        assert blue.rows_v2(qid).to_pydict() == {"i": [0, 1, 2, 3, 4]}
        blue.clear(qid)
        green = Raw(eng, strategy="green")
        green.sid = blue.sid  # sessions survive the switch; only new work moves colour
        assert green.rows_v1(green.submit("SELECT 3 AS n")).to_pydict() == {"n": [3]}
        green.close()
    finally:
        blue.close()


def test_suspended_engine_answers_503_and_cluster_service_resumes_it(engine_factory):
    eng = engine_factory()
    client = Raw(eng)
    cluster = cpb_grpc.ClusterServiceStub(client.channel)
    creds = {"user": "raw@test", "password": eng.token.reveal()}
    try:
        assert cluster.status(cpb.ClusterStatusRequest(**creds)).status == "active"
        assert cluster.suspend(cpb.SuspendRequest(**creds)).status == "suspended"
        error = rpc_error(lambda: client.prepare("SELECT 1"))
        assert error.code() == grpc.StatusCode.UNAVAILABLE and "503" in error.details()
        assert rpc_error(lambda: Raw(eng)).code() == grpc.StatusCode.UNAVAILABLE
        bad = rpc_error(lambda: cluster.resume(cpb.ResumeRequest(user="x", password="nope")))
        assert bad.code() == grpc.StatusCode.UNAUTHENTICATED
        assert cluster.resume(cpb.ResumeRequest(**creds)).status == "resuming"
        assert cluster.status(cpb.ClusterStatusRequest(**creds)).status in ("resuming", "active")
        assert wait_for(lambda: cluster.status(cpb.ClusterStatusRequest(**creds)).status == "active")
        assert client.rows_v1(client.submit("SELECT 5 AS n")).to_pydict() == {"n": [5]}
    finally:
        client.close()


# --- results ----------------------------------------------------------------------------------------------
def test_explain_analyze_returns_timings_and_an_operator_tree(raw):
    qid = raw.submit("SELECT region, count(*) FROM orders JOIN customers USING (customer_id) GROUP BY region")
    assert raw.rows_v1(qid).num_rows == 5
    response = raw.stub.explainAnalyze(pb.ExplainAnalyzeRequest(sessionId=raw.sid, queryId=qid))
    plan = json.loads(response.explainAnalyze)
    assert {"total_query_time", "executionQueueingTime", "parsingTime"} <= set(plan)
    assert plan["total_query_time"] >= plan["parsingTime"] + plan["executionQueueingTime"]
    names, rows = [], {}

    def walk(node):
        names.append(node["name"])
        rows[node["name"]] = node["rows"]
        assert set(node) >= {"name", "time", "rows", "children"}
        for child in node["children"]:
            walk(child)

    walk(plan["operators"])
    assert any("JOIN" in n for n in names) and any("GROUP" in n or "AGGREGATE" in n for n in names), names
    assert any("SCAN" in n for n in names), names
    raw.clear(qid)


def test_v2_sends_several_chunks_per_envelope_then_end_of_stream_and_matches_v1(engine_factory):
    eng = engine_factory(chunk_rows=1000)
    client = Raw(eng)
    sql = "SELECT order_id, amount, status, ordered_at FROM orders WHERE order_id <= 50000 ORDER BY order_id"
    try:
        qid = client.submit(sql)
        meta = decode_metadata(client.stub.getResultMetadata(
            pb.GetResultMetadataRequest(sessionId=client.sid, queryId=qid)).resultMetaData)
        envelopes = client.envelopes_v2(qid)
        chunk_sizes = [decode_chunk(c, meta).num_rows for r in envelopes for c in r.resultBatches]
        assert max(len(r.resultBatches) for r in envelopes) > 1
        assert envelopes[-1].endOfStream and not any(r.endOfStream for r in envelopes[:-1])
        assert chunk_sizes == [1000] * 50  # chunk_rows is honoured
        via_v2 = pa.Table.from_batches(
            [decode_chunk(c, meta) for r in envelopes for c in r.resultBatches])
        via_v1 = client.rows_v1(client.submit(sql))
        assert via_v1.equals(via_v2)
        expected = duckdb.connect()
        from e6magic.engine import catalog
        catalog.build_demo(expected)
        want = expected.sql(sql.replace("FROM orders", "FROM demo.main.orders")).to_arrow_table()
        assert via_v1.column("order_id").to_pylist() == want.column("order_id").to_pylist()
        assert via_v1.column("status").to_pylist() == want.column("status").to_pylist()
        assert via_v1.column("amount").to_pylist() == want.column("amount").to_pylist()
    finally:
        client.close()


def test_data_dir_maps_parquet_and_csv_files(engine_factory, tmp_path):
    folder = tmp_path / "lake" / "sales"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"id": [1, 2, 3], "name": ["a", "b", None]}), folder / "items.parquet")
    pacsv.write_csv(pa.table({"id": [10, 20], "price": [1.5, 2.25]}), folder / "prices.csv")
    (folder / "notes.txt").write_text("ignored")
    eng = engine_factory(data_dir=tmp_path, demo=False)
    assert sorted(eng.tables) == ["lake.sales.items", "lake.sales.prices"]
    client = Raw(eng)
    try:
        tables = client.stub.getTablesV2(pb.GetTablesV2Request(sessionId=client.sid, catalog="lake", schema="sales"))
        assert sorted(tables.tables) == ["items", "prices"]
        qid = client.stub.prepareStatementV2(pb.PrepareStatementV2Request(
            sessionId=client.sid, catalog="lake", schema="sales",
            queryString="SELECT i.id, i.name, p.price FROM items i LEFT JOIN prices p ON p.id = i.id * 10 ORDER BY 1"
        )).queryId
        client.execute(qid)
        assert client.rows_v1(qid).to_pydict() == {"id": [1, 2, 3], "name": ["a", "b", None],
                                                    "price": [1.5, 2.25, None]}
    finally:
        client.close()


def test_data_dir_that_does_not_exist_is_a_clear_error(tmp_path):
    from e6magic.engine import LocalEngine
    with pytest.raises(FileNotFoundError, match="no such folder"):
        LocalEngine(data_dir=tmp_path / "missing", demo=False).start()


# --- CLI --------------------------------------------------------------------------------------------------
def _serve(*args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "E6MAGIC_ENGINE_TOKEN")}
    return subprocess.Popen([sys.executable, "-m", "e6magic.engine.cli", "serve", "--port", "0", "--no-demo", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(ROOT))


@pytest.mark.parametrize(("signum", "args"), [(signal.SIGTERM, ()), (signal.SIGINT, ("--return-freed-memory",))])
def test_cli_prints_address_and_generated_token_and_stops_cleanly(signum, args):
    with running(_serve(*args)) as proc:
        address = proc.stdout.readline().strip()
        token_line = proc.stdout.readline().strip()
        assert address.startswith("e6magic engine listening on 127.0.0.1:")
        assert token_line.startswith("token: ") and len(token_line) > len("token: ") + 16
        host_port = address.rsplit(" ", 1)[1]
        channel = grpc.insecure_channel(host_port)
        stub = pb_grpc.QueryEngineServiceStub(channel)
        assert stub.authenticate(pb.AuthenticateRequest(user="u", password=token_line[7:])).sessionId
        channel.close()
        out, err = stop(proc, signum)
    assert proc.returncode == 0, err
    assert out.strip() == "e6magic engine stopped"
    assert token_line[7:] not in err


def test_a_dedicated_engine_process_keeps_freed_memory_for_reuse():
    """What `e6magic-engine serve` does first (glibc's mallopt); run in a child, since it is process-wide."""
    code = "from e6magic.engine.allocator import keep_freed_memory; print(keep_freed_memory())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=str(ROOT))
    assert out.stdout.strip() == "True", out.stderr


def test_cli_rejects_bad_chunk_rows_in_one_line():
    proc = _serve("--chunk-rows", "0")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and err.strip() == "e6magic-engine: --chunk-rows must be at least 1"


def test_without_the_demo_a_query_that_names_no_catalog_still_runs(engine_factory):
    eng = engine_factory(demo=False)
    client = Raw(eng)
    try:
        qid = client.stub.prepareStatement(pb.PrepareStatementRequest(
            sessionId=client.sid, queryString="SELECT 1 AS one, count(*) AS n FROM range(3)")).queryId
        client.stub.executeStatement(pb.ExecuteStatementRequest(sessionId=client.sid, queryId=qid))
        assert client.rows_v1(qid).to_pydict() == {"one": [1], "n": [3]}
    finally:
        client.close()
