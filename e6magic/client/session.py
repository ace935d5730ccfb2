"""The client's private session with one engine: sign-in, the colour, the one retry loop, and live queries.

`Connection` (PEP 249) holds one `ClientSession` and hands it to each `Cursor` and `QueryHandle`; none of this
is public. The session talks to the engine through a `CallTransport`: the gRPC channel (`transport.Transport`)
in use, any object with the same three methods in tests, so the retry policy, the blue/green switch, the
recovery from a refused colour (`status: 456`) and cancel run without a port.
"""
from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from e6magic._proto import cluster_pb2 as cpb
from e6magic._proto import e6x_engine_pb2 as pb
from e6magic.client import strategy as strategies
from e6magic.client.exceptions import (
    ClusterSuspended,
    CredentialsRefused,
    EngineUnreachable,
    Error,
    InterfaceError,
    OperationalError,
    SessionExpired,
    WrongColour,
)
from e6magic.client.oauth import BearerTokens
from e6magic.client.retry import RetryPolicy
from e6magic.client.secret import Secret
from e6magic.client.transport import CALL_TIMEOUT


class CallTransport(Protocol):
    """What the session needs of a channel: its headers, one RPC (no retry: the session retries), close."""

    endpoint: str

    def headers(self, *, strategy: str | None = None, planner_ip: str | None = None,
                bearer: Secret | None = None) -> list[tuple[str, Any]]: ...

    def call(self, method: str, request: Any, *, metadata: list[tuple[str, Any]], timeout: float | None = None,
             query_id: str | None = None, service: str = "engine") -> Any: ...

    def close(self) -> None: ...


class Closable(Protocol):
    def close(self) -> None: ...


class Background(Protocol):
    """A started piece of background work (a `threading.Thread` in use)."""

    def join(self, timeout: float | None = None) -> None: ...

    def is_alive(self) -> bool: ...


def start_thread(target: Callable[[], None], name: str) -> Background:
    """The session's default way to run a query's background work: a daemon thread (a kernel shutting down
    mid-query must not wait for it)."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


class ClientSession:
    """One engine endpoint's session: credentials, the session id and its colour, the retry loop, live queries.

    Thread-safe: the sign-in runs under a lock, and any thread may call `call` at once."""

    def __init__(self, transport: CallTransport, strategy: strategies.EndpointStrategy, retry: RetryPolicy, *,
                 username: str | None, password: Secret | None, tokens: BearerTokens | None, timeout: float,
                 prepare_timeout: float, resume_timeout: float, auto_resume: bool,
                 result_batch_v2: bool | None) -> None:
        self.transport = transport
        self.strategy = strategy
        self.retry = retry
        self.timeout = timeout  # a query's deadline when none is given; also bounds every call
        self.prepare_timeout = prepare_timeout
        self.resume_timeout = resume_timeout
        self.auto_resume = auto_resume
        self.result_batch_v2 = result_batch_v2  # None: try V2, fall back on UNIMPLEMENTED
        self.closed = False
        # seams for tests of the logic alone: how a pause is waited, how background work is started
        self.sleep: Callable[[float], None] = time.sleep
        self.start_background: Callable[[Callable[[], None], str], Background] = start_thread
        self._username = username
        self._password = password
        self._tokens = tokens
        self._session_id: str | None = None
        self._session_colour: str | None = None
        self._auth_lock = threading.RLock()
        # Queries not yet cleared, held strongly: a cursor dropped without close() must not leak its query.
        self._live: set[Closable] = set()
        self._live_lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return self.transport.endpoint

    def check_open(self) -> None:
        if self.closed:
            raise InterfaceError("the connection is closed")

    def close(self) -> None:
        """Clear every query not yet cleared, then close the channel."""
        with self._live_lock:
            live = list(self._live)
        for handle in live:
            handle.close()
        self.closed = True
        self.transport.close()

    def track(self, handle: Closable, live: bool) -> None:
        with self._live_lock:
            (self._live.add if live else self._live.discard)(handle)

    # --- sessions and colours --------------------------------------------------------------------------
    def headers(self, colour: str | None, planner_ip: str | None = None) -> list[tuple[str, Any]]:
        bearer = self._tokens.token() if self._tokens else None
        return self.transport.headers(strategy=colour, planner_ip=planner_ip, bearer=bearer)

    def session_and_colour(self, deadline: float | None = None) -> tuple[str, str | None]:
        """A live session id ('' in OAuth mode) and the colour new work goes to; authenticates lazily.

        Raises the sign-in's own error (a colour refused, the engine unreachable...): callers run it inside
        `call`, under the retry policy, so a flip between two probes is retried like any other refusal."""
        self.check_open()
        if self._tokens is not None:
            return "", self.strategy.active()
        with self._auth_lock:
            colour = self.strategy.guess()
            if self._session_id is None or colour != self._session_colour:
                self._authenticate(colour, deadline)
            assert self._session_id is not None  # _authenticate set it, or raised
            return self._session_id, self._session_colour

    @property
    def session_id(self) -> str:
        """The session id (signing in first if need be, under the retry policy)."""
        return str(self.call_with_colour("authenticate", None)[1])

    def _authenticate(self, colour: str, deadline: float | None) -> None:
        try:
            response = self.transport.call("authenticate", self._auth_request, timeout=self._timeout(None, deadline),
                                           metadata=self.transport.headers(strategy=colour))
        except WrongColour:
            self.strategy.forget(colour)  # the next try signs in on the other colour
            raise
        if not response.sessionId:
            raise CredentialsRefused(f"e6data engine at {self.endpoint} refused the credentials",
                                     endpoint=self.endpoint, method="authenticate")
        self._session_id, self._session_colour = response.sessionId, colour
        self.strategy.confirm(colour)

    def _auth_request(self) -> pb.AuthenticateRequest:
        # built here, returned straight into the call: the request (which holds the token) is no one's local
        return pb.AuthenticateRequest(user=self._username, password=self._revealed())

    def _revealed(self) -> str:
        return self._password.reveal() if self._password is not None else ""

    def drop_session(self, session_id: str | None = None) -> None:
        """Forget the session (only `session_id`, when given: another thread may have made a new one)."""
        with self._auth_lock:
            if session_id is None or session_id == self._session_id:
                self._session_id = None

    def note_announcement(self, response: Any) -> None:
        """A response carrying `new_strategy` announces the colour new work goes to next (wire §5.2)."""
        if "new_strategy" in response.DESCRIPTOR.fields_by_name and response.HasField("new_strategy"):
            self.strategy.announce(response.new_strategy)

    def _resume(self) -> None:
        """Resume a suspended cluster through ClusterService and wait until it is active (wire §5.3)."""
        deadline = time.monotonic() + self.resume_timeout
        status = self._cluster_call("status").status
        if status == "suspended":
            self._cluster_call("resume")
        while status != "active":
            if status == "failed" or time.monotonic() > deadline:
                raise OperationalError(f"cluster at {self.endpoint} did not resume (status {status!r})",
                                       endpoint=self.endpoint)
            self.sleep(0.5)
            status = self._cluster_call("status").status

    def _cluster_call(self, method: str) -> Any:
        kind = cpb.ClusterStatusRequest if method == "status" else cpb.ResumeRequest
        return self.transport.call(
            method, lambda: kind(user=self._username or "", password=self._revealed()),
            metadata=self.headers(self.strategy.active()), service="cluster", timeout=30)

    # --- the one retry loop ------------------------------------------------------------------------------
    def call(self, method: str, make_request: Callable[[str], Any] | None, **options: Any) -> Any:
        """A session-scoped RPC under the retry policy (see `call_with_colour`)."""
        return self.call_with_colour(method, make_request, **options)[1]

    def call_with_colour(self, method: str, make_request: Callable[[str], Any] | None, *,
                         colour: str | None = None, planner_ip: str | None = None, query_id: str | None = None,
                         timeout: float | None = None, deadline: float | None = None,
                         session: bool = True) -> tuple[str | None, Any]:
        """`method` with a session (signing in first if needed), retried by the one policy; (colour, response).

        This is the only place a call is tried again: what may be retried is `self.retry.may_retry` (by
        error class and call); the sign-in runs inside the loop, so its refusals are retried too. `timeout`
        caps this call, `deadline` (monotonic) is the query's; each try gets what is left of both."""
        refreshed = False
        # refusals at the door and lost links are counted apart: an engine restart gives one of each
        failures = {"door": 0, "link": 0}
        while True:
            used, session_id = colour, ""
            try:
                if session:
                    session_id, active = self.session_and_colour(deadline)
                else:
                    self.check_open()
                    active = self.strategy.active()
                used = colour or active
                if make_request is None:  # only the session was wanted
                    return used, session_id
                response = self.transport.call(
                    method, functools.partial(make_request, session_id), metadata=self.headers(used, planner_ip),
                    timeout=self._timeout(timeout, deadline), query_id=query_id)
            except Error as exc:
                if isinstance(exc, CredentialsRefused) and self._tokens is not None and not refreshed:
                    self._tokens.token(force_refresh=True)  # an OAuth token expired early: one fresh one
                    refreshed = True
                    continue
                kind = "link" if isinstance(exc, EngineUnreachable) else "door"
                failures[kind] += 1
                if failures[kind] >= self.retry.tries(exc) or not self.retry.may_retry(exc, exc.method or method):
                    raise
                self._before_retry(exc, used, session_id, failures[kind], deadline)
                continue
            self.note_announcement(response)
            return used, response

    def _before_retry(self, exc: Error, colour: str | None, session_id: str, attempt: int,
                      deadline: float | None) -> None:
        """Put right what `exc` says before the next try (every branch is an error class, never its text)."""
        if isinstance(exc, WrongColour):
            self.strategy.forget(colour)
            if self._tokens is not None and self.strategy.active() is None:
                self.strategy.confirm(strategies.other(colour))  # OAuth: no probe call, flip the header
            self.drop_session(session_id or None)  # not a session another thread just made on the new colour
            if attempt > 2:
                # refused again and again: flips are coming fast; a short, spread pause leaves the next flip's
                # window to the other threads' tries instead of all of them racing it at once
                pause = random.uniform(0, min(0.2, 0.02 * attempt))
                if deadline is None or time.monotonic() + pause < deadline:
                    self.sleep(pause)
        elif isinstance(exc, SessionExpired):
            self.drop_session(session_id or None)
        elif isinstance(exc, ClusterSuspended):
            if not self.auto_resume:
                raise exc
            self._resume()
        elif isinstance(exc, EngineUnreachable):
            pause = self.retry.backoff(attempt)
            if deadline is not None and time.monotonic() + pause >= deadline:
                raise exc  # no time left for another try: the error as it is
            self.sleep(pause)

    def _timeout(self, cap: float | None, deadline: float | None) -> float:
        """Seconds this try may take: the call's own cap, what is left of the deadline, the session's."""
        limit = CALL_TIMEOUT if cap is None else cap
        limit = min(limit, self.timeout if deadline is None else deadline - time.monotonic())
        return max(0.001, limit)
