"""Builds the explainAnalyze planner JSON from a query's timings and DuckDB's JSON profile."""
from __future__ import annotations

import json
from typing import Any

from e6magic.engine.queries import Query


def _operator(node: dict[str, Any]) -> dict[str, Any]:
    children = [_operator(child) for child in node.get("children", [])]
    return {
        "name": node.get("name") or node.get("operator_name") or node.get("operator_type") or "?",
        "time": round(float(node.get("timing", node.get("operator_timing", 0.0))) * 1000, 3),  # ms
        "rows": int(node.get("intermediate_rows", node.get("operator_cardinality", 0)) or 0),
        "bytes": int(node.get("intermediate_size_bytes") or 0),  # what the operator handed on
        "details": node.get("extra_info") or {},
        "children": children,
    }


def operator_tree(profile: dict[str, Any] | None) -> dict[str, Any] | None:
    """The root operator (name, time in ms, rows, details, children); DuckDB's result collector included."""
    roots = (profile or {}).get("operator") or (profile or {}).get("children") or []
    if isinstance(roots, dict):
        roots = [roots]
    if not roots:
        return None
    if len(roots) == 1:
        return _operator(roots[0])
    return {"name": "QUERY", "time": 0.0, "rows": 0, "details": {}, "children": [_operator(r) for r in roots]}


def planner_json(query: Query) -> str:
    """What the engine's planner answers for explain analyse: times in milliseconds plus the operator tree."""
    execution_ms = int(((query.ended or query.started or query.created) - (query.started or query.created)) * 1000)
    plan = {
        "query_id": query.query_id,
        "sql": query.sql,
        "total_query_time": query.parse_ms + query.queue_ms + execution_ms,
        "executionQueueingTime": query.queue_ms,
        "parsingTime": query.parse_ms,
        "executionTime": execution_ms,
        "row_count": query.row_count,
        "state": query.state,
        "operators": operator_tree(query.profile),
    }
    return json.dumps(plan)
