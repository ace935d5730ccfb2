"""The client's exceptions, the PEP 249 tree, and the one place gRPC errors are translated.

    Warning
    Error
    ├── InterfaceError                 misuse of the client (closed cursor, nothing executed, bad argument)
    └── DatabaseError                  the engine said no
        ├── DataError                  a value out of range
        ├── OperationalError           the engine or the link to it
        │   ├── QueryCancelled         the query was cancelled (by the user, an interrupt or the engine)
        │   │   └── CancelNotConfirmed cancelled here; the engine has not confirmed it yet
        │   ├── EngineUnreachable      no answer: down, refused, reset, or the call ended without one
        │   ├── DeadlineExceeded       the call's deadline passed (names the call, endpoint and seconds)
        │   ├── WrongColour            blue/green: the other colour serves new work (`status: 456`)
        │   ├── ClusterSuspended       the cluster is suspended (`status: 503`)
        │   ├── CredentialsRefused     the user or token was not accepted
        │   └── SessionExpired         the session is unknown to the engine
        │       └── EngineRestarted    ...because the engine restarted since the session was made
        ├── IntegrityError
        ├── InternalError              an engine fault
        ├── ProgrammingError           the SQL: syntax, unknown table or column, bad parameters
        │   ├── SqlSyntaxError         the engine could not parse the SQL
        │   └── ObjectNotFound         an unknown table, schema, column or query
        └── NotSupportedError          the engine does not implement the call

Only `from_rpc_error` reads the engine's text (the wire protocol puts `status: 456` and `status: 503` in
the details); everything downstream decides by class.
"""
from __future__ import annotations

import re

import grpc


class Warning(Exception):  # noqa: A001 - the name PEP 249 asks for
    """A notice from the engine that did not stop the work."""


class Error(Exception):
    """Base of every error the client raises; one line, with the engine's text, the endpoint and the query id."""

    def __init__(self, message: str, *, query_id: str | None = None, engine_message: str | None = None,
                 endpoint: str | None = None, grpc_code: grpc.StatusCode | None = None,
                 method: str | None = None) -> None:
        self.query_id = query_id or None
        self.engine_message = engine_message
        self.endpoint = endpoint
        self.grpc_code = grpc_code
        self.method = method
        text = " ".join(str(message).split())
        if self.query_id and self.query_id not in text:
            text = f"{text} (query id: {self.query_id})"
        super().__init__(text)

    def __reduce__(self) -> tuple[object, ...]:
        # pickled as it is, message and all: rebuilding through __init__ would fold a multi-line text
        return (_restore, (type(self), self.args), self.__dict__)


def _restore(cls: type[Error], args: tuple[object, ...]) -> Error:
    error = cls.__new__(cls)
    error.args = args
    return error


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


class CancelNotConfirmed(QueryCancelled):
    """The query was cancelled here, but the engine did not confirm it in time; the client keeps trying."""


class EngineUnreachable(OperationalError):
    """The engine did not answer: down, connection refused or reset, or the call ended without a word.

    `request_sent` is False when the channel had no connection at all, so the request cannot have run."""

    request_sent = True


class DeadlineExceeded(OperationalError):
    """The call's deadline passed before the engine answered."""


class WrongColour(OperationalError):
    """Blue/green: the colour asked for does not serve new work now; nothing was started."""


class ClusterSuspended(OperationalError):
    """The cluster is suspended; nothing was started."""


class CredentialsRefused(OperationalError):
    """The engine did not accept the user or the token."""


class SessionExpired(OperationalError):
    """The engine does not know the session (expired, or never made there); nothing was started."""


class EngineRestarted(SessionExpired):
    """The session is unknown because the engine restarted after it was made."""


class IntegrityError(DatabaseError):
    """A constraint was violated."""


class InternalError(DatabaseError):
    """The engine hit an internal fault."""


class ProgrammingError(DatabaseError):
    """The SQL or its parameters are wrong: syntax, unknown table or column, bad parameter."""


class SqlSyntaxError(ProgrammingError):
    """The engine could not parse the SQL."""


class ObjectNotFound(ProgrammingError):
    """The SQL (or a call) names a table, schema, column or query the engine does not know."""


class NotSupportedError(DatabaseError):
    """The engine does not support what was asked."""


ERROR_FOR_CODE: dict[grpc.StatusCode, type[Error]] = {
    grpc.StatusCode.OK: InternalError,
    grpc.StatusCode.CANCELLED: QueryCancelled,
    grpc.StatusCode.UNKNOWN: InternalError,
    grpc.StatusCode.INVALID_ARGUMENT: ProgrammingError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.NOT_FOUND: ObjectNotFound,
    grpc.StatusCode.ALREADY_EXISTS: ProgrammingError,
    grpc.StatusCode.PERMISSION_DENIED: OperationalError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: OperationalError,
    grpc.StatusCode.FAILED_PRECONDITION: ProgrammingError,
    grpc.StatusCode.ABORTED: OperationalError,
    grpc.StatusCode.OUT_OF_RANGE: DataError,
    grpc.StatusCode.UNIMPLEMENTED: NotSupportedError,
    grpc.StatusCode.INTERNAL: InternalError,
    grpc.StatusCode.UNAVAILABLE: EngineUnreachable,
    grpc.StatusCode.DATA_LOSS: InternalError,
    grpc.StatusCode.UNAUTHENTICATED: CredentialsRefused,
}

_QUERY_ID = re.compile(r"\(query id: ([0-9A-Za-z_-]+)\)")
# what gRPC core writes when the channel had no connection at all (the request never left)
_NEVER_SENT = ("failed to connect to all addresses", "Connection refused", "connections to all backends failing")


def from_rpc_error(exc: grpc.RpcError, endpoint: str, query_id: str | None = None, *, method: str | None = None,
                   timeout: float | None = None, after_outage: bool = False) -> Error:
    """The most specific client error for a failed RPC; the raw gRPC trace never reaches the user.

    `after_outage`: the channel lost the engine since the last sign-in, so an unknown session means a restart."""
    code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
    details = (exc.details() if hasattr(exc, "details") else "") or code.name.lower().replace("_", " ")
    found = _QUERY_ID.search(details)
    query_id = query_id or (found.group(1) if found else None)
    cls, message = _classify(code, details, endpoint, method, timeout, after_outage)
    error = cls(message, query_id=query_id, engine_message=details, endpoint=endpoint, grpc_code=code, method=method)
    if isinstance(error, EngineUnreachable):
        error.request_sent = not any(marker in details for marker in _NEVER_SENT)
    return error


def _classify(code: grpc.StatusCode, details: str, endpoint: str, method: str | None, timeout: float | None,
              after_outage: bool) -> tuple[type[Error], str]:
    line = " ".join(details.split())
    call = method or "the call"
    if code == grpc.StatusCode.UNKNOWN and "status: 456" in details:
        return WrongColour, f"e6data engine at {endpoint} serves new work on the other colour ({line})"
    if code == grpc.StatusCode.UNAVAILABLE and "status: 503" in details:
        return ClusterSuspended, f"e6data cluster at {endpoint} is suspended ({line})"
    if code == grpc.StatusCode.INTERNAL and "Access denied" in details:
        if after_outage:
            return EngineRestarted, (f"e6data engine at {endpoint} restarted and no longer knows the session "
                                     f"({line})")
        return SessionExpired, f"e6data engine at {endpoint}: the session expired ({line})"
    if code == grpc.StatusCode.CANCELLED and details.strip().lower() in ("", "cancelled"):
        # No word from the engine: gRPC itself ended the call (the server shut down, the link broke).
        return EngineUnreachable, f"e6data engine at {endpoint} ended {call} without an answer (it may have stopped)"
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        within = f" within {timeout:.3g} s" if timeout is not None else ""
        return DeadlineExceeded, f"{call} to e6data engine at {endpoint} got no answer{within} (deadline exceeded)"
    if code == grpc.StatusCode.UNAVAILABLE:
        return EngineUnreachable, f"e6data engine at {endpoint} is unreachable ({call}): {line}"
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return CredentialsRefused, f"e6data engine at {endpoint} refused the credentials: {line}"
    if code == grpc.StatusCode.INVALID_ARGUMENT and "Parser Error" in details:
        return SqlSyntaxError, line
    return ERROR_FOR_CODE.get(code, InternalError), line
