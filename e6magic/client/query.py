"""A running query's handle: submit, a background fetcher with prefetch, live progress, cancel from any thread."""
from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pyarrow as pa

from e6magic._proto import e6x_engine_pb2 as pb
from e6magic.client.exceptions import (
    CancelNotConfirmed,
    DeadlineExceeded,
    Error,
    InterfaceError,
    NotSupportedError,
    ObjectNotFound,
    QueryCancelled,
)
from e6magic.client.session import Background, ClientSession
from e6magic.states import FINAL_STATES, QueryState
from e6magic.wire import ResultMetadata, arrow_schema, decode_chunk, decode_metadata


def _size(item: Any) -> int:
    return int(item.nbytes) if isinstance(item, pa.RecordBatch) else 0


def _cleanup_deadline() -> float:
    # cancel and clear get a deadline of their own: a query that ran out of its deadline must still be stopped
    # and cleared on the engine (with the query's, they failed at once and left it running)
    return time.monotonic() + 10.0


# cancel() waits this long for the engine's word: a stalled engine must not hold the caller (a widget's click,
# an interrupted cell); without the word the client keeps asking in the background, this long at most
CANCEL_TIMEOUT = 2.0
CANCEL_KEEP_TRYING = 120.0
PREFETCH_BATCHES = 4  # decoded batches waiting for the consumer: bounded memory, and N+1 is already here
# ... and at most this many of their bytes (one batch always gets through): four batches of a wide row were
# 32 MiB waiting whenever the reader fell behind, more than the whole DataFrame of many results
PREFETCH_BYTES = 4 * 1024 * 1024
_END = object()
_NO_CAP = float("inf")  # a call bounded only by the query's deadline


class QueryHandle:
    """One query from prepare to clear. Thread-safe reads of `state`, `rows_fetched`, `elapsed`; `cancel()`
    works from any thread at any moment; `batches()` / `result()` never hand out a partial result as whole."""

    def __init__(self, session: ClientSession, sql: str, *, catalog: str | None, schema: str | None,
                 on_progress: Callable[[QueryHandle], None] | None = None, timeout: float | None = None) -> None:
        self.sql = sql
        self.catalog = catalog
        self.schema = schema
        self.query_id: str | None = None
        self.state = QueryState.PREPARED
        self.metadata: ResultMetadata | None = None
        self.error: Error | None = None
        self.rows_fetched = 0
        self.batches_fetched = 0
        self.timings: dict[str, float] = {}
        self._session = session
        self._on_progress = on_progress
        self._engine_ip = ""
        self._colour: str | None = None
        self._started = time.monotonic()
        self.timeout = session.timeout if timeout is None else float(timeout)
        self._deadline = self._started + self.timeout
        self._ended: float | None = None
        self._cancel = threading.Event()
        self._stop = threading.Event()  # the reader has all it wants (not a cancel: the query ends finished)
        self._final = threading.Event()
        self._meta_ready = threading.Event()
        self._batches: queue.Queue[Any] = queue.Queue(maxsize=PREFETCH_BATCHES)
        self._queued_bytes = 0  # decoded bytes in `_batches`, under `_room`
        self._room = threading.Condition()
        self._handed_out = 0
        self._consumed = False
        self._cleared = False
        self._lock = threading.Lock()
        self._fetcher: Background | None = None
        # None: no cancel asked; False: asked, the engine has not confirmed yet; True: confirmed (or query gone)
        self.cancel_confirmed: bool | None = None
        self._cancel_asked = False
        self._confirmed = threading.Event()

    def __repr__(self) -> str:
        return f"<QueryHandle {self.query_id} {self.state} rows={self.rows_fetched}>"

    @property
    def elapsed(self) -> float:
        return (self._ended or time.monotonic()) - self._started

    @property
    def row_count(self) -> int | None:
        return self.metadata.row_count if self.metadata else None

    @property
    def engine_ip(self) -> str:
        """The planner the engine named at prepare ('' before): every later call of this query goes to it."""
        return self._engine_ip

    @property
    def colour(self) -> str | None:
        """The blue/green colour this query was prepared on (None before, or with no colour known)."""
        return self._colour

    # --- start: prepare (retried where nothing ran yet), execute, then fetch in the background ----------
    def start(self) -> QueryHandle:
        session = self._session
        try:
            # sign-in and prepare in one retried call: a colour flip between them is retried, not raised
            colour, response = session.call_with_colour(
                "prepareStatementV2" if self.catalog else "prepareStatement", self._prepare_request,
                timeout=session.prepare_timeout, deadline=self._deadline)
        except Error as exc:
            raise self._failed(exc) from None
        self.query_id, self._engine_ip, self._colour = response.queryId, response.engineIP, colour
        session.strategy.pin(response.queryId, colour)
        session.track(self, live=True)
        self.timings["prepare"] = time.monotonic() - self._started
        if self._cancel.is_set():
            self._finish(QueryState.CANCELLED, QueryCancelled("query cancelled before it ran", query_id=self.query_id))
            self._clear()
            raise self._raised()
        try:
            # retried only where the engine cannot have run it (the policy never repeats an execute that may have)
            self._call("executeStatementV2" if self.catalog else "executeStatement",
                       self._request(pb.ExecuteStatementV2Request if self.catalog else pb.ExecuteStatementRequest))
        except Error as exc:
            error = self._failed(exc)
            self._clear()
            raise error from None
        with self._lock:
            if self.state == QueryState.PREPARED:
                self.state = QueryState.RUNNING
        self._fetcher = session.start_background(self._fetch_all, f"e6-fetch-{response.queryId[:8]}")
        return self

    def _failed(self, exc: Error) -> Error:
        """The error the query ended with after `exc` (a cancel meanwhile makes it `QueryCancelled`)."""
        self._fail(exc)
        return self._raised()

    def _raised(self) -> Error:
        assert self.error is not None
        return self.error

    def _prepare_request(self, session_id: str) -> Any:
        if self.catalog:
            return pb.PrepareStatementV2Request(sessionId=session_id, schema=self.schema or "",
                                                catalog=self.catalog, queryString=self.sql)
        return pb.PrepareStatementRequest(sessionId=session_id, schema=self.schema or "", queryString=self.sql)

    def _call(self, method: str, make_request: Callable[[str], Any], *, timeout: float | None = None,
              deadline: float | None = None) -> Any:
        return self._session.call(method, make_request, colour=self._colour, planner_ip=self._engine_ip,
                                  query_id=self.query_id, timeout=timeout, deadline=deadline or self._deadline)

    def _request(self, cls: Any) -> Callable[[str], Any]:
        return lambda sid: cls(engineIP=self._engine_ip, sessionId=sid, queryId=self.query_id)

    # --- the fetcher thread --------------------------------------------------------------------------------
    def _fetch_all(self) -> None:
        payloads: Generator[bytes, None, None] | None = None
        try:
            metadata = self._wait_for_metadata()
            fetch_started = time.monotonic()
            payloads = self._payloads()
            if not self._read_batches(payloads, metadata):
                if self._stop.is_set() and not self._cancel.is_set():
                    self._finish(QueryState.FINISHED, None)
                return
            self._check_complete()
            self.timings["fetch"] = time.monotonic() - fetch_started
            self._finish(QueryState.FINISHED, None)
        except Error as exc:
            self._fail(exc)
        except Exception as exc:  # noqa: BLE001 - a decode fault must end the result, never hang it
            self._fail(InterfaceError(f"could not read the result: {exc}", query_id=self.query_id))
        finally:
            if payloads is not None:
                payloads.close()  # stops the call running ahead, even when the reader went away early
            self._meta_ready.set()
            self._put(_END)
            if self.state != QueryState.FINISHED:
                self._clear()

    def _wait_for_metadata(self) -> ResultMetadata:
        """The result's metadata, once the engine has it (the call waits for the query: bounded by its
        deadline only); the state turns `fetching` and `wait_metadata()` returns."""
        started = time.monotonic()
        response = self._call("getResultMetadata", self._request(pb.GetResultMetadataRequest), timeout=_NO_CAP)
        self.metadata = metadata = decode_metadata(response.resultMetaData)
        self.timings["execution"] = time.monotonic() - started
        with self._lock:
            if self.state == QueryState.RUNNING:
                self.state = QueryState.FETCHING
        self._meta_ready.set()
        return metadata

    def _read_batches(self, payloads: Iterator[bytes], metadata: ResultMetadata) -> bool:
        """Decode each chunk into the prefetch queue; False when the reader stopped or cancelled first."""
        schema = None
        for payload in payloads:
            batch = decode_chunk(payload, metadata)
            del payload  # a view into the whole response: drop it before waiting for the next
            if schema is None:
                schema = batch.schema
            elif batch.schema != schema:
                batch = batch.cast(schema)  # a later chunk may widen a decimal or change a zone
            self.rows_fetched += batch.num_rows
            self.batches_fetched += 1
            if not self._put(batch):
                return False
            if self._on_progress is not None:
                self._on_progress(self)
            del batch  # the consumer has it now; holding it here would keep one more batch alive
        return True

    def _check_complete(self) -> None:
        """Every row the engine announced arrived (no columns: a DDL/DML count and no rows; a negative count:
        the engine does not know it)."""
        expected = self._final_row_count()
        assert self.metadata is not None
        if self.metadata.columns and expected >= 0 and self.rows_fetched != expected:
            raise InterfaceError(f"the engine announced {expected} rows but sent {self.rows_fetched}: "
                                 "the result is incomplete", query_id=self.query_id)

    def _final_row_count(self) -> int:
        """The result's row count once every row is here: a result streamed before the engine knew its count
        (-1 in the metadata) asks for the metadata again, which has it at the end (`rowcount` -1 until then)."""
        assert self.metadata is not None
        if self.metadata.row_count < 0 and self.metadata.columns:
            response = self._call("getResultMetadata", self._request(pb.GetResultMetadataRequest))
            self.metadata = decode_metadata(response.resultMetaData)
        return self.metadata.row_count

    def wait_row_count(self) -> int:
        """The result's exact row count, waiting (bounded by the query's deadline) for the engine to know it: a
        streamed result's metadata says -1 until the engine has produced every row."""
        count = self.wait_metadata().row_count
        while count < 0 and self.metadata is not None and self.metadata.columns and time.monotonic() < self._deadline:
            if self.metadata.row_count >= 0:  # the fetcher already has it
                return self.metadata.row_count
            response = self._call("getResultMetadata", self._request(pb.GetResultMetadataRequest))
            count = decode_metadata(response.resultMetaData).row_count
            if count < 0:
                time.sleep(0.05)
        return count

    def _payloads(self) -> Generator[bytes, None, None]:
        """The result's chunks in order. With V2 the next call is already on its way while the caller decodes
        the chunks of the last one (still one RPC at a time for this query: a call starts when the previous
        one has answered)."""
        session = self._session
        request = self._request(pb.GetNextResultBatchRequest)
        if session.result_batch_v2 is not False:
            ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"e6-next-{(self.query_id or '')[:8]}")
            try:
                pending: Future[Any] | None = ahead.submit(self._call, "getNextResultBatchV2", request)
                while pending is not None:
                    if self._cancel.is_set():
                        raise QueryCancelled("query cancelled", query_id=self.query_id)
                    try:
                        response = pending.result()
                    except NotSupportedError:
                        session.result_batch_v2 = False
                        break
                    session.result_batch_v2 = True
                    session.note_announcement(response)
                    stopping = self._cancel.is_set() or self._stop.is_set()
                    pending = None if response.endOfStream or stopping else ahead.submit(
                        self._call, "getNextResultBatchV2", request)
                    yield from (p for p in response.resultBatches if p)
                    response = None  # freed while the next response arrives, not after
                else:
                    if self._cancel.is_set():
                        raise QueryCancelled("query cancelled", query_id=self.query_id)
                    return
            finally:
                ahead.shutdown(wait=True, cancel_futures=True)  # no call outlives the fetcher
        while not self._cancel.is_set():
            response = self._call("getNextResultBatch", request)
            session.note_announcement(response)
            if not response.resultBatch:
                return
            yield response.resultBatch
        raise QueryCancelled("query cancelled", query_id=self.query_id)

    def _put(self, item: Any) -> bool:
        size = _size(item)
        while True:
            if (self._cancel.is_set() or self._stop.is_set()) and item is not _END:
                return False
            with self._room:
                if size and self._queued_bytes and self._queued_bytes + size > PREFETCH_BYTES:
                    self._room.wait(0.1)
                    continue
                self._queued_bytes += size
            try:
                self._batches.put(item, timeout=0.1)
                return True
            except queue.Full:
                self._taken(size)
                if item is _END and (self._cancel.is_set() or self._stop.is_set()):
                    self._drain()

    def _taken(self, size: int) -> None:
        """`size` decoded bytes left the queue: room for the fetcher."""
        if size:
            with self._room:
                self._queued_bytes -= size
                self._room.notify_all()

    def _drain(self) -> None:
        try:
            while True:
                self._taken(_size(self._batches.get_nowait()))
        except queue.Empty:
            pass

    # --- ending ---------------------------------------------------------------------------------------------
    def _finish(self, state: QueryState, error: Error | None) -> None:
        with self._lock:
            if self.state in FINAL_STATES:
                return
            self.state, self.error = state, error
            self._ended = time.monotonic()
        self._final.set()

    def _fail(self, exc: Error) -> None:
        if self._cancel.is_set() or isinstance(exc, QueryCancelled):
            exc = exc if isinstance(exc, QueryCancelled) else QueryCancelled("query cancelled", query_id=self.query_id)
            self._finish(QueryState.CANCELLED, exc)
        else:
            if isinstance(exc, DeadlineExceeded) and time.monotonic() >= self._deadline - 0.1:
                # the query's deadline, not the last try's remnant of it, is what the user set and reads
                exc = DeadlineExceeded(
                    f"{exc.method or 'the call'} to e6data engine at {exc.endpoint} got no answer before the "
                    f"query's deadline of {self.timeout:g} s (deadline exceeded)",
                    query_id=exc.query_id or self.query_id, engine_message=exc.engine_message,
                    endpoint=exc.endpoint, grpc_code=exc.grpc_code, method=exc.method)
            if exc.query_id is None and self.query_id:
                exc.query_id = self.query_id
            self._finish(QueryState.FAILED, exc)

    def cancel(self) -> None:
        """Stop the query on the engine; safe from any thread, before, during or after the run; idempotent.

        Returns within `CANCEL_TIMEOUT` (plus a sign-in's share of it). When the engine did not confirm in that
        time the query still ends here as cancelled, with `cancel_confirmed` False and a `CancelNotConfirmed`
        error that says so, and a background thread keeps asking until the engine confirms, the query is gone,
        the connection closes or `CANCEL_KEEP_TRYING` has passed."""
        self._cancel.set()
        with self._lock:
            if self.state in FINAL_STATES or self._cancel_asked:
                return
            self._cancel_asked = True
        if not self.query_id:  # not prepared yet: start() sees the flag and never executes it
            self._confirm_cancel()
            self._finish(QueryState.CANCELLED, QueryCancelled("query cancelled", query_id=self.query_id))
            return
        self.cancel_confirmed = False
        if self._send_cancel(CANCEL_TIMEOUT):
            self._finish(QueryState.CANCELLED, QueryCancelled("query cancelled", query_id=self.query_id))
        else:
            endpoint = self._session.endpoint
            unconfirmed = CancelNotConfirmed(
                f"cancel not confirmed: the e6data engine at {endpoint} did not confirm cancelQuery within "
                f"{CANCEL_TIMEOUT:g} s; the client keeps trying in the background",
                query_id=self.query_id, endpoint=endpoint, method="cancelQuery")
            self._finish(QueryState.CANCELLED, unconfirmed)
            with self._lock:
                # the fetcher may have ended it as cancelled meanwhile (a broken link): that is no confirmation
                if self.state == QueryState.CANCELLED and not self.cancel_confirmed:
                    self.error = unconfirmed
            self._session.start_background(self._keep_cancelling, f"e6-cancel-{self.query_id[:8]}")
        self._drain()

    def _send_cancel(self, seconds: float) -> bool:
        """One cancelQuery (under the retry policy) bounded by `seconds`; True when the engine confirmed."""
        try:
            self._call("cancelQuery", self._request(pb.CancelQueryRequest), timeout=seconds,
                       deadline=time.monotonic() + seconds)
        except ObjectNotFound:
            pass  # the engine no longer has the query: nothing is left to stop
        except Error:
            return False
        self._confirm_cancel()
        return True

    def _confirm_cancel(self) -> None:
        self.cancel_confirmed = True
        if isinstance(self.error, CancelNotConfirmed):
            self.error = QueryCancelled("query cancelled (the engine confirmed late)", query_id=self.query_id)
        self._confirmed.set()

    def _keep_cancelling(self) -> None:
        give_up = time.monotonic() + CANCEL_KEEP_TRYING
        attempt = 0
        while not self._session.closed and time.monotonic() < give_up:
            attempt += 1
            if self._confirmed.wait(self._session.retry.backoff(attempt)):
                return
            if self._send_cancel(min(10.0, max(CANCEL_TIMEOUT, give_up - time.monotonic()))):
                return

    def wait_cancel_confirmed(self, timeout: float) -> bool:
        """True once the engine confirmed the cancel (False: not within `timeout`, or no cancel was asked)."""
        return self._confirmed.wait(timeout)

    def stop_reading(self) -> None:
        """The reader has all the rows it wants: the fetcher stops at the next batch and the query ends
        as finished, kept on the engine (for its plan) until `close()`. Batches not yet read are dropped."""
        self._stop.set()
        self._drain()
        if self._fetcher is not None and self._fetcher is not threading.current_thread():
            self._fetcher.join(timeout=10)

    def _clear(self) -> None:
        with self._lock:
            if self._cleared or not self.query_id:
                return
            self._cleared = True
        try:
            self._call("clearOrCancelQuery", self._request(pb.ClearOrCancelQueryRequest), timeout=10,
                       deadline=_cleanup_deadline())
        except Error:
            pass  # an engine that went away has nothing left to clear
        finally:
            self._session.strategy.unpin(self.query_id)
            self._session.track(self, live=False)

    def close(self) -> None:
        """Cancel what still runs and clear the query on the engine (frees its result and its colour pin)."""
        if self.state not in FINAL_STATES:
            self.cancel()
        if self._fetcher is not None and self._fetcher is not threading.current_thread():
            self._fetcher.join(timeout=5)
        self._clear()

    # --- waiting and reading ------------------------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> bool:
        """True once the query reached a final state (waits in short slices, so interrupts get through)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._final.wait(0.1):
            if deadline is not None and time.monotonic() >= deadline:
                return False
        return True

    def wait_metadata(self) -> ResultMetadata:
        while not self._meta_ready.wait(0.1):
            pass
        if self.metadata is None:
            self._raise_if_unsuccessful()
        return self.metadata  # type: ignore[return-value]

    def _raise_if_unsuccessful(self) -> None:
        if self.state in (QueryState.FAILED, QueryState.CANCELLED) and self.error is not None:
            raise self.error

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The result's batches as they arrive (the first one long before the last); raises if it fails."""
        if self._consumed:
            raise InterfaceError("this result was already read", query_id=self.query_id)
        self._consumed = True
        while True:
            try:
                item = self._batches.get(timeout=0.1)
            except queue.Empty:
                if self.state in (QueryState.FAILED, QueryState.CANCELLED):
                    self._raise_if_unsuccessful()
                continue
            self._taken(_size(item))
            if item is _END:
                if self._cancel.is_set():
                    # the fetcher stops as soon as cancel is asked; the state turns final a moment later
                    self._final.wait(10)
                self._raise_if_unsuccessful()
                return
            self._handed_out += 1
            yield item
            item = None  # not kept while the next batch is awaited

    def result(self) -> pa.Table:
        """The whole result as one Arrow table, or the error; never a partial table."""
        if self._consumed:
            raise InterfaceError("this result was already read batch by batch", query_id=self.query_id)
        collected = list(self.batches())
        if collected:
            return pa.Table.from_batches(collected)
        return arrow_schema(self.wait_metadata()).empty_table()

    def explain_analyse(self) -> dict[str, Any]:
        """The engine's explain analyse of this query (waiting for it to end): `planner` holds the parsed
        planner JSON (or `{"text": ...}` when it is not JSON)."""
        if not self.query_id:
            raise InterfaceError("no query to explain")
        self.wait()
        # not under the query's deadline: a plan may be asked for long after the query ended
        response = self._session.call("explainAnalyze", self._request(pb.ExplainAnalyzeRequest), colour=self._colour,
                                      planner_ip=self._engine_ip, query_id=self.query_id)
        try:
            planner = json.loads(response.explainAnalyze) if response.explainAnalyze else {}
        except ValueError:
            planner = {"text": response.explainAnalyze}
        return {"is_cached": response.isCached, "parsing_time": response.parsingTime,
                "queuing_time": response.queueingTime, "planner": planner}
