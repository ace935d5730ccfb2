"""An engine's RPCs answered in the caller's own thread: the client's transport seam, for its logic without a port.

Only what the client's decisions depend on: sessions made on the serving colour, `status: 456` (`WrongColour`) for
the other one at the door (sign-in and prepare; a query already running keeps its colour), an announced colour in
every response, one small result, and faults a test queues per method. The real engine over loopback stays what
every other client test talks to.
"""
from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from typing import Any

import pyarrow as pa

from e6magic._proto import e6x_engine_pb2 as pb
from e6magic.client import Connection, connect
from e6magic.client.exceptions import Error, ObjectNotFound, SessionExpired, WrongColour
from e6magic.wire import Column, ResultMetadata, encode_chunk, encode_metadata


class InProcessEngine:
    """The stand-in for `transport.Transport`: `headers`, `call`, `close`, recording every call it answers."""

    def __init__(self, serving: str = "blue", rows: tuple[int, ...] = (1, 2, 3)) -> None:
        self.endpoint = "in-process:1"
        self.serving = serving
        self.announce: str | None = None  # set: every response carries it as `new_strategy`
        self.calls: list[tuple[str, str | None]] = []  # (method, the colour header), in order
        self.faults: dict[str, list[Error]] = defaultdict(list)
        self.sessions: dict[str, str] = {}
        self.queries: dict[str, str] = {}  # query id -> state
        self.announced_rows: int | None = None  # the metadata's row count (None: the real one)
        self.batch = pa.record_batch({"n": pa.array(rows, pa.int64())})
        self.closed = False
        self._ids = itertools.count(1)
        self._sent: set[str] = set()

    def fail(self, method: str, *errors: Error) -> None:
        """The next calls of `method` raise these, one each, before the engine looks at them."""
        self.faults[method].extend(errors)

    def methods(self) -> list[str]:
        return [method for method, _colour in self.calls]

    # --- the transport's three methods ------------------------------------------------------------------
    def headers(self, *, strategy: str | None = None, planner_ip: str | None = None,
                bearer: Any = None) -> list[tuple[str, Any]]:
        return [(key, value) for key, value in (("plannerip", planner_ip), ("strategy", strategy)) if value]

    def call(self, method: str, request: Any, *, metadata: list[tuple[str, Any]], timeout: float | None = None,
             query_id: str | None = None, service: str = "engine") -> Any:
        colour = dict(metadata).get("strategy")
        self.calls.append((method, colour))
        if self.faults[method]:
            raise self.faults[method].pop(0)
        response = getattr(self, f"_{method}")(request() if callable(request) else request, colour)
        if self.announce and "new_strategy" in response.DESCRIPTOR.fields_by_name:
            response.new_strategy = self.announce
        return response

    def close(self) -> None:
        self.closed = True

    # --- the engine's answers -----------------------------------------------------------------------------
    def _at_the_door(self, colour: str | None, method: str) -> None:
        if colour != self.serving:
            raise WrongColour(f"{colour} does not serve new work (status: 456)", method=method)

    def _session(self, request: Any, method: str) -> None:
        if request.sessionId not in self.sessions:
            raise SessionExpired("unknown session", method=method)

    def _query(self, request: Any, method: str) -> str:
        self._session(request, method)
        if request.queryId not in self.queries:
            raise ObjectNotFound(f"no query {request.queryId}", method=method)
        return str(request.queryId)

    def _authenticate(self, request: Any, colour: str | None) -> Any:
        self._at_the_door(colour, "authenticate")
        session_id = f"s{next(self._ids)}"
        self.sessions[session_id] = str(colour)
        return pb.AuthenticateResponse(sessionId=session_id)

    def _prepareStatementV2(self, request: Any, colour: str | None) -> Any:
        self._at_the_door(colour, "prepareStatementV2")
        self._session(request, "prepareStatementV2")
        query_id = f"q{next(self._ids)}"
        self.queries[query_id] = "prepared"
        return pb.PrepareStatementResponse(queryId=query_id, engineIP="10.0.0.7")

    def _executeStatementV2(self, request: Any, colour: str | None) -> Any:
        self.queries[self._query(request, "executeStatementV2")] = "running"
        return pb.ExecuteStatementResponse(sessionId=request.sessionId)

    def _getResultMetadata(self, request: Any, colour: str | None) -> Any:
        query_id = self._query(request, "getResultMetadata")
        if self.queries[query_id] == "running":
            self.queries[query_id] = "finished"
        rows = self.batch.num_rows if self.announced_rows is None else self.announced_rows
        metadata = ResultMetadata(row_count=rows, columns=(Column("n", "LONG"),))
        return pb.GetResultMetadataResponse(resultMetaData=encode_metadata(metadata))

    def _getNextResultBatch(self, request: Any, colour: str | None) -> Any:
        query_id = self._query(request, "getNextResultBatch")
        first = query_id not in self._sent
        self._sent.add(query_id)
        return pb.GetNextResultBatchResponse(resultBatch=encode_chunk(self.batch) if first else b"")

    def _cancelQuery(self, request: Any, colour: str | None) -> Any:
        self.queries[self._query(request, "cancelQuery")] = "cancelled"
        return pb.CancelQueryResponse()

    def _clearOrCancelQuery(self, request: Any, colour: str | None) -> Any:
        self.queries.pop(self._query(request, "clearOrCancelQuery"))
        return pb.ClearOrCancelQueryResponse()


class Deferred:
    """Background work a test runs itself, when it chooses (the session's `start_background` seam)."""

    def __init__(self) -> None:
        self.started: list[tuple[str, Any]] = []

    def __call__(self, target: Any, name: str) -> Deferred:
        self.started.append((name, target))
        return self

    def run(self, prefix: str) -> None:
        """Run (and forget) the work started under a name beginning with `prefix`."""
        for entry in [e for e in self.started if e[0].startswith(prefix)]:
            self.started.remove(entry)
            entry[1]()

    def join(self, timeout: float | None = None) -> None:
        pass

    def is_alive(self) -> bool:
        return False


def in_process(engine: InProcessEngine) -> tuple[Connection, Deferred, list[float]]:
    """A connection over `engine` (its own endpoint key, so no other test's colour), with background work
    deferred and pauses recorded instead of slept: (connection, the deferred work, the pauses asked for)."""
    conn = connect(host=f"in-process-{uuid.uuid4().hex[:8]}", port=1, username="tester", password="token",
                   catalog="demo", database="main", enable_result_batch_v2=False, transport=engine)
    deferred, pauses = Deferred(), []
    conn._session.start_background = deferred
    conn._session.sleep = pauses.append
    return conn, deferred, pauses
