"""Isolation from outside: a user's queries are seen, fetched, cancelled and cleared only by that user's sessions,
every call carrying a session id needs a valid one, and hostile names through every call that takes one."""
from __future__ import annotations

import pathlib

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from raw_client import Raw, rpc_error, wait_for

from e6magic._proto import e6x_engine_pb2 as pb
from e6magic.engine.service import QueryEngineService

_SERVICE = pb.DESCRIPTOR.services_by_name["QueryEngineService"]
# every call the engine answers whose request carries a session id
SESSION_CALLS = [m for m in _SERVICE.methods
                 if "sessionId" in m.input_type.fields_by_name and m.name in QueryEngineService.__dict__]
QUERY_CALLS = [m for m in SESSION_CALLS if "queryId" in m.input_type.fields_by_name]


class User(Raw):
    def __init__(self, engine, user: str) -> None:
        super().__init__(engine, authenticate=False)
        self.sid = self.stub.authenticate(pb.AuthenticateRequest(user=user, password=engine.token.reveal())).sessionId

    def call(self, method, **fields):
        request = getattr(pb, method.input_type.name)(sessionId=self.sid, **fields)
        return getattr(self.stub, method.name)(request)


@pytest.fixture
def users(engine):
    made = [User(engine, name) for name in ("alice@test", "bob@test", "alice@test")]
    yield made
    for user in made:
        user.close()


def test_another_users_session_cannot_see_fetch_cancel_or_clear_a_query(engine, users):
    alice, bob, alice_again = users
    running = alice.submit("SELECT sum(a.range * b.range) AS s FROM range(100000) a, range(100000) b")
    finished = alice.submit("SELECT * FROM demo.main.orders LIMIT 50000")
    assert wait_for(lambda: engine.query_state(running) == "running" and engine.query_state(finished) == "finished")
    for qid in (running, finished):
        for method in QUERY_CALLS:
            try:
                bob.call(method, queryId=qid)
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.NOT_FOUND, (method.name, error.details())
                assert "unknown query id" in error.details()
            else:  # cancel and clear stay quiet for ids that are not the caller's, as for unknown ones
                assert method.name in ("cancelQuery", "clear", "clearOrCancelQuery"), method.name
    assert engine.query_state(running) == "running" and engine.query_state(finished) == "finished"
    assert alice_again.rows_v1(finished).num_rows == 50000  # the same user through another session
    alice.cancel(running)
    assert wait_for(lambda: engine.query_state(running) == "cancelled")
    for qid in (running, finished):
        alice.clear(qid)


@pytest.mark.parametrize("session_id", ["", "not-a-session", "0" * 32])
def test_every_call_with_a_session_id_needs_a_valid_one(engine, users, session_id):
    alice = users[0]
    qid = alice.submit("SELECT 1")
    stranger = User.__new__(User)
    stranger.stub, stranger.sid = alice.stub, session_id
    for method in SESSION_CALLS:
        fields = {"queryId": qid} if method in QUERY_CALLS else {}
        error = rpc_error(lambda: stranger.call(method, **fields))
        if session_id:
            assert error.code() == grpc.StatusCode.INTERNAL and "Access denied" in error.details(), method.name
        else:
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED, method.name
    assert alice.rows_v1(qid).to_pydict() == {"1": [1]}  # nothing the stranger sent touched it
    alice.clear(qid)


def test_get_cataloges_answers_without_a_session_but_checks_a_bearer_token(engine, users):
    stub = users[0].stub
    assert "demo" in [c.name for c in stub.getCataloges(pb.GetCatalogesRequest()).catalogResponses]
    good = stub.getCataloges(pb.GetCatalogesRequest(), metadata=(("authorization", f"Bearer {engine.token.reveal()}"),))
    assert "demo" in [c.name for c in good.catalogResponses]
    bad = rpc_error(lambda: stub.getCataloges(pb.GetCatalogesRequest(),
                                              metadata=(("authorization", "Bearer wrong-token-0123456789"),)))
    assert bad.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_bearer_caller_is_one_user_apart_from_signed_in_ones(engine, users):
    alice = users[0]
    bearer = (("authorization", f"Bearer {engine.token.reveal()}"),)
    request = pb.PrepareStatementV2Request(catalog="demo", schema="main", queryString="SELECT 5 AS n")
    qid = alice.stub.prepareStatementV2(request, metadata=bearer).queryId
    alice.stub.executeStatementV2(pb.ExecuteStatementV2Request(queryId=qid), metadata=bearer)
    assert rpc_error(lambda: alice.rows_v1(qid)).code() == grpc.StatusCode.NOT_FOUND
    alice.stub.getResultMetadata(pb.GetResultMetadataRequest(queryId=qid), metadata=bearer)
    alice.stub.clear(pb.ClearRequest(queryId=qid), metadata=bearer)
    assert engine.query_state(qid) == "finished" and qid not in engine.queries()


_NAMES = st.one_of(
    st.sampled_from(['"', '""', "'", "';--", "\\", 'demo"."main', "x\x00y", "../../etc/passwd", "", " ", "ß" * 300,
                     "a" * 5000, "\u00e9" * 5000, "%s%n", "${x}", "\u202e", "demo; COPY (SELECT 1) TO '/tmp/e6-x.csv'"]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
)
_NAME_CALLS = [("dryRun", ("schema",)), ("dryRunV2", ("catalog", "schema")), ("getSchemaNamesV2", ("catalog",)),
               ("getTables", ("schema",)), ("getTablesV2", ("catalog", "schema")),
               ("getColumns", ("schema", "table")), ("getColumnsV2", ("catalog", "schema", "table"))]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_NAMES, real=st.booleans())
def test_hostile_names_through_every_call_that_takes_one(engine, users, tmp_path_factory, name, real):
    """Each name alone (beside real ones, so it reaches the deepest SQL) or in every field at once."""
    alice = users[0]
    calls = 0
    for method_name, fields in _NAME_CALLS:
        method = _SERVICE.methods_by_name[method_name]
        for field in fields:
            values = {"catalog": "demo", "schema": "main", "table": "orders"} if real else {}
            values = {k: v for k, v in values.items() if k in fields}
            values[field] = name
            if "queryString" in method.input_type.fields_by_name:
                values["queryString"] = "SELECT 1"
            try:
                alice.call(method, **values)
            except grpc.RpcError as error:
                assert error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT), \
                    (method_name, field, name, error.code(), error.details())
            calls += 1
    qid = alice.stub.prepareStatementV2(pb.PrepareStatementV2Request(
        sessionId=alice.sid, catalog=name, schema=name, queryString="SELECT 1 AS one")).queryId
    alice.execute(qid)
    try:
        alice.rows_v1(qid)
    except grpc.RpcError as error:
        assert error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT), error.details()
        assert qid in error.details()
    finally:
        alice.clear(qid)
    check = alice.submit("SELECT count(*) AS n FROM demo.main.products")
    assert alice.rows_v1(check).to_pydict() == {"n": [1000]}
    alice.clear(check)
    assert calls == 12
    assert not pathlib.Path("/tmp/e6-x.csv").exists()
