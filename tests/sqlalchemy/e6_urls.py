"""`e6magic://` URLs to a local test engine."""
from __future__ import annotations

from urllib.parse import quote

from e6magic.engine import LocalEngine

USER = "tester@example.com"


def e6_url(engine: LocalEngine, **query: str) -> str:
    """An `e6magic://` URL for `engine`."""
    query = {"catalog": "demo", "schema": "main", **query}
    text = "&".join(f"{key}={quote(str(value))}" for key, value in query.items() if value is not None)
    token = quote(engine.token.reveal(), safe="")
    return f"e6magic://{quote(USER, safe='')}:{token}@{engine.host}:{engine.port}/?{text}"
