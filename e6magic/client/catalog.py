"""The catalog and per-query calls the official connector offers (dry run, catalogs, schemas, tables, columns,
status, explain), over a client session: shared by `Connection` and `Cursor`."""
from __future__ import annotations

from typing import Any

from e6magic._proto import e6x_engine_pb2 as pb
from e6magic.client.exceptions import ProgrammingError
from e6magic.client.session import ClientSession


def dry_run(session: ClientSession, sql: str, catalog: str | None, database: str | None) -> str:
    if catalog:
        response = session.call("dryRunV2", lambda sid: pb.DryRunRequestV2(
            sessionId=sid, schema=database or "", queryString=sql, catalog=catalog))
    else:
        response = session.call("dryRun", lambda sid: pb.DryRunRequest(
            sessionId=sid, schema=database or "", queryString=sql))
    return str(response.dryrunValue)


def catalogs(session: ClientSession) -> list[dict[str, Any]]:
    response = session.call("getCataloges", lambda _sid: pb.GetCatalogesRequest(), session=False)
    return [{"name": c.name, "isDefault": c.isDefault} for c in response.catalogResponses]


def schema_names(session: ClientSession, catalog: str | None) -> list[str]:
    name = _needed(catalog)
    return list(session.call("getSchemaNamesV2", lambda sid: pb.GetSchemaNamesV2Request(
        sessionId=sid, catalog=name)).schemas)


def tables(session: ClientSession, catalog: str | None, database: str | None) -> list[str]:
    name = _needed(catalog)
    return list(session.call("getTablesV2", lambda sid: pb.GetTablesV2Request(
        sessionId=sid, schema=database or "", catalog=name)).tables)


def columns(session: ClientSession, catalog: str | None, database: str | None,
            table: str | None) -> list[dict[str, str]]:
    name = _needed(catalog)
    if not table:
        raise ProgrammingError("get_columns() needs a table name")
    response = session.call("getColumnsV2", lambda sid: pb.GetColumnsV2Request(
        sessionId=sid, schema=database or "", table=table, catalog=name))
    return [{"fieldName": f.fieldName, "fieldType": f.fieldType} for f in response.fieldInfo]


def cancel(session: ClientSession, engine_ip: str | None, query_id: str) -> None:
    """Cancel a query by id, on the colour it is pinned to (if this process started it)."""
    session.call("cancelQuery", lambda sid: pb.CancelQueryRequest(
        engineIP=engine_ip or "", sessionId=sid, queryId=query_id),
        colour=session.strategy.pinned_colour(query_id))


def _needed(catalog: str | None) -> str:
    if not catalog:
        raise ProgrammingError("no catalog: pass one, or connect(..., catalog=...)")
    return catalog
