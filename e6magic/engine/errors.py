"""Maps DuckDB exceptions to gRPC status codes, by exception class, in one table."""
from __future__ import annotations

import duckdb
import grpc


class EngineError(Exception):
    """An error the engine answers with: a gRPC status code and a one-line details text."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


# Most specific first: InterruptException and friends all derive from duckdb.Error.
_STATUS_BY_CLASS: tuple[tuple[type[BaseException], grpc.StatusCode], ...] = (
    (duckdb.InterruptException, grpc.StatusCode.CANCELLED),
    (duckdb.ParserException, grpc.StatusCode.INVALID_ARGUMENT),
    (duckdb.SyntaxException, grpc.StatusCode.INVALID_ARGUMENT),
    (duckdb.CatalogException, grpc.StatusCode.NOT_FOUND),
    (duckdb.BinderException, grpc.StatusCode.INVALID_ARGUMENT),
    (duckdb.ConversionException, grpc.StatusCode.INVALID_ARGUMENT),
    (duckdb.InvalidInputException, grpc.StatusCode.INVALID_ARGUMENT),
    (duckdb.TypeMismatchException, grpc.StatusCode.INVALID_ARGUMENT),
    (duckdb.OutOfRangeException, grpc.StatusCode.OUT_OF_RANGE),
    (duckdb.ConstraintException, grpc.StatusCode.FAILED_PRECONDITION),
    (duckdb.TransactionException, grpc.StatusCode.ABORTED),
    (duckdb.OutOfMemoryException, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (duckdb.NotImplementedException, grpc.StatusCode.UNIMPLEMENTED),
    (duckdb.PermissionException, grpc.StatusCode.PERMISSION_DENIED),
    (duckdb.IOException, grpc.StatusCode.UNAVAILABLE),
)


def status_code_for(exc: BaseException) -> grpc.StatusCode:
    for cls, code in _STATUS_BY_CLASS:
        if isinstance(exc, cls):
            return code
    return grpc.StatusCode.INTERNAL


def query_error(exc: BaseException, query_id: str) -> EngineError:
    """The engine's answer to a failed query: DuckDB's message, the query id, the mapped code."""
    # DuckDB's own line breaks stay: a parser error's "LINE 1: ..." and its caret line only read right apart.
    message = "\n".join(line.rstrip() for line in str(exc).strip().splitlines() if line.strip())
    # Clients re-authenticate on INTERNAL + "Access denied" (wire §2.4): a SQL error must never look like that.
    message = message.replace("Access denied", "Access refused")
    return EngineError(status_code_for(exc), f"{message} (query id: {query_id})")
