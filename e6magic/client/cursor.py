"""The PEP 249 `Cursor`: execute, fetch rows or Arrow/pandas, and the per-query calls of the official connector."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

from e6magic._proto import e6x_engine_pb2 as pb
from e6magic.client import arrow_stream
from e6magic.client import catalog as catalog_calls
from e6magic.client.exceptions import InterfaceError, ProgrammingError
from e6magic.client.frame import build_frame, to_pandas  # noqa: F401 - to_pandas is part of this module's API
from e6magic.client.params import bind
from e6magic.client.query import QueryHandle
from e6magic.client.session import ClientSession
from e6magic.client.sqltypes import type_code
from e6magic.wire.types import VectorType, decimal_params, vector_type_from_name

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl


class DBAPIConnection(Protocol):
    """What a cursor's `connection` is (PEP 249): `e6magic.Connection`, named here without importing it."""

    def cursor(self) -> Cursor: ...

    def close(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class Cursor:
    """Runs one query at a time. Rows are tuples (the official connector's `fetchone()` returns a one-row
    list of lists; here it is the row itself, as PEP 249 says)."""

    arraysize = 1

    def __init__(self, connection: DBAPIConnection, session: ClientSession, *, catalog: str | None,
                 database: str | None) -> None:
        self.connection = connection
        self._session = session
        self.catalog = catalog
        self.database = database
        self.arraysize = 1
        self._handle: QueryHandle | None = None
        self._batches: Iterator[pa.RecordBatch] | None = None
        self._rows: list[tuple[Any, ...]] = []
        self._rows_batch: pa.RecordBatch | None = None  # the batch `_rows` came from
        self._row_pos = 0
        self._pending: pa.RecordBatch | None = None  # a batch taken for rows but not yet turned into rows
        self._many_rowcount: int | None = None  # executemany's total, until the next execute
        self.closed = False

    def __repr__(self) -> str:
        return f"<e6magic.Cursor query_id={self.query_id!r}>"

    # --- running ---------------------------------------------------------------------------------------
    def submit(self, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None, *,
               on_progress: Callable[[QueryHandle], None] | None = None, timeout: float | None = None) -> QueryHandle:
        """Start a query and return its handle as soon as the engine prepared and accepted it.

        `timeout`: this query's deadline in seconds (default: the connection's)."""
        self._check_open()
        self._release()
        self._many_rowcount = None
        text = bind(_strip(sql), params)
        _check_encodable(text)
        handle = QueryHandle(self._session, text, catalog=self.catalog, schema=self.database,
                             on_progress=on_progress, timeout=timeout)
        self._handle = handle
        return handle.start()

    def execute(self, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None, *,
                timeout: float | None = None) -> str:
        """Run a query; returns its id once the result's metadata is known (the rows stream afterwards)."""
        handle = self.submit(sql, params, timeout=timeout)
        handle.wait_metadata()
        return handle.query_id  # type: ignore[return-value]

    def executemany(self, sql: str, seq_of_params: Sequence[Mapping[str, Any] | Sequence[Any]]) -> str | None:
        """Run `sql` once per parameter set; afterwards `rowcount` is the rows all of them changed (-1 when
        one of them had a result set). Returns the last query's id."""
        query_id, total = None, 0
        for params in seq_of_params:
            query_id = self.execute(sql, params)
            count = self.rowcount if self.description is None else -1
            total = -1 if total < 0 or count < 0 else total + count
        self._many_rowcount = total if query_id is not None else None
        return query_id

    def setinputsizes(self, sizes: Sequence[Any]) -> None:
        """Accepted and ignored (PEP 249 allows it): parameters are bound as SQL literals, so there is nothing
        to preallocate."""

    def setoutputsize(self, size: int, column: int | None = None) -> None:
        """Accepted and ignored (PEP 249 allows it): results arrive whole in Arrow batches, never truncated."""

    @property
    def query_id(self) -> str | None:
        return self._handle.query_id if self._handle else None

    @property
    def handle(self) -> QueryHandle | None:
        return self._handle

    @property
    def description(self) -> list[tuple[Any, ...]] | None:
        """PEP 249's seven-item column tuples; None before a query and for statements with no result set
        (DDL, DML). `type_code` is the column's SQL type name (`BIGINT`, `DECIMAL(18,2)`, `TIMESTAMP WITH TIME
        ZONE`; compare it with `e6magic.STRING`, `NUMBER`...), where the official connector shows the wire's word
        (`LONG`, `DECIMAL128(18,2)`, `TIMESTAMP_TZ`: `handle.metadata.columns[i].type_name` keeps it); decimals
        carry precision and scale: the declared ones from a `DECIMAL128(p,s)` type name (what the local engine
        sends), else 38 (the wire's) and the scale of the first batch."""
        if self._handle is None or self._handle.metadata is None or not self._handle.metadata.columns:
            return None
        columns = self._handle.metadata.columns
        unnamed = [c for c in columns if vector_type_from_name(c.type_name) == VectorType.DECIMAL128
                   and decimal_params(c.type_name) is None]
        decimals = _decimal_types(self._first_batch_schema(), columns) if unnamed else {}
        out = []
        for i, c in enumerate(columns):
            precision, scale = decimal_params(c.type_name) or decimals.get(i) or (None, None)
            out.append((c.name, type_code(c.type_name, precision, scale), None, None, precision, scale, True))
        return out

    def _first_batch_schema(self) -> pa.Schema:
        """The decoded schema of what is left (a batch's, which knows decimal scales and zones), reading the
        next batch into `_pending` if need be: it is still handed out, by rows or by batches."""
        if self._rows_batch is not None:
            return self._rows_batch.schema
        if self._pending is None:
            self._pending = next(self._result_batches(), None)
        return self._pending.schema if self._pending is not None else self._schema()

    @property
    def rowcount(self) -> int:
        """Rows in the result, or rows changed by DDL/DML (summed over `executemany`), from the metadata the
        engine already sent (no extra call); -1 before that."""
        if self._many_rowcount is not None:
            return self._many_rowcount
        if self._handle is None or self._handle.metadata is None:
            return -1
        return self._handle.metadata.row_count

    # --- rows ------------------------------------------------------------------------------------------
    def _next_rows(self) -> bool:
        batch = self._pending
        self._pending = None
        if batch is None:
            batch = next(self._result_batches(), None)
        if batch is None:
            return False
        columns = [col.to_pylist() for col in batch.columns]
        self._rows, self._row_pos = list(zip(*columns, strict=True)) if columns else [()] * batch.num_rows, 0
        self._rows_batch = batch
        return True

    def _result_batches(self) -> Iterator[pa.RecordBatch]:
        if self._handle is None:
            raise InterfaceError("no query was executed on this cursor")
        if self._batches is None:
            self._batches = self._handle.batches()
        return self._batches

    def _check_result_set(self) -> None:
        if self._handle is None:
            raise InterfaceError("no query was executed on this cursor")
        if not self._handle.wait_metadata().columns:
            raise ProgrammingError("the last statement has no result set to fetch (DDL or DML)",
                                   query_id=self._handle.query_id)

    def fetchone(self) -> tuple[Any, ...] | None:
        self._check_result_set()
        while self._row_pos >= len(self._rows):
            if not self._next_rows():
                return None
        row = self._rows[self._row_pos]
        self._row_pos += 1
        return row

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        self._check_result_set()
        size = self.arraysize if size is None else size
        out: list[tuple[Any, ...]] = []
        while len(out) < size:
            if self._row_pos >= len(self._rows) and not self._next_rows():
                break
            take = self._rows[self._row_pos:self._row_pos + size - len(out)]
            self._row_pos += len(take)
            out.extend(take)
        return out

    def fetchall(self) -> list[tuple[Any, ...]]:
        self._check_result_set()
        out = list(self._rows[self._row_pos:])
        self._row_pos = len(self._rows)
        while self._next_rows():
            out.extend(self._rows)
            self._row_pos = len(self._rows)
        return out

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        while (row := self.fetchone()) is not None:
            yield row

    # --- Arrow and pandas (what is left of the result, rows already fetched excluded) ------------------------
    def fetch_batches(self) -> Iterator[pa.RecordBatch]:
        """The rest of the result as Arrow record batches, streamed (bounded memory)."""
        if self._row_pos < len(self._rows) and self._rows_batch is not None:
            # the rows not yet fetched, as the batch had them (its own decimal scales and zones), no copy
            rest = self._rows_batch.slice(self._row_pos)
            self._row_pos = len(self._rows)
            yield rest
        if self._pending is not None:
            yield self._pending
            self._pending = None
        yield from self._result_batches()

    def fetch_arrow_reader(self) -> pa.RecordBatchReader:
        """The rest of the result as a `pyarrow.RecordBatchReader`: its schema is known before the first batch
        is read (decimal scales and zones as the first chunk has them), and batches are pulled from the engine
        as the reader is read, so memory stays at about a batch. DuckDB, polars and pyarrow take it as it is."""
        # fetch_batches() is a generator: nothing is taken from the result until the reader is read, so a consumer
        # that asks for a stream only to learn its schema (DuckDB does, twice, before it scans) loses no rows
        return arrow_stream.reader(self._first_batch_schema(), self.fetch_batches())

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """The Arrow PyCapsule stream protocol: `duckdb.sql("SELECT * FROM cur")`, `polars.DataFrame(cur)` and
        `pyarrow.table(cur)` read the rest of the result straight from the cursor (`polars.from_arrow(cur)` makes
        a Series of structs, polars' choice for a bare stream: give it `cur.fetch_arrow_reader()` instead)."""
        return self.fetch_arrow_reader().__arrow_c_stream__(requested_schema)

    def fetch_polars(self) -> pl.DataFrame:
        """The rest of the result as a polars DataFrame, built from the Arrow stream (polars is optional:
        ImportError naming the pip command where it is missing)."""
        return arrow_stream.to_polars(self.fetch_arrow_reader())

    def fetch_arrow(self) -> pa.Table:
        batches = list(self.fetch_batches())
        return pa.Table.from_batches(batches) if batches else self._schema().empty_table()

    def fetch_df(self, *, exact_decimals: bool = False) -> pd.DataFrame:
        """The rest of the result as pandas; decimals become float64 (as DuckDB's `.df()`) unless
        `exact_decimals`, which keeps `decimal.Decimal` objects. Built batch by batch, so the result is
        never held as Arrow and pandas at once."""
        schema = self._schema()  # the result's metadata: its row count bounds what is left
        rows = self._handle.metadata.row_count if self._handle and self._handle.metadata else None
        return build_frame(self.fetch_batches(), schema, rows=rows, exact_decimals=exact_decimals)

    def _schema(self) -> pa.Schema:
        from e6magic.wire import arrow_schema

        if self._handle is None:
            raise InterfaceError("no query was executed on this cursor")
        return arrow_schema(self._handle.wait_metadata())

    # --- per-query calls -----------------------------------------------------------------------------------
    def cancel(self, query_id: str | None = None) -> None:
        if query_id is None or (self._handle and query_id == self._handle.query_id):
            if self._handle is not None:
                self._handle.cancel()
            return
        catalog_calls.cancel(self._session, None, query_id)

    def status(self, query_id: str | None = None) -> pb.StatusResponse:
        handle = self._need_handle()
        query_id = query_id or handle.query_id
        response: pb.StatusResponse = self._session.call("status", lambda sid: pb.StatusRequest(
            engineIP=handle.engine_ip, sessionId=sid, queryId=query_id), planner_ip=handle.engine_ip,
            colour=self._session.strategy.pinned_colour(query_id or ""), query_id=query_id)
        return response

    def explain(self) -> str:
        handle = self._need_handle()
        response: pb.ExplainResponse = self._session.call("explain", lambda sid: pb.ExplainRequest(
            engineIP=handle.engine_ip, sessionId=sid, queryId=handle.query_id), planner_ip=handle.engine_ip,
            colour=handle.colour, query_id=handle.query_id)
        return response.explain

    def explain_analyse(self) -> dict[str, Any]:
        """The engine's explain analyse for the last query: `planner` holds the parsed planner JSON."""
        return self._need_handle().explain_analyse()

    def _need_handle(self) -> QueryHandle:
        if self._handle is None or not self._handle.query_id:
            raise InterfaceError("no query was executed on this cursor")
        return self._handle

    def get_tables(self) -> list[str]:
        return catalog_calls.tables(self._session, self.catalog, self.database)

    def get_columns(self, table: str) -> list[dict[str, str]]:
        return catalog_calls.columns(self._session, self.catalog, self.database, table)

    def get_schema_names(self) -> list[str]:
        return catalog_calls.schema_names(self._session, self.catalog)

    # --- ending ----------------------------------------------------------------------------------------------
    def clear(self) -> None:
        """Clear the last query on the engine (cancelling it if it still runs)."""
        self._release()

    def _release(self) -> None:
        if self._handle is not None:
            self._handle.close()
        self._handle, self._batches, self._pending = None, None, None
        self._rows, self._row_pos, self._rows_batch = [], 0, None

    def close(self) -> None:
        if not self.closed:
            self._release()
            self.closed = True

    def _check_open(self) -> None:
        if self.closed:
            raise InterfaceError("the cursor is closed")
        self._session.check_open()

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _decimal_types(schema: pa.Schema, columns: Sequence[Any]) -> dict[int, tuple[int, int]]:
    """(precision, scale) of each decimal column, by position."""
    out = {}
    for i, _column in enumerate(columns):
        if i < len(schema) and pa.types.is_decimal(schema.field(i).type):
            out[i] = (schema.field(i).type.precision, schema.field(i).type.scale)
    return out


def _strip(sql: str) -> str:
    sql = sql.strip()
    return sql[:-1].rstrip() if sql.endswith(";") else sql



def _check_encodable(text: str) -> None:
    """The SQL goes to the engine as UTF-8: a lone surrogate (or other unencodable text) is the caller's error."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ProgrammingError(f"the SQL or a parameter holds text that is not valid Unicode "
                               f"({exc.reason} at character {exc.start}: {text[exc.start:exc.end]!r})") from None
