"""TLS with a custom CA: the engine's own servicers behind a TLS port, certificate made for this test."""
from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from e6magic._proto import e6x_engine_pb2_grpc
from e6magic.client import OperationalError, connect
from e6magic.engine.service import QueryEngineService


@pytest.fixture
def tls_engine(engine, tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    server = grpc.server(ThreadPoolExecutor(max_workers=8))
    # the shared engine's database, sessions and queries, reached over TLS instead of plain text
    e6x_engine_pb2_grpc.add_QueryEngineServiceServicer_to_server(
        QueryEngineService(engine._db, engine._gate, engine._registry), server)
    port = server.add_secure_port("127.0.0.1:0", grpc.ssl_server_credentials([(key.read_bytes(), cert.read_bytes())]))
    server.start()
    yield port, cert
    server.stop(0.2).wait()


def test_tls_with_custom_ca(engine, tls_engine):
    port, cert = tls_engine
    conn = connect(host="127.0.0.1", port=port, username="tester", password=engine.token, catalog="demo",
                   database="main", secure=True, ssl_cert=str(cert), grpc_options={"keepalive_time_ms": 20000})
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM customers WHERE region = %s", ("North",))
    assert cur.fetchall() == [(2000,)]
    conn.close()
    assert engine.queries() == {}


def test_tls_without_the_ca_is_refused(engine, tls_engine):
    port, _ = tls_engine
    conn = connect(host="127.0.0.1", port=port, username="tester", password=engine.token, catalog="demo",
                   secure=True, grpc_options={"grpc_prepare_timeout": 5})
    with pytest.raises(OperationalError, match=f"127.0.0.1:{port}"):
        conn.cursor().execute("SELECT 1")
    conn.close()
