"""Exposure, from outside: TLS with a certificate made here, no plain-text bind beyond loopback unless asked, long
tokens read from a file or the environment, token guessing slowed per peer, and the port opened exclusively."""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import time

import grpc
import pytest
from cli_process import running, stop

from e6magic._proto import e6x_engine_pb2 as pb
from e6magic._proto import e6x_engine_pb2_grpc as pb_grpc
from e6magic.client import connect
from e6magic.engine import LocalEngine

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOKEN = "exposure-token-0123456789"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[pathlib.Path, pathlib.Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "E6MAGIC_ENGINE_TOKEN")}
    return subprocess.Popen([sys.executable, "-m", "e6magic.engine.cli", "serve", "--port", "0", "--no-demo", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**clean, **(env or {})},
                            cwd=str(ROOT))


def _port(proc: subprocess.Popen) -> int:
    first = proc.stdout.readline()
    assert first.startswith("e6magic engine listening on 127.0.0.1:"), first + proc.stderr.read()
    return int(first.split()[4].rsplit(":", 1)[1])


def test_the_client_reaches_a_tls_engine_with_its_certificate(engine_factory, certificate):
    cert, key = certificate
    eng = engine_factory(tls_cert=cert, tls_key=key, token=TOKEN)
    assert eng.secure
    conn = connect(host="127.0.0.1", port=eng.port, username="tls@test", password=TOKEN, catalog="demo",
                   database="main", secure=True, ssl_cert=str(cert))
    try:
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM customers")
        assert cur.fetchall() == [(10000,)]
    finally:
        conn.close()
    plain = grpc.insecure_channel(f"127.0.0.1:{eng.port}")
    try:  # plain text to a TLS port gets nowhere
        with pytest.raises(grpc.RpcError):
            pb_grpc.QueryEngineServiceStub(plain).authenticate(pb.AuthenticateRequest(user="u", password=TOKEN),
                                                               timeout=5)
    finally:
        plain.close()


def test_serve_with_tls_files_and_a_token_file(certificate, tmp_path):
    cert, key = certificate
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    with running(_serve("--tls-cert", str(cert), "--tls-key", str(key), "--token-file", str(token_file))) as proc:
        port = _port(proc)
        assert TOKEN not in pathlib.Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode()
        conn = connect(host="127.0.0.1", port=port, username="tls@test", password=TOKEN, secure=True,
                       ssl_cert=str(cert), catalog="memory", database="main")
        cur = conn.cursor()
        cur.execute("SELECT 41 + 1")
        assert cur.fetchall() == [(42,)]
        conn.close()
        out, err = stop(proc)
    assert proc.returncode == 0, err
    assert TOKEN not in out + err


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.com"])
def test_a_non_loopback_bind_without_tls_is_refused(host):
    with pytest.raises(ValueError, match="without TLS"):
        LocalEngine(host=host)
    proc = _serve("--host", host)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "refusing to serve" in err and "--insecure-bind" in err
    assert len(err.strip().splitlines()) == 1


def test_insecure_bind_and_tls_say_so_on_purpose(certificate):
    cert, key = certificate
    LocalEngine(host="0.0.0.0", insecure_bind=True)  # built, not started: tests bind loopback only
    LocalEngine(host="0.0.0.0", tls_cert=cert, tls_key=key)
    with pytest.raises(ValueError, match="both a certificate and its private key"):
        LocalEngine(tls_cert=cert)


@pytest.mark.parametrize("token", ["a", "cli-test-token", "x" * 15])
def test_short_tokens_are_refused(token, tmp_path):
    with pytest.raises(ValueError, match="at least 16 characters"):
        LocalEngine(token=token)
    for args, env in ((("--token", token), None), ((), {"E6MAGIC_ENGINE_TOKEN": token})):
        proc = _serve(*args, env=env)
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 2 and "at least 16 characters" in err, err
        assert f"(this one has {len(token)})" in err
        assert len(token) == 1 or token not in err  # the refused token is not echoed


def test_a_token_on_the_command_line_is_warned_about():
    with running(_serve("--token", TOKEN)) as proc:
        _port(proc)
        out, err = stop(proc)
    assert "--token is readable by other users" in err and TOKEN not in out + err


def _guess(address: str, seconds: float) -> tuple[int, int]:
    """Wrong tokens as fast as one client can send them for `seconds`: (sent, checked against the token)."""
    channel = grpc.insecure_channel(address)
    stub = pb_grpc.QueryEngineServiceStub(channel)
    sent = checked = 0
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            try:
                stub.authenticate(pb.AuthenticateRequest(user="guess", password=f"guess-{sent:020d}"), timeout=5)
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.UNAUTHENTICATED
                checked += "too many wrong tokens" not in error.details()
            sent += 1
    finally:
        channel.close()
    return sent, checked


def test_token_guessing_is_slowed_per_peer(engine_factory):
    eng = engine_factory(token=TOKEN)
    sent, checked = _guess(eng.address, 3.0)
    print(f"{sent} wrong tokens in 3 s, {checked} checked against the token")
    assert sent > 100  # the client was not slowed: the engine answered every guess at once
    assert checked <= 20 + 2 * 3 + 2, (sent, checked)  # a burst of 20, then 2 a second
    channel = grpc.insecure_channel(eng.address)
    stub = pb_grpc.QueryEngineServiceStub(channel)
    try:
        bearer = (("authorization", "Bearer wrong-token-0123456789"),)
        answers = []
        for _ in range(5):  # bearer guesses spend the same budget (refilled by at most 2 a second meanwhile)
            with pytest.raises(grpc.RpcError) as refused:
                stub.getSchemaNamesV2(pb.GetSchemaNamesV2Request(catalog="demo"), metadata=bearer)
            answers.append(refused.value.details())
        assert any("too many wrong tokens" in answer for answer in answers), answers
        time.sleep(1.0)
        assert stub.authenticate(pb.AuthenticateRequest(user="owner", password=TOKEN)).sessionId
    finally:
        channel.close()


def test_a_second_engine_on_the_same_port_fails_at_start(engine_factory):
    first = engine_factory()
    with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{first.port}: the port is in use"):
        LocalEngine(port=first.port).start()
    proc = _serve("--port", str(first.port))
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "the port is in use" in err, err
