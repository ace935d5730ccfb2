"""Failures a user meets: bad credentials, an engine down or restarted, expired sessions, suspension, gRPC codes."""
from __future__ import annotations

import socket

import grpc
import pytest

from e6magic.client import DatabaseError, Error, InterfaceError, OperationalError, connect
from e6magic.client.exceptions import ERROR_FOR_CODE, from_rpc_error
from e6magic.engine import LocalEngine
from tests.client.conftest import settle


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_bad_credentials(engine):
    secret = "not-the-token-" + "x" * 12
    conn = connect(host=engine.host, port=engine.port, username="tester", password=secret, catalog="demo")
    with pytest.raises(OperationalError) as info:
        conn.cursor().execute("SELECT 1")
    assert engine.address in str(info.value) and "credentials" in str(info.value)
    assert secret not in str(info.value) and secret not in repr(conn)
    conn.close()


def test_missing_credentials_are_a_one_line_interface_error():
    with pytest.raises(InterfaceError, match="username and password"):
        connect(host="127.0.0.1", port=1, username="u")


def test_engine_down_names_the_endpoint():
    port = free_port()
    conn = connect(host="127.0.0.1", port=port, username="u", password="p", catalog="demo",
                   grpc_options={"grpc_prepare_timeout": 5})
    with pytest.raises(OperationalError) as info:
        conn.cursor().execute("SELECT 1")
    text = str(info.value)
    assert f"127.0.0.1:{port}" in text and "unreachable" in text
    assert "Traceback" not in text and "_InactiveRpcError" not in text and "\n" not in text
    conn.close()


def test_engine_restart_mid_session(engine_factory, connect_to):
    first = engine_factory(token="restart-token-0123456789")
    port = first.port
    conn = connect_to(first)
    cur = conn.cursor()
    cur.execute("SELECT 1")
    assert cur.fetchall() == [(1,)]
    first.stop(grace=0.1)
    with pytest.raises(OperationalError) as info:
        cur.execute("SELECT 2")
    assert f"127.0.0.1:{port}" in str(info.value)
    second = engine_factory(port=port, token="restart-token-0123456789")
    cur.execute("SELECT 3")  # the old session is unknown to the new engine: the client signs in again
    assert cur.fetchall() == [(3,)]
    cur.close()
    assert settle(second) == {}


def test_expired_session_reauthenticates(engine_factory, connect_to):
    engine = engine_factory()
    conn = connect_to(engine)
    cur = conn.cursor()
    cur.execute("SELECT 1")
    old = conn.session_id
    engine.expire_sessions()
    cur.execute("SELECT 2")
    assert cur.fetchall() == [(2,)] and conn.session_id != old


def test_suspended_cluster_resumes_when_allowed(engine_factory, connect_to):
    engine = engine_factory()
    engine.suspend()
    refused = connect_to(engine, auto_resume=False)
    with pytest.raises(OperationalError, match="503"):
        refused.cursor().execute("SELECT 1")
    assert engine.cluster_status == "suspended"
    conn = connect_to(engine)
    cur = conn.cursor()
    cur.execute("SELECT 7")
    assert cur.fetchall() == [(7,)] and engine.cluster_status == "active"


def test_v1_batches_when_v2_is_off(engine_factory, connect_to):
    engine = engine_factory(chunk_rows=1000)
    conn = connect_to(engine, enable_result_batch_v2=False)
    cur = conn.cursor()
    cur.execute("SELECT i FROM range(5500) t(i)")
    assert [r[0] for r in cur.fetchall()] == list(range(5500))
    assert conn.result_batch_v2 is False


class _FailedCall(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


@pytest.mark.parametrize("code", list(grpc.StatusCode), ids=lambda c: c.name)
def test_every_grpc_status_maps_to_a_client_error(code):
    assert issubclass(ERROR_FOR_CODE[code], DatabaseError)
    error = from_rpc_error(_FailedCall(code, "engine says no (query id: abc123)"), "h:1")
    assert isinstance(error, ERROR_FOR_CODE[code]) and isinstance(error, Error)
    assert error.query_id == "abc123" and error.grpc_code == code and "abc123" in str(error)


def test_real_engine_error_keeps_engine_message(conn):
    with pytest.raises(DatabaseError) as info:
        conn.cursor().execute("SELECT * FROM no_such_table")
    assert "no_such_table" in info.value.engine_message and info.value.endpoint == conn.transport.endpoint


def test_tls_options_and_unreadable_ca(tmp_path):
    from e6magic.client.transport import channel_options

    merged = dict(channel_options({"grpc.keepalive_time_ms": 1000, "max_receive_message_length": 1 << 20,
                                   "grpc_prepare_timeout": 9}))
    assert merged["grpc.keepalive_time_ms"] == 1000 and merged["grpc.max_receive_message_length"] == 1 << 20
    assert merged["grpc.keepalive_permit_without_calls"] == 1 and "grpc.grpc_prepare_timeout" not in merged
    with pytest.raises(InterfaceError, match="ssl_cert"):
        connect(host="127.0.0.1", port=1, username="u", password="p", secure=True,
                ssl_cert=str(tmp_path / "missing.pem"))


_ = LocalEngine  # the fixtures start engines; named here for readers


def test_engine_gone_mid_fetch_fails_the_result_whole(engine_factory, connect_to):
    engine = engine_factory(chunk_rows=1000)
    conn = connect_to(engine)
    cur = conn.cursor()
    handle = cur.submit("SELECT i FROM range(2000000) t(i)")
    assert len(cur.fetchmany(10)) == 10  # the prefetch queue is full and waits for this reader
    engine.stop(grace=0)
    got = 10
    with pytest.raises(OperationalError) as info:
        for batch in cur.fetch_batches():
            got += batch.num_rows
    assert engine.address in str(info.value) and handle.state == "failed"
    assert got < 2000000  # the rows that did arrive are never passed off as the whole result
    cur.close()


def test_bare_cancelled_from_grpc_is_not_a_user_cancel():
    error = from_rpc_error(_FailedCall(grpc.StatusCode.CANCELLED, "CANCELLED"), "h:1", "q1")
    assert type(error) is OperationalError and "h:1" in str(error) and error.query_id == "q1"
    engine_said = from_rpc_error(_FailedCall(grpc.StatusCode.CANCELLED, "query q1 was cancelled"), "h:1")
    assert type(engine_said).__name__ == "QueryCancelled"
