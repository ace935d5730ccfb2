"""e6magic: %%e6sql magics, live widgets and a fast client for the e6data SQL engine."""
from __future__ import annotations

from e6magic.client import (
    Connection,
    DatabaseError,
    Error,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    QueryCancelled,
    connect,
)

__version__ = "0.1.0"

__all__ = [
    "Connection", "DatabaseError", "Error", "InterfaceError", "OperationalError", "ProgrammingError",
    "QueryCancelled", "__version__", "connect", "load_ipython_extension", "unload_ipython_extension",
]


def load_ipython_extension(ip):  # noqa: ANN001 - IPython's hook signature
    from e6magic.magic import load_ipython_extension as _load

    _load(ip)


def unload_ipython_extension(ip):  # noqa: ANN001
    from e6magic.magic import unload_ipython_extension as _unload

    _unload(ip)
