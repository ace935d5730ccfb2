"""`connect()` and `Connection`: credentials, the lazy session, blue/green recovery, and the catalog calls."""
from __future__ import annotations

import json
import random
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, Callable

from e6magic._proto import cluster_pb2 as cpb
from e6magic._proto import e6x_engine_pb2 as pb
from e6magic.client import strategy as strategies
from e6magic.client import exceptions as _errors
from e6magic.client.exceptions import (
    ClusterSuspended,
    CredentialsRefused,
    EngineUnreachable,
    Error,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    SessionExpired,
    WrongColour,
)
from e6magic.client.oauth import BearerTokens
from e6magic.client.retry import Settings
from e6magic.client.secret import Secret
from e6magic.client.transport import CALL_TIMEOUT, Transport

# A query's whole deadline when none is given: long enough for real analytics, never a cell hung forever.
DEFAULT_QUERY_TIMEOUT = 3600.0

if TYPE_CHECKING:
    from e6magic.client.cursor import Cursor
    from e6magic.client.query import QueryHandle


class Connection:
    """A connection to one e6data engine (PEP 249). Takes the official connector's keyword names.

    Parameters are bound as literals every e6data endpoint reads back exactly (quotes and backslashes doubled,
    wire doc 5.6; the local engine reads e6data's literals too). `fetchone()` returns a tuple, not the official
    connector's one-row list.
    """

    # PEP 249's optional extension: the exception classes as attributes, so code holding only a connection
    # can catch them
    Warning = _errors.Warning
    Error = _errors.Error
    InterfaceError = _errors.InterfaceError
    DatabaseError = _errors.DatabaseError
    DataError = _errors.DataError
    OperationalError = _errors.OperationalError
    IntegrityError = _errors.IntegrityError
    InternalError = _errors.InternalError
    ProgrammingError = _errors.ProgrammingError
    NotSupportedError = _errors.NotSupportedError

    def __init__(self, host: str, port: int, username: str | None = None, password: str | None = None,
                 database: str | None = None, catalog: str | None = None, cluster_name: str | None = None,
                 secure: bool = False, ssl_cert: str | bytes | None = None,
                 grpc_options: dict[str, Any] | None = None, auto_resume: bool = True, *,
                 access_token: str | None = None, client_id: str | None = None, client_secret: str | None = None,
                 token_url: str | None = None, oauth_scope: str | None = None, client_auth_method: str = "basic",
                 enable_result_batch_v2: bool | None = None, timeout: float | None = None) -> None:
        password, access_token, client_secret = _masked(password), _masked(access_token), _masked(client_secret)
        if not host or not port:
            raise InterfaceError("connect() needs host and port")
        oauth = bool(access_token or client_id or client_secret or token_url)
        if oauth and password:
            raise InterfaceError("give either username/password or OAuth credentials, not both")
        if not oauth and not (username and password):
            raise InterfaceError("connect() needs username and password (the access token), or OAuth credentials")
        self.host, self.port = host, int(port)
        self.username = username
        self.database, self.catalog = database, catalog
        self.cluster_name = cluster_name
        self.auto_resume = auto_resume
        self.result_batch_v2: bool | None = enable_result_batch_v2  # None: try V2, fall back on UNIMPLEMENTED
        options = dict(grpc_options or {})
        self.prepare_timeout = float(options.get("grpc_prepare_timeout", 600))
        self.resume_timeout = float(options.get("grpc_auto_resume_timeout_seconds", 300))
        self.timeout = _seconds("timeout", DEFAULT_QUERY_TIMEOUT if timeout is None else timeout)
        self.settings = Settings.from_env()  # every E6DATA_* variable checked here, once: a bad one fails connect()
        self.retry = self.settings.retry
        strategies.use_log_level(self.settings.log_level)
        self.max_retry_attempts = self.retry.attempts
        self._password = password
        self._tokens = BearerTokens(access_token=access_token, client_id=client_id, client_secret=client_secret,
                                    token_url=token_url, scope=oauth_scope,
                                    client_auth_method=client_auth_method) if oauth else None
        self.transport = Transport(host, self.port, secure=secure, ssl_cert=ssl_cert, grpc_options=options,
                                   cluster_name=cluster_name)
        self.strategy = strategies.strategy_for(host, self.port, cluster_name)
        self._session_id: str | None = None
        self._session_colour: str | None = None
        self._auth_lock = threading.RLock()
        self._cursors: weakref.WeakSet[Cursor] = weakref.WeakSet()
        # Queries not yet cleared, held strongly: a cursor dropped without close() must not leak its query.
        self._live: set[QueryHandle] = set()
        self._live_lock = threading.Lock()
        self.closed = False

    def __repr__(self) -> str:  # no password or token, ever
        return f"<e6magic.Connection {self.transport.endpoint} catalog={self.catalog!r} user={self.username!r}>"

    # --- PEP 249 -------------------------------------------------------------------------------------
    def cursor(self, catalog_name: str | None = None, db_name: str | None = None, *,
               catalog: str | None = None, database: str | None = None) -> Cursor:
        from e6magic.client.cursor import Cursor

        self._check_open()
        cur = Cursor(self, catalog=catalog or catalog_name or self.catalog, database=database or db_name or self.database)
        self._cursors.add(cur)
        return cur

    def close(self) -> None:
        """Close every cursor (clearing their queries on the engine), then the channel.

        A second close() raises `InterfaceError`, like any other call on a closed connection (PEP 249: "unusable
        from this point forward"); `with` closes only a connection still open."""
        self._check_open()
        for cur in list(self._cursors):
            cur.close()
        with self._live_lock:
            live = list(self._live)
        for handle in live:
            handle.close()
        self.closed = True
        self.transport.close()

    def commit(self) -> None:
        """The engine has no transactions: every statement stands on its own, so there is nothing to commit."""
        self._check_open()

    def rollback(self) -> None:
        """Always `NotSupportedError` (PEP 249's answer for a database without transactions)."""
        self._check_open()
        raise _errors.NotSupportedError("the e6data engine has no transactions to roll back")

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.closed:  # closed inside the block: nothing left to do, and no error to hide the block's own
            self.close()

    def track(self, handle: QueryHandle, live: bool) -> None:
        with self._live_lock:
            (self._live.add if live else self._live.discard)(handle)

    def _check_open(self) -> None:
        if self.closed:
            raise InterfaceError("the connection is closed")

    # --- sessions and colours --------------------------------------------------------------------------
    def headers(self, colour: str | None, planner_ip: str | None = None) -> list[tuple[str, object]]:
        bearer = self._tokens.token() if self._tokens else None
        return self.transport.headers(strategy=colour, planner_ip=planner_ip, bearer=bearer)

    def session_and_colour(self, deadline: float | None = None) -> tuple[str, str | None]:
        """A live session id ('' in OAuth mode) and the colour new work goes to; authenticates lazily.

        Raises the sign-in's own error (a colour refused, the engine unreachable...): callers run it inside
        `call`, under the retry policy, so a flip between two probes is retried like any other refusal."""
        self._check_open()
        if self._tokens is not None:
            return "", self.strategy.active()
        with self._auth_lock:
            colour = self.strategy.guess()
            if self._session_id is None or colour != self._session_colour:
                self._authenticate(colour, deadline)
            return self._session_id, self._session_colour  # type: ignore[return-value]

    @property
    def session_id(self) -> str:
        return self.call_with_colour("authenticate", None)[1]

    def _authenticate(self, colour: str, deadline: float | None) -> None:
        try:
            response = self.transport.call("authenticate", self._auth_request, timeout=self._timeout(None, deadline),
                                           metadata=self.transport.headers(strategy=colour))
        except WrongColour:
            self.strategy.forget(colour)  # the next try signs in on the other colour
            raise
        if not response.sessionId:
            raise CredentialsRefused(f"e6data engine at {self.transport.endpoint} refused the credentials",
                                     endpoint=self.transport.endpoint, method="authenticate")
        self._session_id, self._session_colour = response.sessionId, colour
        self.strategy.confirm(colour)

    def _auth_request(self) -> pb.AuthenticateRequest:
        # built here, returned straight into the call: the request (which holds the token) is no one's local
        return pb.AuthenticateRequest(user=self.username, password=self._password.reveal())

    def drop_session(self, session_id: str | None = None) -> None:
        """Forget the session (only `session_id`, when given: another thread may have made a new one)."""
        with self._auth_lock:
            if session_id is None or session_id == self._session_id:
                self._session_id = None

    def note_announcement(self, response: Any) -> None:
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
                raise OperationalError(f"cluster at {self.transport.endpoint} did not resume (status {status!r})",
                                       endpoint=self.transport.endpoint)
            time.sleep(0.5)
            status = self._cluster_call("status").status

    def _cluster_call(self, method: str) -> Any:
        kind = cpb.ClusterStatusRequest if method == "status" else cpb.ResumeRequest
        return self.transport.call(
            method, lambda: kind(user=self.username or "", password=self._password.reveal()),
            metadata=self.headers(self.strategy.active()), service="cluster", timeout=30)

    def call(self, method: str, make_request: Callable[[str], Any] | None, **options: Any) -> Any:
        """A session-scoped RPC under the connection's retry policy (see `call_with_colour`)."""
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
                    self._check_open()
                    active = self.strategy.active()
                used = colour or active
                if make_request is None:  # only the session was wanted
                    return used, session_id
                response = self.transport.call(
                    method, lambda: make_request(session_id), metadata=self.headers(used, planner_ip),
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
                    time.sleep(pause)
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
            time.sleep(pause)

    def _timeout(self, cap: float | None, deadline: float | None) -> float:
        """Seconds this try may take: the call's own cap, what is left of the deadline, the connection's."""
        limit = CALL_TIMEOUT if cap is None else cap
        limit = min(limit, self.timeout if deadline is None else deadline - time.monotonic())
        return max(0.001, limit)

    # --- statements and catalog ------------------------------------------------------------------------
    def explain_analyse(self, handle: QueryHandle) -> dict[str, Any]:
        if not handle.query_id:
            raise InterfaceError("no query to explain")
        handle.wait()
        response = self.call("explainAnalyze", lambda sid: pb.ExplainAnalyzeRequest(
            engineIP=handle._engine_ip, sessionId=sid, queryId=handle.query_id),
            colour=handle._colour, planner_ip=handle._engine_ip, query_id=handle.query_id)
        try:
            planner = json.loads(response.explainAnalyze) if response.explainAnalyze else {}
        except ValueError:
            planner = {"text": response.explainAnalyze}
        return {"is_cached": response.isCached, "parsing_time": response.parsingTime,
                "queuing_time": response.queueingTime, "planner": planner}

    def dry_run(self, sql: str) -> str:
        if self.catalog:
            return self.call("dryRunV2", lambda sid: pb.DryRunRequestV2(
                sessionId=sid, schema=self.database or "", queryString=sql, catalog=self.catalog)).dryrunValue
        return self.call("dryRun", lambda sid: pb.DryRunRequest(
            sessionId=sid, schema=self.database or "", queryString=sql)).dryrunValue

    def get_catalogs(self) -> list[dict[str, Any]]:
        response = self.call("getCataloges", lambda _sid: pb.GetCatalogesRequest(), session=False)
        return [{"name": c.name, "isDefault": c.isDefault} for c in response.catalogResponses]

    def get_schema_names(self, catalog: str | None = None) -> list[str]:
        catalog = self._catalog(catalog)
        return list(self.call("getSchemaNamesV2", lambda sid: pb.GetSchemaNamesV2Request(
            sessionId=sid, catalog=catalog)).schemas)

    def get_tables(self, catalog: str | None = None, database: str | None = None) -> list[str]:
        catalog, database = self._catalog(catalog), database or self.database or ""
        return list(self.call("getTablesV2", lambda sid: pb.GetTablesV2Request(
            sessionId=sid, schema=database, catalog=catalog)).tables)

    def get_columns(self, catalog: str | None = None, database: str | None = None,
                    table: str | None = None) -> list[dict[str, str]]:
        catalog, database = self._catalog(catalog), database or self.database or ""
        if not table:
            raise ProgrammingError("get_columns() needs a table name")
        response = self.call("getColumnsV2", lambda sid: pb.GetColumnsV2Request(
            sessionId=sid, schema=database, table=table, catalog=catalog))
        return [{"fieldName": f.fieldName, "fieldType": f.fieldType} for f in response.fieldInfo]

    def _catalog(self, catalog: str | None) -> str:
        catalog = catalog or self.catalog
        if not catalog:
            raise ProgrammingError("no catalog: pass one, or connect(..., catalog=...)")
        return catalog

    def clear(self, query_id: str, engine_ip: str | None = None) -> None:
        self.call("clear", lambda sid: pb.ClearRequest(sessionId=sid, queryId=query_id, engineIP=engine_ip or ""))
        self.strategy.unpin(query_id)

    def query_cancel(self, engine_ip: str | None, query_id: str) -> None:
        self.call("cancelQuery", lambda sid: pb.CancelQueryRequest(
            engineIP=engine_ip or "", sessionId=sid, queryId=query_id),
            colour=self.strategy.pinned_colour(query_id))


def connect(host: str | None = None, port: int | None = None, username: str | None = None,
            password: str | Secret | None = None, **kwargs: Any) -> Connection:
    """Open a connection (lazily: nothing is sent until the first call). Same keywords as the official
    `e6data_python_connector.Connection`, plus OAuth (`access_token`, or `client_id`/`client_secret`/`token_url`),
    and `timeout`: each query's deadline in seconds (default an hour), which also bounds every call.

    The token is masked at once (a `Secret`), so no frame of a failing connect shows it."""
    password = _masked(password)
    for key in ("access_token", "client_secret"):
        if key in kwargs:
            kwargs[key] = _masked(kwargs[key])
    return Connection(host, port, username, password, **kwargs)  # type: ignore[arg-type]


def _masked(value: str | Secret | None) -> Secret | None:
    if value is None or isinstance(value, Secret):
        return value
    return Secret(value)


def _seconds(name: str, value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise InterfaceError(f"{name}={value!r} is not valid: it must be a number of seconds above 0")
    return seconds
