"""The `e6magic://` SQLAlchemy dialect: e6magic's DB-API client underneath, reflection through the schema RPCs."""
from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

import grpc
from sqlalchemy import exc
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import default, reflection
from sqlalchemy.engine.url import URL

from e6magic.client import Connection as ClientConnection
from e6magic.client import InterfaceError, NotSupportedError, ProgrammingError
from e6magic.sqlalchemy import types as e6types
from e6magic.sqlalchemy.compiler import E6Compiler, E6IdentifierPreparer, E6TypeCompiler

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import (
        IsolationLevel,
        ReflectedColumn,
        ReflectedPrimaryKeyConstraint,
    )

# URL query keys -> `e6magic.connect()` keywords; each value is text in a URL
_FLAGS = {"secure": "secure", "auto_resume": "auto_resume"}
_TEXT = {"catalog": "catalog", "schema": "database", "database": "database", "cluster": "cluster_name",
         "cluster_name": "cluster_name", "cluster-name": "cluster_name"}
_SECRETS = {"password", "token", "access_token", "client_secret"}
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def _flag(key: str, value: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise exc.ArgumentError(f"e6magic URL: {key}={value!r} is not a boolean (use true or false)")


def _options(url: URL) -> dict[str, Any]:
    if not url.host:
        raise exc.ArgumentError("e6magic URL needs a host: e6magic://user:token@host:port/?catalog=...")
    for key in url.query:  # before any value is read: a misplaced token is never held in a local
        if key in _SECRETS:
            raise exc.ArgumentError(f"e6magic URL: put the token in the URL's password "
                                    f"(e6magic://user:TOKEN@host:port/), not in ?{key}= where it would be shown")
        if key not in _TEXT and key not in _FLAGS:
            known = ", ".join(sorted({*_TEXT, *_FLAGS}))
            raise exc.ArgumentError(f"e6magic URL: unknown option {key!r} (known: {known})")
    options: dict[str, Any] = {"host": url.host, "secure": False}
    if url.database:
        options["catalog"] = url.database
    for key, value in url.query.items():
        if not isinstance(value, str):
            raise exc.ArgumentError(f"e6magic URL: {key} is given more than once")
        if key in _TEXT:
            options[_TEXT[key]] = value
        else:
            options[_FLAGS[key]] = _flag(key, value)
    options["port"] = url.port or (443 if options["secure"] else 80)
    return options


class E6ExecutionContext(default.DefaultExecutionContext):
    """A streamed result needs no special cursor: every client cursor already reads batch by batch."""

    def create_server_side_cursor(self) -> Any:
        return self._dbapi_connection.cursor()

    def get_result_processor(self, type_: Any, colname: str, coltype: Any) -> Any:
        # A textual query (text(), exec_driver_sql, pandas) has no declared types: its BINARY columns still
        # become bytes, from the result's own type code. Every other column is handed out as the client made it.
        if type_._type_affinity is sqltypes.NullType and str(coltype).upper() in ("BINARY", "BLOB"):
            return e6types.text_to_bytes
        return super().get_result_processor(type_, colname, coltype)


class E6magicDialect(default.DefaultDialect):
    """SQLAlchemy dialect for e6data over `e6magic.client` (SQLAlchemy 2.0 and 2.1).

    URL: ``e6magic://user:token@host:port/?catalog=C&schema=S&secure=true&cluster=N``; the token is the URL
    password, which SQLAlchemy masks in every repr and log line. The catalog may also be the URL's path
    (``e6magic://user:token@host:port/C``).
    """

    name = "e6magic"
    driver = "e6magic"
    supports_statement_cache = True
    statement_compiler = E6Compiler
    type_compiler_cls = E6TypeCompiler
    preparer = E6IdentifierPreparer  # type: ignore[assignment]
    execution_ctx_cls = E6ExecutionContext

    supports_native_boolean = True
    supports_native_decimal = True
    supports_native_enum = False
    supports_sequences = False
    supports_alter = False
    supports_comments = False
    supports_views = True
    supports_server_side_cursors = True
    supports_sane_rowcount = False
    supports_sane_multi_rowcount = False
    supports_default_values = False
    supports_empty_insert = False
    supports_multivalues_insert = True
    postfetch_lastrowid = False
    default_paramstyle = "pyformat"
    max_identifier_length = 255

    colspecs = {  # noqa: RUF012 - SQLAlchemy's own class attribute
        sqltypes.Interval: e6types.INTERVAL,
        sqltypes.LargeBinary: e6types.BINARY,
        sqltypes.ARRAY: e6types.ARRAY,
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._views_by_query = True  # False once the engine refused information_schema (see get_view_names)

    @classmethod
    def import_dbapi(cls) -> ModuleType:
        import e6magic.client

        return e6magic.client

    # --- connecting --------------------------------------------------------------------------------------------
    def create_connect_args(self, url: URL) -> tuple[list[Any], dict[str, Any]]:
        """`e6magic.connect()` keywords from the URL. Unknown query keys and tokens outside the password are
        refused: a token in the query string would be printed by every repr of the URL."""
        options = _options(url)
        # the token joins the keywords only here, so no frame that can raise holds it (verbose tracebacks)
        return [], {**options, "username": url.username, "password": url.password}

    def do_execute(self, cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        # SQL handed to exec_driver_sql (pandas does) with no parameters is sent as written, `%` and all; a
        # compiled statement doubles its `%` for pyformat, so it always goes through the binding
        if not parameters and (context is None or context.compiled is None):
            cursor.execute(statement)
        else:
            cursor.execute(statement, parameters)

    def do_rollback(self, dbapi_connection: Any) -> None:
        """The engine has no transactions; the pool's reset-on-return must not fail."""

    def do_commit(self, dbapi_connection: Any) -> None:
        """Nothing to commit: every statement stands on its own."""

    def get_isolation_level_values(self, dbapi_conn: Any) -> list[IsolationLevel]:
        return ["AUTOCOMMIT"]

    def get_isolation_level(self, dbapi_connection: Any) -> IsolationLevel:
        return "AUTOCOMMIT"

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        if level != "AUTOCOMMIT":
            raise exc.ArgumentError(f"the e6data engine only runs AUTOCOMMIT, not {level!r}")

    def do_ping(self, dbapi_connection: Any) -> bool:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
            cursor.fetchall()
        finally:
            cursor.close()
        return True

    def do_close(self, dbapi_connection: Any) -> None:
        if not dbapi_connection.closed:  # closed by hand through .dbapi_connection: the pool's close is a no-op
            dbapi_connection.close()

    def is_disconnect(self, e: Exception, connection: Any, cursor: Any) -> bool:
        if isinstance(e, InterfaceError) and "closed" in str(e):
            return True
        return bool(getattr(e, "grpc_code", None) == grpc.StatusCode.UNAVAILABLE)

    def _client(self, connection: Any) -> ClientConnection:
        return connection.connection.dbapi_connection  # type: ignore[no-any-return]

    def _get_default_schema_name(self, connection: Any) -> str:
        return self._client(connection).database  # type: ignore[return-value] # None when the URL names none

    def _schema(self, connection: Any, schema: str | None) -> str:
        schema = schema or self.default_schema_name or self._client(connection).database
        if not schema:
            raise exc.ArgumentError("no schema: pass schema=..., or give ?schema= in the e6magic URL")
        return schema

    # --- reflection (the engine's schema RPCs: getSchemaNamesV2, getTablesV2, getColumnsV2) ------------------
    @reflection.cache
    def get_schema_names(self, connection: Any, **kw: Any) -> list[str]:
        return self._client(connection).get_schema_names()

    @reflection.cache
    def _relations(self, connection: Any, schema: str, **kw: Any) -> list[str]:
        """Tables and views of a schema (getTablesV2 answers both, and nothing else says which is which)."""
        return self._client(connection).get_tables(database=schema)

    def get_table_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        schema = self._schema(connection, schema)
        views = set(self.get_view_names(connection, schema, **kw))
        return [name for name in self._relations(connection, schema, **kw) if name not in views]

    @reflection.cache
    def get_view_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        """Views, from `information_schema.tables` (the schema RPCs list views among the tables without saying
        so). An engine that refuses that query reports no views, and its views are listed as tables."""
        schema = self._schema(connection, schema)
        if not self._views_by_query:
            return []
        client = self._client(connection)
        cursor = client.cursor()
        try:
            cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = %(c)s "
                           "AND table_schema = %(s)s AND table_type = 'VIEW' ORDER BY 1",
                           {"c": client.catalog, "s": schema})
            return [row[0] for row in cursor.fetchall()]
        except (ProgrammingError, NotSupportedError):
            self._views_by_query = False
            return []
        finally:
            cursor.close()

    def has_table(self, connection: Any, table_name: str, schema: str | None = None, **kw: Any) -> bool:
        """True when the schema holds a table or view of that name (SQLAlchemy's contract; pandas relies on it
        to tell a table name from a query)."""
        self._ensure_has_table_connection(connection)
        return table_name in self._relations(connection, self._schema(connection, schema), **kw)

    @reflection.cache
    def get_columns(self, connection: Any, table_name: str, schema: str | None = None,
                    **kw: Any) -> list[ReflectedColumn]:
        schema = self._schema(connection, schema)
        try:
            fields = self._client(connection).get_columns(database=schema, table=table_name)
        except ProgrammingError as error:
            if error.grpc_code == grpc.StatusCode.NOT_FOUND:
                raise exc.NoSuchTableError(f"{schema}.{table_name}") from None
            raise
        if not fields:
            raise exc.NoSuchTableError(f"{schema}.{table_name}")
        return [{"name": f["fieldName"], "type": e6types.parse_type(f["fieldType"]), "nullable": True,
                 "default": None, "autoincrement": False} for f in fields]

    def get_pk_constraint(self, connection: Any, table_name: str, schema: str | None = None,
                          **kw: Any) -> ReflectedPrimaryKeyConstraint:
        return {"constrained_columns": [], "name": None}

    def get_foreign_keys(self, connection: Any, table_name: str, schema: str | None = None,
                         **kw: Any) -> list[Any]:
        return []

    def get_indexes(self, connection: Any, table_name: str, schema: str | None = None, **kw: Any) -> list[Any]:
        return []

    def get_unique_constraints(self, connection: Any, table_name: str, schema: str | None = None,
                               **kw: Any) -> list[Any]:
        return []

    def get_check_constraints(self, connection: Any, table_name: str, schema: str | None = None,
                              **kw: Any) -> list[Any]:
        return []

    def get_view_definition(self, connection: Any, view_name: str, schema: str | None = None, **kw: Any) -> str:
        raise NotImplementedError("the e6data engine does not report view definitions")

