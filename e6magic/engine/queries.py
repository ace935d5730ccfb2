"""The query registry: prepare, run on DuckDB (pooled cursors, one per worker), cancel, and stream wire chunks."""
from __future__ import annotations

import collections
import json
import os
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field
from typing import Any

import duckdb
import grpc
import pyarrow as pa

from e6magic.engine import literals
from e6magic.engine.catalog import DEFAULT_SCHEMA, DEMO_CATALOG
from e6magic.engine.errors import EngineError, query_error
from e6magic.engine.sqltext import one_statement, qualified, quote_identifier
from e6magic.states import FINAL_STATES, QueryState
from e6magic.wire import VectorType, encode_chunk, encode_metadata, metadata_for, vector_type_for

MAX_SQL_BYTES = 16 * 1024 * 1024
_MAKES_MACRO = re.compile(r"macro|function", re.IGNORECASE)
_WAIT_SLICE = 0.05
_ENCODE_SLICE = 0.005

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

# Laptop defaults: a notebook left for lunch signs in again (clients do that on "session expired"); a result
# nobody fetched for 10 minutes was abandoned; all held results together get a quarter of the machine's memory.
DEFAULT_SESSION_IDLE_SECONDS = 3600.0
DEFAULT_RESULT_IDLE_SECONDS = 600.0


def default_result_memory() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 4
    except (ValueError, OSError, AttributeError):
        return 2 << 30


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


@dataclass
class Query:
    """One query's life on the engine; `state` moves prepared > running > finished|failed|cancelled."""

    query_id: str
    session_id: str
    user: str
    sql: str
    catalog: str
    schema: str
    colour: str
    parse_ms: int
    returns_rows: bool = True  # False for DDL and DML: the answer is a count of changed rows, no result set
    state: QueryState = QueryState.PREPARED
    created: float = field(default_factory=time.monotonic)
    touched: float = field(default_factory=time.monotonic)  # the last call that asked for it
    started: float | None = None
    ended: float | None = None
    error: EngineError | None = None
    metadata: bytes = b""
    row_count: int = 0
    profile: dict[str, Any] | None = None
    done: threading.Event = field(default_factory=threading.Event)
    # metadata known: the first chunk is read, or it ended
    ready: threading.Event = field(default_factory=threading.Event)
    _cursor: duckdb.DuckDBPyConnection | None = None
    _chunks: EncodedChunks | None = None
    _stream: BatchStream | None = None
    _reserved: int = 0  # bytes of its result counted in the registry's ResultMemory
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _fetch_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def cancelled(self) -> bool:
        """Read afresh each time: another thread (a cancel, a dropped session) may have cancelled it meanwhile."""
        return self.state == QueryState.CANCELLED

    @property
    def queue_ms(self) -> int:
        return int(((self.started or self.created) - self.created) * 1000)


class ResultMemory:
    """The bytes every held result takes, against one bound: a result that would pass it fails its query."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self._freed = 0
        self._lock = threading.Lock()

    def reserve(self, query: Query, nbytes: int) -> None:
        with self._lock:
            if self.held + nbytes > self.limit:
                raise EngineError(grpc.StatusCode.RESOURCE_EXHAUSTED,
                                  f"the result of query {query.query_id} is over the engine's result memory of "
                                  f"{format_bytes(self.limit)} ({format_bytes(self.held - query._reserved)} held by "
                                  "other results not yet fetched or cleared; max_result_memory, serve "
                                  "--max-result-memory): add a LIMIT, or fetch and clear other results")
            self.held += nbytes
            query._reserved += nbytes

    def release(self, query: Query, nbytes: int | None = None) -> None:
        """Give back `nbytes` of the query's result (all of it by default)."""
        with self._lock:
            n = query._reserved if nbytes is None else min(nbytes, query._reserved)
            query._reserved -= n
            self.held -= n
            self._freed += n

    def take_freed(self, at_least: int) -> bool:
        """Whether `at_least` bytes were released since it last said so (the sweeper then hands them back)."""
        with self._lock:
            if self._freed < at_least:
                return False
            self._freed = 0
            return True


class QueryRegistry:
    """All queries not yet cleared, the states of recently cleared ones, and the workers that run them.

    A query is seen, fetched, cancelled and cleared only by its own user; one asked for by anyone else is
    answered as an unknown id.
    """

    def __init__(self, db: duckdb.DuckDBPyConnection, chunk_rows: int = DEFAULT_CHUNK_ROWS, workers: int = 8,
                 default_catalog: str = DEMO_CATALOG, max_result_memory: int | None = None) -> None:
        self._db = db
        self.memory = ResultMemory(max_result_memory or default_result_memory())
        self._gone: dict[str, tuple[str, str]] = {}  # dropped query id -> (user, why), for a clear late answer
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
    def prepare(self, session_id: str, sql: str, catalog: str, schema: str, colour: str, *, user: str) -> Query:
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
        query = Query(query_id, session_id, user, sql, catalog or self.default_catalog, schema or DEFAULT_SCHEMA,
                      colour,
                      parse_ms=int((time.perf_counter() - started) * 1000),
                      returns_rows=not statements or returns_rows(statements[-1]))
        with self._lock:
            self._queries[query_id] = query
        return query

    def execute(self, query_id: str, user: str) -> Query:
        query = self.get(query_id, user)
        with query._lock:
            if query.state != QueryState.PREPARED:
                return query  # executing twice is a no-op, not a second run
            query.state = QueryState.RUNNING
            query.started = time.monotonic()
        self._pool.submit(self._run, query)
        return query

    def _run(self, query: Query) -> None:
        with query._lock:
            if query.cancelled:
                self._end(query)
                return
            cursor = self._cursors.get()
            query._cursor = cursor
        try:
            cursor.execute(f"USE {qualified(query.catalog, query.schema)}")
            relation = cursor.sql(query.sql)
            if query.returns_rows or _has_returning(relation):
                self._produce(query, relation)
            else:
                self._publish(query, pa.schema([]), None, _changed_rows(relation), final=True)
            profile = json.loads(cursor.get_profiling_information(format="json"))
        except Exception as exc:  # noqa: BLE001 - every failure becomes the query's answer
            with query._lock:
                if not query.cancelled:
                    query.state = QueryState.FAILED
                    query.error = _named(exc, query.query_id)
            self._let_go(query)
        else:
            with query._lock:
                if not query.cancelled:
                    query.profile = profile
                    query.state = QueryState.FINISHED
            if query.cancelled:
                self._let_go(query)
        finally:
            with query._lock:
                query._cursor = None
            try:
                forget_session_state(cursor, query.sql)
            finally:
                self._cursors.put(cursor)
                self._end(query)

    def _produce(self, query: Query, relation: duckdb.DuckDBPyRelation) -> None:
        """Read the result into the query's stream batch by batch, on its worker and cursor. The metadata is
        answered once a second chunk is read (the count -1: not known yet) or the result has ended (its exact
        count), so a client reads the first rows while the rest is still being produced."""
        batches, schema, vector_types = _materialise(relation, self.chunk_rows)
        query._stream = BatchStream()
        rows = 0
        try:
            for index, batch in enumerate(batches):
                self._keep(query, batch)
                query._stream.put(batch)
                rows += batch.num_rows
                if index == 1:
                    self._publish(query, schema, vector_types, -1, final=False)
        finally:
            batches.close()  # the DuckDB stream is let go before the cursor runs anything else
        self._publish(query, schema, vector_types, rows, final=True)

    def _publish(self, query: Query, schema: pa.Schema, vector_types: list[VectorType] | None, row_count: int,
                 *, final: bool) -> None:
        """Answer the metadata (again, with the exact count, when `final`) and serve the stream's chunks."""
        with query._lock:
            if query.cancelled:
                return
            if query._stream is None:
                query._stream = BatchStream()
            if final:
                query.row_count = row_count
            query.metadata = encode_metadata(metadata_for(schema, row_count, vector_types))
            if query._chunks is None:
                query._chunks = EncodedChunks(query._stream, vector_types, self._encoders,
                                              lambda nbytes: self.memory.release(query, nbytes))
        if final:
            query._stream.end()  # after the exact count: a client at the end of the stream asks for it
        query.ready.set()

    def _let_go(self, query: Query) -> None:
        """Free a failed or cancelled query's result: the batches not sent and their bytes in the bound."""
        if query._stream is not None:
            query._stream.end(drop=True)
        self.memory.release(query)

    def _keep(self, query: Query, batch: pa.RecordBatch) -> None:
        """Count one more batch of a result being read, or stop reading it (over the bound, or cancelled)."""
        if query.cancelled:
            raise EngineError(grpc.StatusCode.CANCELLED, f"query {query.query_id} was cancelled")
        self.memory.reserve(query, batch.nbytes)

    @staticmethod
    def _end(query: Query) -> None:
        query.ended = time.monotonic()
        query.ready.set()
        query.done.set()

    def cancel(self, query_id: str, user: str) -> None:
        """Stop a prepared or running query; quiet for unknown, empty, already-ended and other users' ids."""
        query = self._find(query_id, user)
        if query is not None:
            self._cancel(query)

    def _cancel(self, query: Query) -> None:
        with query._lock:
            if query.state in FINAL_STATES:
                return
            was_prepared = query.state == QueryState.PREPARED
            query.state = QueryState.CANCELLED
            query.error = EngineError(grpc.StatusCode.CANCELLED, f"query {query.query_id} was cancelled")
            query._chunks = None
        self._let_go(query)
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

    def clear(self, query_id: str, user: str) -> None:
        """Forget a query and free its result; quiet for unknown, empty and other users' ids."""
        query = self._find(query_id, user)
        if query is not None:
            self._drop(query, "it was cleared")

    def drop_session(self, session_id: str) -> int:
        """Drop (and so cancel) every query of a session that is gone; returns how many."""
        with self._lock:
            mine = [q for q in self._queries.values() if q.session_id == session_id]
        for query in mine:
            self._drop(query, "its session expired")
        return len(mine)

    def drop_idle(self, idle_seconds: float) -> int:
        """Drop the queries not running and not asked for in `idle_seconds` (results nobody fetches, queries
        prepared and never executed); returns how many."""
        cutoff = time.monotonic() - idle_seconds
        with self._lock:
            idle = [q for q in self._queries.values() if q.state != QueryState.RUNNING
                    and max(q.touched, q.ended or 0.0) < cutoff and not q._fetch_lock.locked()]
        for query in idle:
            self._drop(query, f"nobody asked for it in {idle_seconds:g} s")
        return len(idle)

    def _drop(self, query: Query, why: str) -> None:
        # cancelled first (a no-op for an ended one), then unregistered and remembered in one step: no moment
        # where the id is neither registered nor remembered (query_state said None there, under load)
        self._cancel(query)
        with self._lock:
            if self._queries.pop(query.query_id, None) is None:
                return
            self._last_states[query.query_id] = query.state.value
            self._gone[query.query_id] = (query.user, why)
            for remembered in (self._last_states, self._gone):
                if len(remembered) > 10000:  # bounded memory of recently dropped ids
                    remembered.pop(next(iter(remembered)))
        with query._lock:
            query._chunks = None
        self._let_go(query)

    # --- results -----------------------------------------------------------------------------------
    def wait(self, query: Query, still_wanted: Callable[[], bool], timeout: float | None = None, *,
             ready: bool = False) -> bool:
        """Wait for the query to end (or, `ready`, for its metadata), in slices, so a caller that went away stops
        the wait."""
        deadline = None if timeout is None else time.monotonic() + timeout
        event = query.ready if ready else query.done
        while not event.wait(_WAIT_SLICE):
            if not still_wanted() or (deadline is not None and time.monotonic() >= deadline):
                return False
        return True

    def result_or_raise(self, query: Query) -> None:
        if query.state in (QueryState.CANCELLED, QueryState.FAILED):
            raise query.error  # type: ignore[misc]

    def next_chunks(self, query: Query, max_chunks: int, max_bytes: int,
                    wait: float | None = None) -> tuple[list[bytes], bool]:
        """Up to `max_chunks` more encoded chunks (one caller at a time per query); returns (chunks, ended).
        With `wait`, a result still being produced answers what is ready: after `wait` seconds for the first."""
        out: list[bytes] = []
        size = 0
        with query._fetch_lock:
            while len(out) < max_chunks and size < max_bytes:
                chunks = query._chunks
                if chunks is None:
                    self.result_or_raise(query)
                    return out, True
                try:
                    payload = chunks.take(None if wait is None else 0.0 if out else wait)
                except FutureTimeout:
                    return out, False
                if payload is None:
                    self.result_or_raise(query)  # a stream cut short by a failure or a cancel
                    return out, True
                out.append(payload)
                size += len(payload)
        return out, False

    # --- lookups -----------------------------------------------------------------------------------
    def _find(self, query_id: str, user: str) -> Query | None:
        with self._lock:
            query = self._queries.get(query_id)
        if query is None or query.user != user:
            return None
        query.touched = time.monotonic()
        return query

    def get(self, query_id: str, user: str) -> Query:
        query = self._find(query_id, user)
        if query is not None:
            return query
        with self._lock:
            owner, why = self._gone.get(query_id, ("", ""))
        if why and owner == user:
            raise EngineError(grpc.StatusCode.NOT_FOUND, f"query {query_id} is gone: {why}")
        raise EngineError(grpc.StatusCode.NOT_FOUND, f"unknown query id {query_id!r} (cleared or never prepared)")

    # the plain words (QueryState's values), as LocalEngine.queries and query_state promise: a tuple or dict of
    # them prints 'cancelled', not <QueryState.CANCELLED: 'cancelled'>
    def states(self) -> dict[str, str]:
        with self._lock:
            return {qid: q.state.value for qid, q in self._queries.items()}

    def state_of(self, query_id: str) -> str | None:
        with self._lock:
            query = self._queries.get(query_id)
            return query.state.value if query is not None else self._last_states.get(query_id)

    def close(self) -> None:
        with self._lock:
            every = list(self._queries.values())
        for query in every:
            self._drop(query, "the engine stopped")
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._encoders.shutdown(wait=True, cancel_futures=True)


class BatchStream:
    """A result's Arrow batches as its query's worker reads them; a reader waits for the next one or the end."""

    def __init__(self) -> None:
        self._batches: collections.deque[pa.RecordBatch] = collections.deque()
        self._ended = False
        self._waiting = 0
        self._changed = threading.Condition()

    def put(self, batch: pa.RecordBatch) -> None:
        with self._changed:
            self._batches.append(batch)
            self._changed.notify_all()

    def end(self, *, drop: bool = False) -> None:
        with self._changed:
            self._ended = True
            if drop:
                self._batches.clear()
            self._changed.notify_all()

    @property
    def starved(self) -> bool:
        """Whether a reader waits for the producer (nothing queued, not ended)."""
        return self._waiting > 0

    def next(self) -> pa.RecordBatch | None:
        """The next batch, waiting for it while the result is produced; None at the end."""
        with self._changed:
            while not self._batches and not self._ended:
                self._waiting += 1
                try:
                    self._changed.wait()
                finally:
                    self._waiting -= 1
            return self._batches.popleft() if self._batches else None


class EncodedChunks:
    """A result's wire chunks in order, each encoded on a worker while the one before it is sent (the encode
    is off the RPC's path: measured in docs/benchmarks.md, Engine), from batches as they are produced."""

    def __init__(self, stream: BatchStream, vector_types: list[VectorType] | None,
                 encoders: ThreadPoolExecutor, release: Callable[[int], None]) -> None:
        self._batches = stream  # each batch let go once encoded: a result shrinks as it is read
        self._vector_types = vector_types
        self._encoders = encoders
        self._release = release
        self._ahead: Future[bytes | None] | None = encoders.submit(self._encode_next)

    def _encode_next(self) -> bytes | None:
        while (batch := self._batches.next()) is not None:
            try:
                if batch.num_rows:
                    return encode_chunk(batch, self._vector_types)
            finally:
                self._release(batch.nbytes)
        return None

    def take(self, timeout: float | None = None) -> bytes | None:
        """The next chunk, or None at the end; the one after it starts encoding now. Raises FutureTimeout when
        none is ready within `timeout` because the result is still being produced."""
        if self._ahead is None:
            return None
        if timeout is not None:
            # an encode of a batch already read is waited for; only one waiting on the producer times out
            deadline = time.monotonic() + timeout
            while not futures_wait([self._ahead], _ENCODE_SLICE).done:
                if self._batches.starved and time.monotonic() >= deadline:
                    raise FutureTimeout
        payload = self._ahead.result()
        self._ahead = self._encoders.submit(self._encode_next) if payload is not None else None
        return payload


def _named(exc: BaseException, query_id: str) -> EngineError:
    """A failed query's answer, naming the query (the engine's own errors keep their status code)."""
    if not isinstance(exc, EngineError):
        return query_error(exc, query_id)
    return exc if query_id in exc.details else EngineError(exc.code, f"{exc.details} (query id: {query_id})")


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


def _materialise(relation: duckdb.DuckDBPyRelation | None, chunk_rows: int
                 ) -> tuple[Generator[pa.RecordBatch, None, None], pa.Schema, list[VectorType] | None]:
    """The relation's result as a stream of Arrow batches of `chunk_rows` (read as DuckDB produces them), with
    wire-ready column types."""
    if relation is None:  # a statement with no result set (CREATE, INSERT, SET, ...)
        return _read(None, pa.schema([]), []), pa.schema([]), None
    expressions, overrides, rewritten = [], [], False
    for name, duck_type in zip(relation.columns, relation.types, strict=True):
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
    reader = relation.to_arrow_reader(chunk_rows)
    schema = reader.schema
    intervals = [i for i, vt in enumerate(overrides) if vt is VectorType.INTERVAL_DAY_SECOND] if rewritten else []
    for i in intervals:
        schema = schema.set(i, schema.field(i).with_type(pa.duration("us")))
    vector_types = None
    if rewritten:
        vector_types = [vt or vector_type_for(f.type) for vt, f in zip(overrides, schema, strict=True)]
    return _read(reader, schema, intervals), schema, vector_types


def _read(reader: pa.RecordBatchReader | None, schema: pa.Schema, intervals: list[int]
          ) -> Generator[pa.RecordBatch, None, None]:
    if reader is None:
        return
    try:
        for batch in reader:
            if intervals:
                arrays = [a.cast(pa.duration("us")) if i in intervals else a for i, a in enumerate(batch.columns)]
                batch = pa.RecordBatch.from_arrays(arrays, schema=schema)
            yield from _cut(batch)
    finally:
        reader.close()


# Bytes per chunk, at most (a one-row chunk may be larger). Rows per chunk alone made a wide row's chunk big: 64
# numeric columns x 16,384 rows is 8 MiB in one chunk, one V2 response, and a client holding the one it decodes,
# the one arriving and gRPC's copies peaked at +67 MiB only receiving them (+7 MiB for 1 MiB chunks).
CHUNK_BYTES = 1024 * 1024


def _cut(batch: pa.RecordBatch) -> Generator[pa.RecordBatch, None, None]:
    """The batch in slices of about CHUNK_BYTES (views, no copy)."""
    size = batch.nbytes
    if size <= CHUNK_BYTES or batch.num_rows < 2:
        yield batch
        return
    step = max(1, batch.num_rows * CHUNK_BYTES // size)
    for start in range(0, batch.num_rows, step):
        yield batch.slice(start, step)
