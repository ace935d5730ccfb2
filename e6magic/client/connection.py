"""`connect()` and `Connection`: PEP 249's connection over a private client session, and the catalog calls."""
from __future__ import annotations

import weakref
from typing import Any

from e6magic._proto import e6x_engine_pb2 as pb
from e6magic.client import catalog as catalog_calls
from e6magic.client import exceptions as _errors
from e6magic.client import strategy as strategies
from e6magic.client.cursor import Cursor
from e6magic.client.exceptions import InterfaceError
from e6magic.client.oauth import BearerTokens
from e6magic.client.query import QueryHandle
from e6magic.client.retry import Settings
from e6magic.client.secret import Secret, masked
from e6magic.client.session import CallTransport, ClientSession
from e6magic.client.transport import Transport

# A query's whole deadline when none is given: long enough for real analytics, never a cell hung forever.
DEFAULT_QUERY_TIMEOUT = 3600.0


class Connection:
    """A connection to one e6data engine (PEP 249). Takes the official connector's keyword names.

    Parameters are bound as literals every e6data endpoint reads back exactly (quotes and backslashes doubled,
    wire doc 5.6; the local engine reads e6data's literals too). `fetchone()` returns a tuple, not the official
    connector's one-row list. Sign-in, colours and retries live in a private `ClientSession`.
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

    def __init__(self, host: str, port: int, username: str | None = None, password: str | Secret | None = None,
                 database: str | None = None, catalog: str | None = None, cluster_name: str | None = None,
                 secure: bool = False, ssl_cert: str | bytes | None = None,
                 grpc_options: dict[str, Any] | None = None, auto_resume: bool = True, *,
                 access_token: str | Secret | None = None, client_id: str | None = None,
                 client_secret: str | Secret | None = None, token_url: str | None = None,
                 oauth_scope: str | None = None, client_auth_method: str = "basic",
                 enable_result_batch_v2: bool | None = None, timeout: float | None = None,
                 transport: CallTransport | None = None) -> None:
        """`transport`: a stand-in for the gRPC channel (tests of the client's logic without a port)."""
        password, access_token, client_secret = masked(password), masked(access_token), masked(client_secret)
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
        options = dict(grpc_options or {})
        self.timeout = _seconds("timeout", DEFAULT_QUERY_TIMEOUT if timeout is None else timeout)
        settings = Settings.from_env()  # every E6DATA_* variable checked here, once: a bad one fails connect()
        strategies.use_log_level(settings.log_level)
        tokens = BearerTokens(access_token=access_token, client_id=client_id, client_secret=client_secret,
                              token_url=token_url, scope=oauth_scope,
                              client_auth_method=client_auth_method) if oauth else None
        if transport is None:
            transport = Transport(host, self.port, secure=secure, ssl_cert=ssl_cert, grpc_options=options,
                                  cluster_name=cluster_name)
        self._session = ClientSession(
            transport, strategies.strategy_for(host, self.port, cluster_name), settings.retry,
            username=username, password=password, tokens=tokens, timeout=self.timeout,
            prepare_timeout=float(options.get("grpc_prepare_timeout", 600)),
            resume_timeout=float(options.get("grpc_auto_resume_timeout_seconds", 300)),
            auto_resume=auto_resume, result_batch_v2=enable_result_batch_v2)
        self._cursors: weakref.WeakSet[Cursor] = weakref.WeakSet()

    def __repr__(self) -> str:  # no password or token, ever
        return f"<e6magic.Connection {self._session.endpoint} catalog={self.catalog!r} user={self.username!r}>"

    @property
    def closed(self) -> bool:
        return self._session.closed

    @property
    def session_id(self) -> str:
        """The engine's session id, signing in first if need be ('' with OAuth, which has no session)."""
        return self._session.session_id

    # --- PEP 249 -------------------------------------------------------------------------------------
    def cursor(self, catalog_name: str | None = None, db_name: str | None = None, *,
               catalog: str | None = None, database: str | None = None) -> Cursor:
        self._session.check_open()
        cur = Cursor(self, self._session, catalog=catalog or catalog_name or self.catalog,
                     database=database or db_name or self.database)
        self._cursors.add(cur)
        return cur

    def close(self) -> None:
        """Close every cursor (clearing their queries on the engine), then the channel.

        A second close() raises `InterfaceError`, like any other call on a closed connection (PEP 249: "unusable
        from this point forward"); `with` closes only a connection still open."""
        self._session.check_open()
        for cur in list(self._cursors):
            cur.close()
        self._session.close()

    def commit(self) -> None:
        """The engine has no transactions: every statement stands on its own, so there is nothing to commit."""
        self._session.check_open()

    def rollback(self) -> None:
        """Always `NotSupportedError` (PEP 249's answer for a database without transactions)."""
        self._session.check_open()
        raise _errors.NotSupportedError("the e6data engine has no transactions to roll back")

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.closed:  # closed inside the block: nothing left to do, and no error to hide the block's own
            self.close()

    # --- statements and catalog (the official connector's extras) --------------------------------------
    def explain_analyse(self, handle: QueryHandle) -> dict[str, Any]:
        return handle.explain_analyse()

    def dry_run(self, sql: str) -> str:
        return catalog_calls.dry_run(self._session, sql, self.catalog, self.database)

    def get_catalogs(self) -> list[dict[str, Any]]:
        return catalog_calls.catalogs(self._session)

    def get_schema_names(self, catalog: str | None = None) -> list[str]:
        return catalog_calls.schema_names(self._session, catalog or self.catalog)

    def get_tables(self, catalog: str | None = None, database: str | None = None) -> list[str]:
        return catalog_calls.tables(self._session, catalog or self.catalog, database or self.database)

    def get_columns(self, catalog: str | None = None, database: str | None = None,
                    table: str | None = None) -> list[dict[str, str]]:
        return catalog_calls.columns(self._session, catalog or self.catalog, database or self.database, table)

    def clear(self, query_id: str, engine_ip: str | None = None) -> None:
        self._session.call("clear", lambda sid: pb.ClearRequest(sessionId=sid, queryId=query_id,
                                                                engineIP=engine_ip or ""))
        self._session.strategy.unpin(query_id)

    def query_cancel(self, engine_ip: str | None, query_id: str) -> None:
        catalog_calls.cancel(self._session, engine_ip, query_id)


def connect(host: str | None = None, port: int | None = None, username: str | None = None,
            password: str | Secret | None = None, **kwargs: Any) -> Connection:
    """Open a connection (lazily: nothing is sent until the first call). Same keywords as the official
    `e6data_python_connector.Connection`, plus OAuth (`access_token`, or `client_id`/`client_secret`/`token_url`),
    and `timeout`: each query's deadline in seconds (default an hour), which also bounds every call.

    The token is masked at once (a `Secret`), so no frame of a failing connect shows it."""
    password = masked(password)
    for key in ("access_token", "client_secret"):
        if key in kwargs:
            kwargs[key] = masked(kwargs[key])
    return Connection(host, port, username, password, **kwargs)  # type: ignore[arg-type]


def _seconds(name: str, value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise InterfaceError(f"{name}={value!r} is not valid: it must be a number of seconds above 0")
    return seconds
