"""The engine through raw gRPC stubs: registry states, cancel, errors, colours, suspension, expiry, data dirs."""
from __future__ import annotations

import json

import duckdb
import grpc
import pytest

from e6magic._proto import cluster_pb2, cluster_pb2_grpc
from e6magic._proto import e6x_engine_pb2 as pb
from e6magic._proto import e6x_engine_pb2_grpc as pb_grpc

LONG_SQL = "SELECT sum(hash(i)) FROM range(100000000000) t(i)"


class Raw:
    """A session on an engine over raw stubs; `md` is sent with every call."""

    def __init__(self, engine, md=()):
        self.channel = grpc.insecure_channel(engine.address)
        self.stub = pb_grpc.QueryEngineServiceStub(self.channel)
        self.cluster = cluster_pb2_grpc.ClusterServiceStub(self.channel)
        self.md = list(md)
        self.token = engine.token
        self.session = self.stub.authenticate(pb.AuthenticateRequest(user="t", password=engine.token),
                                              metadata=self.md).sessionId

    def prepare(self, sql, catalog="demo"):
        return self.stub.prepareStatementV2(pb.PrepareStatementV2Request(
            sessionId=self.session, catalog=catalog, schema="main", queryString=sql), metadata=self.md).queryId

    def execute(self, qid):
        self.stub.executeStatementV2(pb.ExecuteStatementV2Request(sessionId=self.session, queryId=qid), metadata=self.md)

    def run(self, sql, catalog="demo"):
        qid = self.prepare(sql, catalog)
        self.execute(qid)
        return qid

    def metadata(self, qid):
        return self.stub.getResultMetadata(pb.GetResultMetadataRequest(sessionId=self.session, queryId=qid),
                                           metadata=self.md)

    def rows(self, qid):
        from e6magic.wire import decode_chunk, decode_metadata
        meta = decode_metadata(self.metadata(qid).resultMetaData)
        out = []
        while True:
            batch = self.stub.getNextResultBatch(pb.GetNextResultBatchRequest(sessionId=self.session, queryId=qid),
                                                 metadata=self.md).resultBatch
            if not batch:
                return out
            out.extend(tuple(r.values()) for r in decode_chunk(batch, meta).to_pylist())

    def cancel(self, qid):
        self.stub.cancelQuery(pb.CancelQueryRequest(sessionId=self.session, queryId=qid), metadata=self.md)

    def clear(self, qid):
        self.stub.clear(pb.ClearRequest(sessionId=self.session, queryId=qid), metadata=self.md)

    def close(self):
        self.channel.close()


@pytest.fixture
def raw(engine):
    session = Raw(engine)
    yield session
    session.close()


def _error(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


def test_states_move_prepared_running_finished_and_clear_forgets(engine, raw):
    qid = raw.prepare("SELECT 1 AS one")
    assert engine.query_state(qid) == "prepared"
    raw.execute(qid)
    assert raw.rows(qid) == [(1,)]
    assert engine.query_state(qid) == "finished"
    raw.clear(qid)
    assert qid not in engine.queries()
    assert _error(lambda: raw.metadata(qid)).code() == grpc.StatusCode.NOT_FOUND
    assert _error(lambda: raw.stub.status(pb.StatusRequest(sessionId=raw.session, queryId=qid))).code() \
        == grpc.StatusCode.NOT_FOUND


def test_cancel_interrupts_duckdb_and_frees_the_worker(engine_factory):
    one_worker = engine_factory(workers=1)
    raw = Raw(one_worker)
    try:
        qid = raw.run(LONG_SQL)
        raw.cancel(qid)
        error = _error(lambda: raw.metadata(qid))
        assert error.code() == grpc.StatusCode.CANCELLED
        assert one_worker.query_state(qid) == "cancelled"
        follow = raw.run("SELECT 7")  # the only worker is free again
        assert raw.rows(follow) == [(7,)]
    finally:
        raw.close()


@pytest.mark.parametrize("qid", ["", "no-such-query"])
def test_clear_and_cancel_of_unknown_or_empty_ids_quietly_succeed(raw, qid):
    raw.clear(qid)
    raw.cancel(qid)
    raw.stub.clearOrCancelQuery(pb.ClearOrCancelQueryRequest(sessionId=raw.session, queryId=qid))
    raw.clear(qid)


def test_sql_error_carries_the_query_id_and_a_mapped_code(raw):
    qid = raw.run("SELECT * FROM no_such_table")
    error = _error(lambda: raw.metadata(qid))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert qid in error.details() and "no_such_table" in error.details()
    raw.clear(qid)
    syntax = _error(lambda: raw.prepare("SELEC 1"))
    assert syntax.code() == grpc.StatusCode.INVALID_ARGUMENT and "query id" in syntax.details()
    assert raw.rows(raw.run("SELECT 2")) == [(2,)]  # still serving


def test_a_long_query_does_not_block_another_session(engine, raw):
    other = Raw(engine)
    try:
        slow = raw.run(LONG_SQL)
        assert other.rows(other.run("SELECT count(*) FROM customers")) == [(10000,)]
        assert engine.query_state(slow) == "running"
    finally:
        raw.clear(slow)
        other.close()
    assert engine.query_state(slow) == "cancelled"


def test_wrong_colour_gets_456_on_prepare_but_a_pinned_query_still_fetches(engine_factory):
    coloured = engine_factory()
    raw = Raw(coloured, md=[("strategy", "blue")])
    try:
        qid = raw.run("SELECT 5")
        coloured.flip_strategy()
        error = _error(lambda: raw.prepare("SELECT 6"))
        assert error.code() == grpc.StatusCode.UNKNOWN and error.details() == "status: 456"
        auth = _error(lambda: raw.stub.authenticate(pb.AuthenticateRequest(user="t", password=raw.token),
                                                    metadata=raw.md))
        assert auth.details() == "status: 456"
        response, call = raw.stub.getResultMetadata.with_call(
            pb.GetResultMetadataRequest(sessionId=raw.session, queryId=qid), metadata=raw.md)
        assert response.new_strategy == "green"
        assert raw.rows(qid) == [(5,)]
        unpinned = Raw(coloured)  # no strategy header: served
        assert unpinned.rows(unpinned.run("SELECT 8")) == [(8,)]
        unpinned.close()
    finally:
        raw.close()


def test_suspended_cluster_answers_503_until_resumed(engine_factory):
    suspended = engine_factory()
    raw = Raw(suspended)
    try:
        suspended.suspend()
        error = _error(lambda: raw.prepare("SELECT 1"))
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        assert error.details() == "status: 503, cluster is suspended"
        status = raw.cluster.status(cluster_pb2.ClusterStatusRequest(user="t", password=raw.token)).status
        assert status == "suspended"
        raw.cluster.resume(cluster_pb2.ResumeRequest(user="t", password=raw.token))
        assert raw.cluster.status(cluster_pb2.ClusterStatusRequest(user="t", password=raw.token)).status \
            in ("resuming", "active")
    finally:
        raw.close()


def test_expired_session_is_access_denied_and_bad_token_unauthenticated(engine_factory):
    expiring = engine_factory()
    raw = Raw(expiring)
    try:
        expiring.expire_sessions()
        error = _error(lambda: raw.prepare("SELECT 1"))
        assert error.code() == grpc.StatusCode.INTERNAL and "Access denied" in error.details()
        bad = _error(lambda: raw.stub.authenticate(pb.AuthenticateRequest(user="t", password="wrong")))
        assert bad.code() == grpc.StatusCode.UNAUTHENTICATED and expiring.token not in bad.details()
        bearer = raw.stub.getSchemaNamesV2(pb.GetSchemaNamesV2Request(sessionId="", catalog="demo"),
                                           metadata=[("authorization", f"Bearer {expiring.token}")])
        assert "main" in bearer.schemas
    finally:
        raw.close()


def test_oversize_sql_is_invalid_argument_and_the_engine_keeps_serving(raw):
    error = _error(lambda: raw.prepare("SELECT 1 -- " + "x" * (16 * 1024 * 1024 + 1)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "MiB" in error.details()
    assert raw.rows(raw.run("SELECT 3")) == [(3,)]


def test_explain_analyze_json_has_timings_and_the_operator_tree(raw):
    qid = raw.run("SELECT category, count(*) FROM orders JOIN products USING (product_id) GROUP BY category")
    raw.metadata(qid)
    planner = json.loads(raw.stub.explainAnalyze(pb.ExplainAnalyzeRequest(sessionId=raw.session, queryId=qid))
                         .explainAnalyze)
    raw.clear(qid)
    for key in ("total_query_time", "executionQueueingTime", "parsingTime"):
        assert isinstance(planner[key], (int, float)) and planner[key] >= 0
    roots = planner["operators"] if isinstance(planner["operators"], list) else [planner["operators"]]
    nodes, stack = [], list(roots)
    while stack:
        node = stack.pop()
        nodes.append(node)
        assert {"name", "time", "rows", "children"} <= set(node)
        stack.extend(node["children"])
    assert any("JOIN" in n["name"] for n in nodes)
    assert max(n["rows"] for n in nodes) >= 1_000_000  # the orders scan


def test_data_dir_maps_parquet_and_csv_to_catalog_schema_table(engine_factory, tmp_path):
    folder = tmp_path / "lake" / "sales"
    folder.mkdir(parents=True)
    db = duckdb.connect()
    db.execute(f"COPY (SELECT i AS id, i * 2 AS twice FROM range(5) t(i)) TO '{folder / 'numbers.parquet'}'")
    (folder / "people.csv").write_text("name,age\nada,36\nalan,41\n")
    served = engine_factory(data_dir=tmp_path, demo=False)
    raw = Raw(served)
    try:
        assert raw.rows(raw.run("SELECT sum(twice) FROM sales.numbers", catalog="lake"))[0][0] == 20
        assert raw.rows(raw.run("SELECT name FROM lake.sales.people ORDER BY age", catalog="lake")) \
            == [("ada",), ("alan",)]
        tables = raw.stub.getTablesV2(pb.GetTablesV2Request(sessionId=raw.session, catalog="lake", schema="sales"))
        assert sorted(tables.tables) == ["numbers", "people"]
    finally:
        raw.close()
