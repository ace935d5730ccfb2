"""Points %%e6sql at a test engine through the E6DATA_* variables (this process and kernels it starts)."""
from __future__ import annotations

from e6magic.engine import LocalEngine


def connect_through_env(monkeypatch, engine: LocalEngine, username: str) -> None:
    """Point %%e6sql (in this process or a kernel it starts) at `engine` through the E6DATA_* variables."""
    monkeypatch.setenv("E6DATA_HOST", "127.0.0.1")
    monkeypatch.setenv("E6DATA_PORT", str(engine.port))
    monkeypatch.setenv("E6DATA_USERNAME", username)
    monkeypatch.setenv("E6DATA_PASSWORD", engine.token.reveal())
