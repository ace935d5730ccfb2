"""OAuth bearer tokens against the real engine; the token service is a tiny HTTP server on 127.0.0.1."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Iterator

import pytest

from e6magic.client import OperationalError, connect


class TokenService:
    """Issues `token` for the client credentials it knows; counts the requests."""

    def __init__(self, token: str, lifetime: int) -> None:
        self.token, self.lifetime, self.requests = token, lifetime, 0
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                service.requests += 1
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                good = self.headers.get("Authorization", "").startswith("Basic ")
                body = json.dumps({"access_token": service.token, "expires_in": service.lifetime} if good
                                  else {"error": "invalid_client"}).encode()
                self.send_response(200 if good else 401)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def token_service(engine) -> Iterator[TokenService]:
    service = TokenService(engine.token.reveal(), lifetime=3600)
    yield service
    service.close()


def oauth_connect(engine, service, **extra):
    return connect(host=engine.host, port=engine.port, catalog="demo", database="main", client_id="notebook",
                   client_secret="client-secret-value-42", token_url=service.url, **extra)


def test_client_credentials_are_fetched_lazily_and_reused(engine, token_service):
    conn = oauth_connect(engine, token_service)
    assert token_service.requests == 0  # nothing is sent before the first call
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM customers")
    assert cur.fetchone() == (10000,)
    cur.execute("SELECT 1")
    assert token_service.requests == 1
    assert "client-secret-value-42" not in repr(conn) and engine.token.reveal() not in repr(conn)
    conn.close()


def test_token_is_refreshed_before_expiry(engine, token_service):
    token_service.lifetime = 30  # inside the refresh margin: every use asks for a new one
    conn = oauth_connect(engine, token_service)
    cur = conn.cursor()
    for n in range(3):
        cur.execute("SELECT %s", (n,))
        assert cur.fetchone() == (n,)
    assert token_service.requests >= 3
    conn.close()


def test_fixed_access_token_and_a_wrong_one(engine):
    conn = connect(host=engine.host, port=engine.port, catalog="demo", access_token=engine.token.reveal())
    cur = conn.cursor()
    cur.execute("SELECT 5")
    assert cur.fetchone() == (5,)
    conn.close()
    bad = connect(host=engine.host, port=engine.port, catalog="demo", access_token="wrong-token-abcdef")
    with pytest.raises(OperationalError) as info:
        bad.cursor().execute("SELECT 5")
    assert engine.address in str(info.value) and "wrong-token-abcdef" not in str(info.value)
    bad.close()


def test_token_service_refusal_is_one_clear_line(engine, token_service):
    conn = connect(host=engine.host, port=engine.port, catalog="demo", client_id="notebook",
                   client_secret="client-secret-value-42", token_url=token_service.url, client_auth_method="post")
    with pytest.raises(OperationalError, match="did not issue a token") as info:
        conn.cursor().execute("SELECT 1")
    assert "client-secret-value-42" not in str(info.value)
    conn.close()
