"""The query registry: prepare, run on DuckDB (pooled cursors, one per worker), cancel, and stream wire chunks."""
from __future__ import annotations

import json
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import duckdb
import grpc
import pyarrow as pa

from e6magic.engine import literals
from e6magic.engine.catalog import DEFAULT_SCHEMA, DEMO_CATALOG
from e6magic.engine.errors import EngineError, query_error
from e6magic.engine.sqltext import one_statement, qualified, quote_identifier
from e6magic.wire import VectorType, encode_chunk, encode_metadata, metadata_for, vector_type_for

MAX_SQL_BYTES = 16 * 1024 * 1024
FINAL_STATES = ("finished", "failed", "cancelled")
_MAKES_MACRO = re.compile(r"macro|function", re.IGNORECASE)
_WAIT_SLICE = 0.05

# DuckDB types the wire carries as they are (by DuckDBPyType.id); everything else is rewritten below.
_PASS_THROUGH = {
    "boolean", "tinyint", "smallint", "integer", "bigint", "utinyint", "usmallint", "uinteger", "float",
    "double", "decimal", "varchar", "blob", "date", "timestamp", "timestamp_s", "timestamp_ms", "timestamp_ns",
    "timestamp with time zone", "null",
}
# id -> (SQL template for the column, vector type or None to derive it from the Arrow type)
_REWRITES: dict[str, tuple[str, VectorType | None]] = {
    "list": ("CAST({c} AS VARCHAR)", VectorType.ARRAY),
    "array": ("CAST({c} AS VARCHAR)", VectorType.ARRAY),
    "struct": ("CAST({c} AS VARCHAR)", VectorType.STRUCT),
    "map": ("CAST({c} AS VARCHAR)", VectorType.MAP),
    "interval": ("epoch_us({c})", VectorType.INTERVAL_DAY_SECOND),
    "hugeint": ("CAST({c} AS DECIMAL(38, 0))", None),
    "uhugeint": ("CAST({c} AS DECIMAL(38, 0))", None),
    "ubigint": ("CAST({c} AS DECIMAL(20, 0))", None),
}

# Rows per chunk. A client holds a few V2 responses' worth of chunks while it decodes (the one it reads,
# the one arriving, gRPC's buffers), so smaller responses bound its peak memory: 16,384 rows in 1 MiB
# responses measured as fast as 65,536 rows in 8 MiB, at 1.4x instead of 2.2x the final DataFrame
# (docs/benchmarks.md, Client).
DEFAULT_CHUNK_ROWS = 16384


@dataclass
class Query:
    """One query's life on the engine; `state` moves prepared > running > finished|failed|cancelled."""

    query_id: str
    session_id: str
    sql: str
    catalog: str
    schema: str
    colour: str
    parse_ms: int
    returns_rows: bool = True  # False for DDL and DML: the answer is a count of changed rows, no result set
    state: str = "prepared"
    created: float = field(default_factory=time.monotonic)
    started: float | None = None
    ended: float | None = None
    error: EngineError | None = None
    metadata: bytes = b""
    row_count: int = 0
    profile: dict | None = None
    done: threading.Event = field(default_factory=threading.Event)
    _cursor: duckdb.DuckDBPyConnection | None = None
    _chunks: EncodedChunks | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _fetch_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def queue_ms(self) -> int:
        return int(((self.started or self.created) - self.created) * 1000)


class QueryRegistry:
    """All queries not yet cleared, the states of recently cleared ones, and the workers that run them."""

    def __init__(self, db: duckdb.DuckDBPyConnection, chunk_rows: int = DEFAULT_CHUNK_ROWS, workers: int = 8,
                 default_catalog: str = DEMO_CATALOG) -> None:
        self._db = db
        self.default_catalog = default_catalog  # for requests that name none (prepareStatement V1, SELECT 1)
        self.chunk_rows = chunk_rows
        self._queries: dict[str, Query] = {}
        self._last_states: dict[str, str] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="e6-query")
        # One profiled cursor per worker, made now: once host access is locked, no SET can turn profiling on
        # (the lock covers every option), so a cursor made later could not profile its query.
        self._cursors: queue.SimpleQueue[duckdb.DuckDBPyConnection] = queue.SimpleQueue()
        for _ in range(workers):
            cursor = db.cursor()
            cursor.execute("SET enable_profiling = 'no_output'")
            self._cursors.put(cursor)
        # apart from the query runners, so encoding never waits behind a long query
        self._encoders = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="e6-encode")

    # --- lifecycle ---------------------------------------------------------------------------------
    def prepare(self, session_id: str, sql: str, catalog: str, schema: str, colour: str) -> Query:
        query_id = uuid.uuid4().hex
        if len(sql.encode()) > MAX_SQL_BYTES:
            raise EngineError(grpc.StatusCode.INVALID_ARGUMENT,
                              f"query text is over {MAX_SQL_BYTES // (1024 * 1024)} MiB (query id: {query_id})")
        if not sql.strip():
            raise EngineError(grpc.StatusCode.INVALID_ARGUMENT, f"empty query text (query id: {query_id})")
        sql = literals.check(sql, query_id)  # e6data's string literals, as DuckDB reads them
        started = time.perf_counter()
        cursor = self._db.cursor()
        try:
            statements = one_statement(cursor, sql, query_id)
        finally:
            cursor.close()
        query = Query(query_id, session_id, sql, catalog or self.default_catalog, schema or DEFAULT_SCHEMA, colour,
                      parse_ms=int((time.perf_counter() - started) * 1000),
                      returns_rows=not statements or returns_rows(statements[-1]))
        with self._lock:
            self._queries[query_id] = query
        return query

    def execute(self, query_id: str) -> Query:
        query = self.get(query_id)
        with query._lock:
            if query.state != "prepared":
                return query  # executing twice is a no-op, not a second run
            query.state = "running"
            query.started = time.monotonic()
        self._pool.submit(self._run, query)
        return query

    def _run(self, query: Query) -> None:
        with query._lock:
            if query.state == "cancelled":
                self._end(query)
                return
            cursor = self._cursors.get()
            query._cursor = cursor
        try:
            cursor.execute(f"USE {qualified(query.catalog, query.schema)}")
            relation = cursor.sql(query.sql)
            if query.returns_rows or _has_returning(relation):
                table, vector_types = _materialise(relation)
                row_count = table.num_rows
            else:
                table, vector_types, row_count = pa.table({}), None, _changed_rows(relation)
            profile = json.loads(cursor.get_profiling_information(format="json"))
        except Exception as exc:  # noqa: BLE001 - every failure becomes the query's answer
            with query._lock:
                if query.state != "cancelled":
                    query.state = "failed"
                    query.error = query_error(exc, query.query_id)
        else:
            with query._lock:
                if query.state != "cancelled":
                    query.row_count = row_count
                    query.metadata = encode_metadata(metadata_for(table.schema, row_count, vector_types))
                    query.profile = profile
                    query._chunks = EncodedChunks(table.to_batches(max_chunksize=self.chunk_rows), vector_types,
                                                  self._encoders)
                    query.state = "finished"
        finally:
            with query._lock:
                query._cursor = None
            try:
                forget_session_state(cursor, query.sql)
            finally:
                self._cursors.put(cursor)
                self._end(query)

    @staticmethod
    def _end(query: Query) -> None:
        query.ended = time.monotonic()
        query.done.set()

    def cancel(self, query_id: str) -> None:
        """Stop a prepared or running query; quiet for unknown, empty and already-ended ids."""
        query = self._find(query_id)
        if query is not None:
            self._cancel(query)

    def _cancel(self, query: Query) -> None:
        with query._lock:
            if query.state in FINAL_STATES:
                return
            was_prepared = query.state == "prepared"
            query.state = "cancelled"
            query.error = EngineError(grpc.StatusCode.CANCELLED, f"query {query.query_id} was cancelled")
            query._chunks = None
        if was_prepared:
            self._end(query)
        else:
            threading.Thread(target=self._interrupt_until_done, args=(query,), name="e6-cancel", daemon=True).start()

    @staticmethod
    def _interrupt_until_done(query: Query) -> None:
        # An interrupt that lands between two statements of the worker (or before DuckDB starts) is lost:
        # repeat it until the worker has let go of the query.
        while True:
            with query._lock:
                if query._cursor is not None:
                    query._cursor.interrupt()
            if query.done.wait(_WAIT_SLICE):
                return

    def clear(self, query_id: str) -> None:
        """Forget a query and free its result; quiet for unknown and empty ids."""
        with self._lock:
            query = self._queries.pop(query_id, None)
        if query is None:
            return
        self._cancel(query)  # by object: the id is no longer registered
        with query._lock:
            query._chunks = None
        with self._lock:
            self._last_states[query_id] = query.state
            if len(self._last_states) > 10000:  # bounded memory of recently cleared ids
                self._last_states.pop(next(iter(self._last_states)))

    # --- results -----------------------------------------------------------------------------------
    def wait(self, query: Query, still_wanted: Callable[[], bool], timeout: float | None = None) -> bool:
        """Wait for the query to end, in slices, so a caller that went away stops the wait."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not query.done.wait(_WAIT_SLICE):
            if not still_wanted() or (deadline is not None and time.monotonic() >= deadline):
                return False
        return True

    def result_or_raise(self, query: Query) -> None:
        if query.state == "cancelled" or query.state == "failed":
            raise query.error  # type: ignore[misc]

    def next_chunks(self, query: Query, max_chunks: int, max_bytes: int) -> tuple[list[bytes], bool]:
        """Up to `max_chunks` more encoded chunks (one caller at a time per query); returns (chunks, ended)."""
        out: list[bytes] = []
        size = 0
        with query._fetch_lock:
            while len(out) < max_chunks and size < max_bytes:
                chunks = query._chunks
                if chunks is None:
                    self.result_or_raise(query)
                    return out, True
                payload = chunks.take()
                if payload is None:
                    return out, True
                out.append(payload)
                size += len(payload)
        return out, False

    # --- lookups -----------------------------------------------------------------------------------
    def _find(self, query_id: str) -> Query | None:
        with self._lock:
            return self._queries.get(query_id)

    def get(self, query_id: str) -> Query:
        query = self._find(query_id)
        if query is None:
            raise EngineError(grpc.StatusCode.NOT_FOUND, f"unknown query id {query_id!r} (cleared or never prepared)")
        return query

    def states(self) -> dict[str, str]:
        with self._lock:
            return {qid: q.state for qid, q in self._queries.items()}

    def state_of(self, query_id: str) -> str | None:
        with self._lock:
            query = self._queries.get(query_id)
            return query.state if query is not None else self._last_states.get(query_id)

    def close(self) -> None:
        for query_id in list(self.states()):
            self.clear(query_id)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._encoders.shutdown(wait=True, cancel_futures=True)


class EncodedChunks:
    """A finished result's wire chunks in order, each encoded on a worker while the one before it is sent
    (the encode is off the RPC's path: measured in docs/benchmarks.md, Engine)."""

    def __init__(self, batches: list[pa.RecordBatch], vector_types: list[VectorType] | None,
                 encoders: ThreadPoolExecutor) -> None:
        self._batches = iter(batches)
        self._vector_types = vector_types
        self._encoders = encoders
        self._ahead: Future | None = encoders.submit(self._encode_next)

    def _encode_next(self) -> bytes | None:
        for batch in self._batches:
            if batch.num_rows:
                return encode_chunk(batch, self._vector_types)
        return None

    def take(self) -> bytes | None:
        """The next chunk, or None at the end; the one after it starts encoding now."""
        if self._ahead is None:
            return None
        payload = self._ahead.result()
        self._ahead = self._encoders.submit(self._encode_next) if payload is not None else None
        return payload


def forget_session_state(cursor: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Drop what a query left on its pooled cursor for the next one (maybe another user's) to find: temporary
    tables, views, sequences and macros, and variables (about 2 ms)."""
    found = cursor.execute("""
        SELECT 'TABLE', schema_name, table_name FROM duckdb_tables() WHERE temporary
        UNION ALL SELECT 'VIEW', schema_name, view_name FROM duckdb_views() WHERE temporary AND NOT internal
        UNION ALL SELECT 'SEQUENCE', schema_name, sequence_name FROM duckdb_sequences() WHERE temporary
    """).fetchall()
    if _MAKES_MACRO.search(sql):  # listing functions takes 18 ms: only after a statement that can make one
        found += cursor.execute("""
            SELECT CASE WHEN function_type = 'table_macro' THEN 'MACRO TABLE' ELSE 'MACRO' END, schema_name,
                   function_name
            FROM duckdb_functions() WHERE database_name = 'temp' AND function_type IN ('macro', 'table_macro')
        """).fetchall()
    for kind, schema, name in found:
        cursor.execute(f"DROP {kind} IF EXISTS {qualified('temp', schema, name)}")
    for (name,) in cursor.execute("SELECT name FROM duckdb_variables()").fetchall():
        cursor.execute(f"RESET VARIABLE {quote_identifier(name)}")


def returns_rows(statement: duckdb.Statement) -> bool:
    """Whether a statement answers with a result set; DDL, DML and SET answer with a count of changed rows.

    DuckDB hands back a one-column "Count" relation for DDL and DML, which a client would take for a result.
    """
    expected = statement.expected_result_type
    return duckdb.ExpectedResultType.CHANGED_ROWS not in expected and expected != [duckdb.ExpectedResultType.NOTHING]


def _has_returning(relation: duckdb.DuckDBPyRelation | None) -> bool:
    # DuckDB answers DDL/DML with a "Count" relation, DROP and SET with "Success"; anything else (INSERT ...
    # RETURNING) has rows to show
    return relation is not None and relation.columns not in (["Count"], ["Success"])


def _changed_rows(relation: duckdb.DuckDBPyRelation | None) -> int:
    """The rows a DDL/DML statement changed (DuckDB's "Count" answer); 0 where it has none."""
    if relation is None or relation.columns != ["Count"]:
        return 0
    counts = relation.fetchall()
    return int(sum(row[0] or 0 for row in counts))


def _materialise(relation: duckdb.DuckDBPyRelation | None) -> tuple[pa.Table, list[VectorType] | None]:
    """Run the relation into one Arrow table (the only copy of the result), with wire-ready column types."""
    if relation is None:  # a statement with no result set (CREATE, INSERT, SET, ...)
        return pa.table({}), None
    expressions, overrides, rewritten = [], [], False
    for name, duck_type in zip(relation.columns, relation.types):
        column = quote_identifier(name)
        kind = duck_type.id
        template, vector_type = _REWRITES.get(kind, ("{c}", None))
        if kind not in _PASS_THROUGH and kind not in _REWRITES:
            template, vector_type = "CAST({c} AS VARCHAR)", VectorType.STRING
        rewritten |= template != "{c}"
        expressions.append(f"{template.format(c=column)} AS {column}")
        overrides.append(vector_type)
    if rewritten:
        relation = relation.project(", ".join(expressions))
    table = relation.to_arrow_table()
    if not rewritten:
        return table, None
    columns = []
    for array, vector_type in zip(table.columns, overrides):
        if vector_type is VectorType.INTERVAL_DAY_SECOND:
            array = array.cast(pa.duration("us"))
        columns.append(array)
    table = pa.table(columns, names=table.column_names)
    return table, [vt or vector_type_for(f.type) for vt, f in zip(overrides, table.schema)]
