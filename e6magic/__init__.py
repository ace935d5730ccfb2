"""e6magic: %%e6sql magics, live widgets and a fast client for the e6data SQL engine."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from e6magic.client import (
        BINARY,
        DATETIME,
        NUMBER,
        ROWID,
        STRING,
        Binary,
        Connection,
        DatabaseError,
        DataError,
        Date,
        DateFromTicks,
        Error,
        IntegrityError,
        InterfaceError,
        InternalError,
        NotSupportedError,
        OperationalError,
        ProgrammingError,
        QueryCancelled,
        Time,
        TimeFromTicks,
        Timestamp,
        TimestampFromTicks,
        Warning,  # noqa: A004 - the name PEP 249 asks for
        apilevel,
        connect,
        paramstyle,
        threadsafety,
    )

__version__ = "0.1.0"

# PEP 249 asks for the module globals, type objects, constructors and exceptions on the driver module itself
__all__ = [
    "BINARY", "Binary", "Connection", "DATETIME", "DataError", "DatabaseError", "Date", "DateFromTicks",
    "Error", "IntegrityError", "InterfaceError", "InternalError", "NUMBER", "NotSupportedError",
    "OperationalError", "ProgrammingError", "QueryCancelled", "ROWID", "STRING", "Time", "TimeFromTicks",
    "Timestamp", "TimestampFromTicks", "Warning", "__version__", "apilevel", "browse", "connect",
    "load_ipython_extension", "paramstyle", "threadsafety", "unload_ipython_extension",
]

# The client's names load it on first use: grpc, pyarrow, numpy and the stubs took `import e6magic`
# (and so `%load_ext e6magic`) 0.5-0.6 s; see "Start-up" in docs/benchmarks.md.
_FROM_CLIENT = frozenset(__all__) - {"__version__", "browse", "load_ipython_extension", "unload_ipython_extension"}


def __getattr__(name: str) -> Any:
    if name in _FROM_CLIENT:
        value = getattr(importlib.import_module("e6magic.client"), name)
        globals()[name] = value  # later look-ups are plain module attributes
        return value
    raise AttributeError(f"module 'e6magic' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _FROM_CLIENT)


def browse(conn: Connection | None = None) -> Any:
    """A SchemaBrowser widget for ``conn``, or for the running shell's current `%%e6sql` connection.

    Without ``conn`` the connection is opened as a query would open it (the embedded local engine
    when nothing is configured); that needs IPython with `%load_ext e6magic`.
    """
    from e6magic.widgets import SchemaBrowser

    if conn is None:
        conn = _magic_session().connection()
    return SchemaBrowser(conn)


def _magic_session() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        get_ipython = None
    shell = get_ipython() if get_ipython is not None else None
    magics = shell.magics_manager.registry.get("E6SqlMagics") if shell is not None else None
    if magics is None:
        raise RuntimeError("e6magic.browse() needs a connection: pass conn=e6magic.connect(...), "
                           "or run %load_ext e6magic in IPython first.")
    return magics.session


def load_ipython_extension(ip: InteractiveShell) -> None:
    from e6magic.magic import load_ipython_extension as _load

    _load(ip)


def unload_ipython_extension(ip: InteractiveShell) -> None:
    from e6magic.magic import unload_ipython_extension as _unload

    _unload(ip)
