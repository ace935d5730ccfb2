"""OAuth2 bearer tokens: a fixed access token, or client credentials fetched and refreshed before expiry."""
from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
import urllib.request
from http.client import HTTPMessage
from typing import IO

from e6magic.client.exceptions import InterfaceError, OperationalError
from e6magic.client.secret import Secret, masked

REFRESH_MARGIN = 60.0  # seconds before expiry a token is renewed


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: HTTPMessage, newurl: str) -> None:
        return None  # never follow a redirect with a secret


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


class BearerTokens:
    """Hands out a current bearer token; client-credential tokens are fetched lazily and renewed."""

    def __init__(self, *, access_token: str | Secret | None = None, client_id: str | None = None,
                 client_secret: str | Secret | None = None, token_url: str | None = None, scope: str | None = None,
                 client_auth_method: str = "basic") -> None:
        styles = [bool(access_token), bool(client_id or client_secret or token_url)]
        if all(styles):
            raise InterfaceError("give either access_token or client_id/client_secret/token_url, not both")
        if styles[1] and not (client_id and client_secret and token_url):
            raise InterfaceError("client credentials need client_id, client_secret and token_url together")
        if token_url and not _acceptable_url(token_url):
            raise InterfaceError("token_url must be https:// (plain http only on loopback)")
        self._fixed = masked(access_token)
        self._id, self._secret, self._url, self._scope = client_id, masked(client_secret), token_url, scope
        self._auth_method = client_auth_method
        self._token: Secret | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "BearerTokens(<hidden>)"

    def token(self, *, force_refresh: bool = False) -> Secret:
        if self._fixed:
            return self._fixed
        with self._lock:
            if force_refresh or self._token is None or time.time() > self._expires - REFRESH_MARGIN:
                self._token, self._expires = self._fetch()
            return self._token

    def _fetch(self) -> tuple[Secret, float]:
        client_id, secret, url = self._id, self._secret, self._url
        if not (client_id and secret and url):  # __init__ sees to it: only a fixed token comes without them
            raise InterfaceError("client credentials need client_id, client_secret and token_url together")
        form = {"grant_type": "client_credentials"}
        if self._scope:
            form["scope"] = self._scope
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if self._auth_method == "post":
            form.update(client_id=client_id, client_secret=secret.reveal())
        else:
            headers["Authorization"] = "Basic " + base64.b64encode(
                f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(secret.reveal(), safe='')}".encode()
            ).decode()
        request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), headers=headers)
        try:
            with _OPENER.open(request, timeout=30) as response:
                body = json.loads(response.read().decode())
        except (OSError, ValueError) as exc:
            # the message names the service, never the secret
            raise OperationalError(f"token service {self._url} did not issue a token: {type(exc).__name__}") from None
        token, lifetime = body.get("access_token"), body.get("expires_in", 3600)
        if not isinstance(token, str) or not token or not isinstance(lifetime, (int, float)):
            raise OperationalError(f"token service {self._url} answered without a usable access_token")
        return Secret(token), time.time() + float(lifetime)


def _acceptable_url(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"))


