"""The local e6data engine: the e6data gRPC protocol served over DuckDB."""
from __future__ import annotations

from e6magic.engine.server import LocalEngine

__all__ = ["LocalEngine"]
