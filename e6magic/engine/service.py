"""The QueryEngineService servicer: each RPC checks who calls, then asks the registry or the catalog."""
from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

import duckdb
import grpc
from google.protobuf.message import Message

from e6magic._proto import e6x_engine_pb2 as pb
from e6magic._proto import e6x_engine_pb2_grpc as pb_grpc
from e6magic.engine import catalog, literals
from e6magic.engine.errors import EngineError, query_error
from e6magic.engine.plan import planner_json
from e6magic.engine.queries import Query, QueryRegistry
from e6magic.engine.sessions import Gatekeeper
from e6magic.engine.sqltext import one_statement, qualified
from e6magic.states import QueryState

ENGINE_IP = "127.0.0.1"
_V2_POLL_SECONDS = 0.1
_V2_MAX_CHUNKS = 16
_V2_MAX_BYTES = 1024 * 1024  # per response (one 16,384-row chunk of mixed data): see DEFAULT_CHUNK_ROWS


# gRPC clients drop a status whose headers pass 8 KiB (an echoed 5000-character name did that); the message
# travels percent-encoded, so it is measured as sent
_DETAILS_HEAD_BYTES, _DETAILS_TAIL_BYTES = 4000, 600


def _sent_bytes(ch: str) -> int:
    return 1 if " " <= ch <= "~" and ch != "%" else 3 * len(ch.encode("utf-8", "surrogatepass"))


def _fit(chars: str, budget: int) -> str:
    used = 0
    for index, ch in enumerate(chars):
        used += _sent_bytes(ch)
        if used > budget:
            return chars[:index]
    return chars


def short_details(details: str) -> str:
    """An error text that fits a gRPC status: its head and its tail (where the query id is)."""
    if sum(map(_sent_bytes, details)) <= _DETAILS_HEAD_BYTES + _DETAILS_TAIL_BYTES:
        return details
    return f"{_fit(details, _DETAILS_HEAD_BYTES)} ... {_fit(details[::-1], _DETAILS_TAIL_BYTES)[::-1]}"


def metadata_of(context: grpc.ServicerContext) -> dict[str, str]:
    return {key.lower(): value for key, value in context.invocation_metadata() if isinstance(value, str)}


@dataclass(frozen=True)
class Caller:
    """Who a call comes from: its metadata and the user its session (or bearer token) signed in as."""

    md: dict[str, str]
    user: str = ""


Context: TypeAlias = grpc.ServicerContext
Req = TypeVar("Req", bound=Message)
Resp = TypeVar("Resp", bound=Message)
# an RPC as written below (it also gets the Caller) and as gRPC calls it
Method: TypeAlias = Callable[["QueryEngineService", Req, grpc.ServicerContext, Caller], Resp]
Handler: TypeAlias = Callable[["QueryEngineService", Req, grpc.ServicerContext], Resp]


def rpc(*, session: bool = True, new_work: bool = False) -> Callable[[Method[Req, Resp]], Handler[Req, Resp]]:
    """Wraps an RPC: admission (colour, suspension), session check, errors to gRPC status, `new_strategy`."""

    def decorate(method: Method[Req, Resp]) -> Handler[Req, Resp]:
        @functools.wraps(method)
        def handler(self: QueryEngineService, request: Req, context: grpc.ServicerContext) -> Resp:
            md = metadata_of(context)
            session_id = getattr(request, "sessionId", "") if session else ""
            entered = False
            try:
                if new_work:
                    self.gate.admit_new_work(md)
                user = ""
                if session:
                    user = self.gate.enter(session_id, md, context.peer())
                    entered = True
                response = method(self, request, context, Caller(md, user))
            except EngineError as exc:
                context.abort(exc.code, short_details(exc.details))
            finally:
                if entered:
                    self.gate.leave(session_id)
            fields = response.DESCRIPTOR.fields_by_name
            announcement = self.gate.announcement(md)
            if announcement and "new_strategy" in fields:
                setattr(response, "new_strategy", announcement)  # noqa: B010 (not every response has the field)
            if "sessionId" in fields and not getattr(response, "sessionId"):  # noqa: B009
                setattr(response, "sessionId", getattr(request, "sessionId", ""))  # noqa: B010
            return response

        return handler

    return decorate


class QueryEngineService(pb_grpc.QueryEngineServiceServicer):
    """The engine's client-facing API over one DuckDB database (wire §1.3, §2)."""

    def __init__(self, db: duckdb.DuckDBPyConnection, gate: Gatekeeper, registry: QueryRegistry) -> None:
        self.db = db
        self.gate = gate
        self.registry = registry

    # --- session and statements ----------------------------------------------------------------------
    @rpc(session=False, new_work=True)
    def authenticate(self, request: pb.AuthenticateRequest, context: Context,
                     caller: Caller) -> pb.AuthenticateResponse:
        return pb.AuthenticateResponse(sessionId=self.gate.authenticate(request.user, request.password,
                                                                        context.peer()))

    def _prepare(self, request: pb.PrepareStatementRequest | pb.PrepareStatementV2Request, caller: Caller,
                 catalog_name: str) -> pb.PrepareStatementResponse:
        query = self.registry.prepare(request.sessionId, request.queryString, catalog_name, request.schema,
                                      self.gate.colour_of(caller.md), user=caller.user)
        return pb.PrepareStatementResponse(engineIP=ENGINE_IP, queryId=query.query_id, sessionId=request.sessionId)

    @rpc(new_work=True)
    def prepareStatement(self, request: pb.PrepareStatementRequest, context: Context,
                         caller: Caller) -> pb.PrepareStatementResponse:
        return self._prepare(request, caller, "")

    @rpc(new_work=True)
    def prepareStatementV2(self, request: pb.PrepareStatementV2Request, context: Context,
                           caller: Caller) -> pb.PrepareStatementResponse:
        return self._prepare(request, caller, request.catalog)

    @rpc()
    def executeStatement(self, request: pb.ExecuteStatementRequest, context: Context,
                         caller: Caller) -> pb.ExecuteStatementResponse:
        self.registry.execute(request.queryId, caller.user)
        return pb.ExecuteStatementResponse()

    executeStatementV2 = executeStatement  # the V2 request adds nothing the engine needs to run it

    # --- results ----------------------------------------------------------------------------------------
    def _ended(self, query_id: str, caller: Caller, context: grpc.ServicerContext, *, ready: bool = False) -> Query:
        """The query once it has ended (or, `ready`, once its metadata is known: it may still be streaming)."""
        query = self.registry.get(query_id, caller.user)
        if query.state == QueryState.PREPARED:
            raise EngineError(grpc.StatusCode.FAILED_PRECONDITION, f"query {query_id} was prepared but not executed")
        if not self.registry.wait(query, context.is_active, ready=ready):
            raise EngineError(grpc.StatusCode.CANCELLED, f"the caller went away while query {query_id} ran")
        query.touched = time.monotonic()  # asked for now, not when the wait began
        self.registry.result_or_raise(query)
        return query

    @rpc()
    def getResultMetadata(self, request: pb.GetResultMetadataRequest, context: Context,
                          caller: Caller) -> pb.GetResultMetadataResponse:
        # rowCount -1 while the result streams, its exact count once it has ended (docs/architecture.md)
        query = self._ended(request.queryId, caller, context, ready=True)
        return pb.GetResultMetadataResponse(resultMetaData=query.metadata)

    @rpc()
    def getNextResultBatch(self, request: pb.GetNextResultBatchRequest, context: Context,
                           caller: Caller) -> pb.GetNextResultBatchResponse:
        chunks, _ = self.registry.next_chunks(self._ended(request.queryId, caller, context, ready=True), 1, 1)
        return pb.GetNextResultBatchResponse(resultBatch=chunks[0] if chunks else b"")

    @rpc()
    def getNextResultBatchV2(self, request: pb.GetNextResultBatchRequest, context: Context,
                             caller: Caller) -> pb.GetNextResultBatchV2Response:
        query = self.registry.get(request.queryId, caller.user)
        # V2 may answer "nothing yet" (wire §2.5): wait briefly, so polling clients see progress early.
        if not self.registry.wait(query, context.is_active, timeout=_V2_POLL_SECONDS, ready=True):
            return pb.GetNextResultBatchV2Response(endOfStream=False)
        self.registry.result_or_raise(query)
        chunks, ended = self.registry.next_chunks(query, _V2_MAX_CHUNKS, _V2_MAX_BYTES, wait=_V2_POLL_SECONDS)
        return pb.GetNextResultBatchV2Response(resultBatches=chunks, endOfStream=ended)

    @rpc()
    def status(self, request: pb.StatusRequest, context: Context, caller: Caller) -> pb.StatusResponse:
        query = self.registry.get(request.queryId, caller.user)
        return pb.StatusResponse(status=query.state == QueryState.FINISHED, rowCount=query.row_count)

    @rpc()
    def explain(self, request: pb.ExplainRequest, context: Context, caller: Caller) -> pb.ExplainResponse:
        query = self.registry.get(request.queryId, caller.user)
        cursor = self.db.cursor()
        try:
            cursor.execute(f"USE {qualified(query.catalog, query.schema)}")
            rows = cursor.execute(f"EXPLAIN {query.sql}").fetchall()
        except duckdb.Error as exc:
            raise query_error(exc, query.query_id) from exc
        finally:
            cursor.close()
        return pb.ExplainResponse(explain="\n".join(str(row[-1]) for row in rows))

    @rpc()
    def explainAnalyze(self, request: pb.ExplainAnalyzeRequest, context: Context,
                       caller: Caller) -> pb.ExplainAnalyzeResponse:
        query = self._ended(request.queryId, caller, context)
        return pb.ExplainAnalyzeResponse(explainAnalyze=planner_json(query), isCached=False,
                                         parsingTime=query.parse_ms, queueingTime=query.queue_ms)

    # --- cancel and clear: idempotent, quiet for unknown and empty ids ------------------------------------
    @rpc()
    def cancelQuery(self, request: pb.CancelQueryRequest, context: Context, caller: Caller) -> pb.CancelQueryResponse:
        self.registry.cancel(request.queryId, caller.user)
        return pb.CancelQueryResponse()

    @rpc()
    def clear(self, request: pb.ClearRequest, context: Context, caller: Caller) -> pb.ClearResponse:
        self.registry.clear(request.queryId, caller.user)
        return pb.ClearResponse()

    @rpc()
    def clearOrCancelQuery(self, request: pb.ClearOrCancelQueryRequest, context: Context,
                           caller: Caller) -> pb.ClearOrCancelQueryResponse:
        self.registry.clear(request.queryId, caller.user)  # clear cancels a query that is still running
        return pb.ClearOrCancelQueryResponse()

    # --- dry run ------------------------------------------------------------------------------------------
    def _dry_run(self, sql: str, catalog_name: str, schema: str) -> pb.DryRunResponse:
        cursor = self.db.cursor()
        value: dict[str, object]
        try:
            where = qualified(catalog_name or self.registry.default_catalog, schema or catalog.DEFAULT_SCHEMA)
            cursor.execute(f"USE {where}")
            sql = literals.to_duckdb(sql)
            one_statement(cursor, sql)
            cursor.execute(f"EXPLAIN {sql}")  # binds and plans, runs nothing
            value = {"valid": True, "statements": 1}
        except (duckdb.Error, literals.LiteralError) as exc:
            value = {"valid": False, "error": " ".join(str(exc).split())}
        except EngineError as exc:
            value = {"valid": False, "error": exc.details}
        finally:
            cursor.close()
        return pb.DryRunResponse(dryrunValue=json.dumps(value))

    @rpc()
    def dryRun(self, request: pb.DryRunRequest, context: Context, caller: Caller) -> pb.DryRunResponse:
        return self._dry_run(request.queryString, "", request.schema)

    @rpc()
    def dryRunV2(self, request: pb.DryRunRequestV2, context: Context, caller: Caller) -> pb.DryRunResponse:
        return self._dry_run(request.queryString, request.catalog, request.schema)

    # --- catalog ------------------------------------------------------------------------------------------
    def _read_catalog(self, read: Callable[..., Any], *args: str) -> Any:
        cursor = self.db.cursor()
        try:
            return read(cursor, *args)
        finally:
            cursor.close()

    def _known_catalog(self, name: str) -> str:
        name = name or catalog.DEMO_CATALOG
        if name not in self._read_catalog(catalog.catalogs):
            raise EngineError(grpc.StatusCode.NOT_FOUND, f"unknown catalog {name!r}")
        return name

    def getCataloges(self, request: pb.GetCatalogesRequest, context: Context) -> pb.GetCatalogesResponse:
        # carries no session (the official connector sends nothing with it in password mode): it answers, but a
        # bearer token that comes with it must be the right one
        md = metadata_of(context)
        try:
            if "authorization" in md and not self.gate.bearer_ok(md, context.peer()):
                raise EngineError(grpc.StatusCode.UNAUTHENTICATED, "invalid credentials: bearer token not accepted")
        except EngineError as exc:
            context.abort(exc.code, exc.details)
        names = self._read_catalog(catalog.catalogs)
        return pb.GetCatalogesResponse(catalogResponses=[
            pb.CatalogResponse(name=n, isDefault=n == catalog.DEMO_CATALOG) for n in names])

    @rpc()
    def getSchemaNames(self, request: pb.GetSchemaNamesRequest, context: Context,
                       caller: Caller) -> pb.GetSchemaNamesResponse:
        return pb.GetSchemaNamesResponse(schemas=self._read_catalog(catalog.schemas, self._known_catalog("")))

    @rpc()
    def getSchemaNamesV2(self, request: pb.GetSchemaNamesV2Request, context: Context,
                         caller: Caller) -> pb.GetSchemaNamesResponse:
        name = self._known_catalog(request.catalog)
        return pb.GetSchemaNamesResponse(schemas=self._read_catalog(catalog.schemas, name))

    @rpc()
    def getTables(self, request: pb.GetTablesRequest, context: Context, caller: Caller) -> pb.GetTablesResponse:
        return pb.GetTablesResponse(tables=self._read_catalog(catalog.tables, self._known_catalog(""), request.schema))

    @rpc()
    def getTablesV2(self, request: pb.GetTablesV2Request, context: Context, caller: Caller) -> pb.GetTablesResponse:
        name = self._known_catalog(request.catalog)
        return pb.GetTablesResponse(tables=self._read_catalog(catalog.tables, name, request.schema))

    def _columns(self, catalog_name: str, schema: str, table: str) -> pb.GetColumnsResponse:
        cols = self._read_catalog(catalog.columns, self._known_catalog(catalog_name), schema, table)
        if not cols:
            raise EngineError(grpc.StatusCode.NOT_FOUND, f"unknown table {catalog_name or 'demo'}.{schema}.{table}")
        return pb.GetColumnsResponse(fieldInfo=[pb.GFieldInfo(fieldName=n, fieldType=t) for n, t in cols])

    @rpc()
    def getColumns(self, request: pb.GetColumnsRequest, context: Context, caller: Caller) -> pb.GetColumnsResponse:
        return self._columns("", request.schema, request.table)

    @rpc()
    def getColumnsV2(self, request: pb.GetColumnsV2Request, context: Context, caller: Caller) -> pb.GetColumnsResponse:
        return self._columns(request.catalog, request.schema, request.table)

    def healthCheck(self, request: pb.HealthCheckRequest, context: Context) -> pb.HealthCheckResponse:
        return pb.HealthCheckResponse()
