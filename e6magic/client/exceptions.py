"""The client's exceptions, the PEP 249 tree, and the one place gRPC errors are translated.

    Warning
    Error
    ├── InterfaceError                 misuse of the client (closed cursor, nothing executed, bad argument)
    └── DatabaseError                  the engine said no
        ├── DataError                  a value out of range
        ├── OperationalError           the engine or the link to it: down, dropped, timed out, bad credentials
        │   └── QueryCancelled         the query was cancelled (by the user, an interrupt or the engine)
        ├── IntegrityError
        ├── InternalError              an engine fault
        ├── ProgrammingError           the SQL: syntax, unknown table or column, bad parameters
        └── NotSupportedError          the engine does not implement the call
"""
from __future__ import annotations

import re

import grpc


class Warning(Exception):  # noqa: A001 - the name PEP 249 asks for
    """A notice from the engine that did not stop the work."""


class Error(Exception):
    """Base of every error the client raises; one line, with the engine's text and the query id."""

    def __init__(self, message: str, *, query_id: str | None = None, engine_message: str | None = None,
                 endpoint: str | None = None, grpc_code: grpc.StatusCode | None = None) -> None:
        self.query_id = query_id or None
        self.engine_message = engine_message
        self.endpoint = endpoint
        self.grpc_code = grpc_code
        text = " ".join(str(message).split())
        if self.query_id and self.query_id not in text:
            text = f"{text} (query id: {self.query_id})"
        super().__init__(text)


class InterfaceError(Error):
    """The client was used wrongly (closed cursor, no result to fetch, a bad argument)."""


class DatabaseError(Error):
    """The engine reported an error."""


class DataError(DatabaseError):
    """A value could not be represented or was out of range."""


class OperationalError(DatabaseError):
    """The engine or the connection to it failed: unavailable, dropped, timed out, or credentials refused."""


class QueryCancelled(OperationalError):
    """The query was cancelled before it finished; no result is handed out."""


class IntegrityError(DatabaseError):
    """A constraint was violated."""


class InternalError(DatabaseError):
    """The engine hit an internal fault."""


class ProgrammingError(DatabaseError):
    """The SQL or its parameters are wrong: syntax, unknown table or column, bad parameter."""


class NotSupportedError(DatabaseError):
    """The engine does not support what was asked."""


ERROR_FOR_CODE: dict[grpc.StatusCode, type[Error]] = {
    grpc.StatusCode.OK: InternalError,
    grpc.StatusCode.CANCELLED: QueryCancelled,
    grpc.StatusCode.UNKNOWN: InternalError,
    grpc.StatusCode.INVALID_ARGUMENT: ProgrammingError,
    grpc.StatusCode.DEADLINE_EXCEEDED: OperationalError,
    grpc.StatusCode.NOT_FOUND: ProgrammingError,
    grpc.StatusCode.ALREADY_EXISTS: ProgrammingError,
    grpc.StatusCode.PERMISSION_DENIED: OperationalError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: OperationalError,
    grpc.StatusCode.FAILED_PRECONDITION: ProgrammingError,
    grpc.StatusCode.ABORTED: OperationalError,
    grpc.StatusCode.OUT_OF_RANGE: DataError,
    grpc.StatusCode.UNIMPLEMENTED: NotSupportedError,
    grpc.StatusCode.INTERNAL: InternalError,
    grpc.StatusCode.UNAVAILABLE: OperationalError,
    grpc.StatusCode.DATA_LOSS: InternalError,
    grpc.StatusCode.UNAUTHENTICATED: OperationalError,
}

_QUERY_ID = re.compile(r"\(query id: ([0-9A-Za-z_-]+)\)")
_TRANSPORT_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def from_rpc_error(exc: grpc.RpcError, endpoint: str, query_id: str | None = None) -> Error:
    """The most specific client error for a failed RPC; the raw gRPC trace never reaches the user."""
    code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
    details = (exc.details() if hasattr(exc, "details") else "") or code.name.lower().replace("_", " ")
    found = _QUERY_ID.search(details)
    query_id = query_id or (found.group(1) if found else None)
    cls = ERROR_FOR_CODE.get(code, InternalError)
    if code == grpc.StatusCode.CANCELLED and details.strip().lower() in ("", "cancelled"):
        # No word from the engine: gRPC itself ended the call (the server shut down, the link broke).
        cls = OperationalError
        message = f"e6data engine at {endpoint} ended the call without an answer (it may have stopped)"
    elif code in _TRANSPORT_CODES and "status: 503" not in details:
        message = f"e6data engine at {endpoint} is unreachable ({code.name.lower()}): {_first_line(details)}"
    elif code == grpc.StatusCode.UNAUTHENTICATED:
        message = f"e6data engine at {endpoint} refused the credentials: {_first_line(details)}"
    else:
        message = _first_line(details)
    return cls(message, query_id=query_id, engine_message=details, endpoint=endpoint, grpc_code=code)


def _first_line(text: str) -> str:
    return " ".join(text.split())
