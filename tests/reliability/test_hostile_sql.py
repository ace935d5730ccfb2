"""Hostile SQL and identifiers from outside: no file touched, no second statement, no SET undoes the lock."""
from __future__ import annotations

import grpc
import pytest
from raw_client import Raw, rpc_error

from e6magic._proto import e6x_engine_pb2 as pb

HOSTILE = ['demo"."main"; COPY (SELECT 1) TO \'{path}\'; USE "demo', 'x"; DROP TABLE demo.main.orders; --', "a\"b"]


@pytest.fixture
def client(engine):
    raw = Raw(engine)
    yield raw
    raw.close()


def _fails(client, sql: str) -> str:
    qid = client.submit(sql)
    try:
        return rpc_error(lambda: client.rows_v1(qid)).details()
    finally:
        client.clear(qid)


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/passwd')", "COPY (SELECT 1) TO '{path}'", "ATTACH '{path}' AS x",
    "INSTALL httpfs", "LOAD httpfs", "SET enable_external_access = true", "SET lock_configuration = false",
])
def test_sql_reaches_no_host_file(client, tmp_path, sql):
    details = _fails(client, sql.format(path=tmp_path / "out.csv"))
    assert "Permission Error" in details or "configuration has been locked" in details
    assert list(tmp_path.iterdir()) == []


def test_allow_host_files_opens_it_on_purpose(engine_factory, tmp_path):
    open_engine = engine_factory(allow_host_files=True)
    raw = Raw(open_engine)
    try:
        raw.rows_v1(raw.submit(f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'"))
        assert (tmp_path / "out.csv").exists()
    finally:
        raw.close()


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_catalog_and_schema_through_every_call(client, engine, tmp_path, name):
    name = name.format(path=tmp_path / "x.csv")
    sid = client.sid
    stub = client.stub
    stub.dryRunV2(pb.DryRunRequestV2(sessionId=sid, catalog=name, schema=name, queryString="SELECT 1"))
    stub.dryRun(pb.DryRunRequest(sessionId=sid, schema=name, queryString="SELECT 1"))
    qid = stub.prepareStatementV2(pb.PrepareStatementV2Request(
        sessionId=sid, catalog=name, schema=name, queryString="SELECT 1")).queryId
    rpc_error(lambda: stub.explain(pb.ExplainRequest(sessionId=sid, queryId=qid)))
    client.execute(qid)
    rpc_error(lambda: client.rows_v1(qid))
    client.clear(qid)
    for call in (lambda: stub.getSchemaNamesV2(pb.GetSchemaNamesV2Request(sessionId=sid, catalog=name)),
                 lambda: stub.getTablesV2(pb.GetTablesV2Request(sessionId=sid, catalog=name, schema=name)),
                 lambda: stub.getColumnsV2(pb.GetColumnsV2Request(sessionId=sid, catalog=name, schema=name,
                                                                  table=name))):
        assert rpc_error(call).code() == grpc.StatusCode.NOT_FOUND
    stub.getTables(pb.GetTablesRequest(sessionId=sid, schema=name))
    rpc_error(lambda: stub.getColumns(pb.GetColumnsRequest(sessionId=sid, schema=name, table=name)))
    assert list(tmp_path.iterdir()) == []
    qid = client.submit(f'SELECT count(*) AS "{name.replace(chr(34), chr(34) * 2)}" FROM demo.main.orders')
    assert list(client.rows_v1(qid).to_pydict().values()) == [[1000000]]
    client.clear(qid)


@pytest.mark.parametrize("sql", ["select 1\x00; drop table demo.main.products", "select 1; select 2"])
def test_nul_and_second_statements_are_refused(client, sql):
    error = rpc_error(lambda: client.prepare(sql))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "NUL" in error.details() or "one statement per query" in error.details()
    qid = client.submit("SELECT count(*) AS n FROM demo.main.products")
    assert client.rows_v1(qid).to_pydict() == {"n": [1000]}
    client.clear(qid)


def test_temporary_objects_do_not_outlive_their_query(engine_factory):
    single = engine_factory(workers=1)
    first, second = Raw(single), Raw(single)
    try:
        first.rows_v1(first.submit("CREATE TEMP TABLE secret AS SELECT 42 AS n"))
        assert "secret" in _fails(second, "SELECT * FROM secret")
    finally:
        first.close()
        second.close()
