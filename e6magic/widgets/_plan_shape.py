"""Read an explain-analyse plan of any plausible shape into one operator tree and a summary."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

# Key spellings seen in e6data planner JSON, DuckDB profiles and our engine; first match wins.
_NAME_KEYS = ("name", "operator", "operator_name", "operatorName", "operator_type", "operatorType", "op", "label",
              "type")
_TIME_MS_KEYS = ("time_ms", "timeMs", "time", "totalTime", "total_time", "duration", "elapsed", "cpu_time",
                 "executionTime")
_TIME_S_KEYS = ("operator_timing", "timing", "latency", "seconds")
_ROWS_KEYS = ("rows", "operator_cardinality", "cardinality", "rowCount", "row_count", "output_rows", "rows_out",
              "numRows")
_BYTES_KEYS = ("bytes", "intermediate_size_bytes", "output_bytes", "outputBytes", "bytes_out", "memory_bytes",
               "peak_memory", "peakMemory")
# an optimiser's estimate, as a key of the node or of its details (DuckDB keeps it in extra_info)
_ESTIMATE_KEYS = ("est_rows", "estimated_rows", "estimatedRows", "estimated_cardinality", "estimatedCardinality",
                  "Estimated Cardinality", "EstimatedCardinality", "cardinality_estimate", "estimate")
_CHILD_KEYS = ("children", "inputs", "child_nodes", "childNodes", "nodes", "input", "child")
_TREE_KEYS = ("root", "plan", "tree", "operators", "operator_tree", "operatorTree", "planTree", "query_plan",
              "queryPlan")
_SUMMARY_KEYS = {
    "total_ms": ("total_query_time", "totalQueryTime", "total_time_ms", "total_time"),
    "parse_ms": ("parsingTime", "parsing_time", "parse_time", "parseTime"),
    "queue_ms": ("executionQueueingTime", "queuing_time", "queueingTime", "queue_time", "queueTime"),
    "execution_ms": ("executionTime", "execution_time", "execution_ms", "executionTimeMs"),
}
_NESTED_DETAIL_KEYS = ("details", "extra_info")  # their entries are the operator's own details
MAX_DETAIL_CHARS = 400


class PlanShapeError(ValueError):
    """The plan is readable JSON but holds no operator tree we recognise."""


@dataclass
class Operator:
    name: str
    time_ms: float | None
    rows: int | None
    details: dict[str, str]
    children: list[Operator] = field(default_factory=list)
    est_rows: int | None = None
    bytes: int | None = None


def parse_plan(plan: Any) -> tuple[dict[str, Any], Any]:
    """The plan as JSON data plus the summary fields found on the outside (``explain_analyse()``'s dict)."""
    outer: dict[str, Any] = {}
    if isinstance(plan, (bytes, str)):
        plan = json.loads(plan)
    if isinstance(plan, dict) and "planner" in plan:
        outer = {k: v for k, v in plan.items() if k != "planner"}
        plan = plan["planner"]
        if isinstance(plan, (bytes, str)):
            plan = json.loads(plan) if plan.strip() else {}
    return outer, plan


def summary_of(outer: dict[str, Any], plan: Any) -> dict[str, float]:
    found: dict[str, float] = {}
    for where in (outer, plan if isinstance(plan, dict) else {}):
        for label, keys in _SUMMARY_KEYS.items():
            value = _first_number(where, keys)
            if value is not None:
                found[label] = value  # the planner's own numbers beat the wrapper's
    if "execution_ms" not in found and "total_ms" in found:
        found["execution_ms"] = max(0.0, found["total_ms"] - found.get("parse_ms", 0.0) - found.get("queue_ms", 0.0))
    if isinstance(outer.get("is_cached"), bool):
        found["cached"] = float(outer["is_cached"])
    return found


def find_tree(plan: Any) -> Operator:
    """The operator tree inside ``plan``; raises PlanShapeError when there is none."""
    node = _locate(plan, depth=0)
    if node is None:
        raise PlanShapeError("no operator tree found")
    if isinstance(node, list):
        return Operator("query", None, None, {}, [_operator(n) for n in node if isinstance(n, dict)])
    return _operator(node)


def _locate(value: Any, depth: int) -> Any:
    if depth > 4:
        return None
    if isinstance(value, dict):
        if _looks_like_node(value):
            if _name_of(value) is None:  # e.g. a DuckDB profile root: children but no operator name
                return _children_of(value)
            return value
        for key in _TREE_KEYS:
            if key in value:
                found = _locate(value[key], depth + 1)
                if found is not None:
                    return found
        return None
    if isinstance(value, list) and value and all(isinstance(v, dict) and _looks_like_node(v) for v in value):
        return value
    return None


def _looks_like_node(d: dict[str, Any]) -> bool:
    has_children = any(isinstance(d.get(k), (list, dict)) for k in _CHILD_KEYS)
    return (_name_of(d) is not None and (has_children or _time_of(d) is not None)) or (
        has_children and all(isinstance(c, dict) for c in _children_of(d)) and bool(_children_of(d)))


def _operator(d: dict[str, Any]) -> Operator:
    shown = {_first_key(d, _NAME_KEYS, str), _first_key(d, _TIME_MS_KEYS + _TIME_S_KEYS, (int, float)),
             _first_key(d, _ROWS_KEYS, (int, float)), _first_key(d, _BYTES_KEYS, (int, float)),
             _first_key(d, _ESTIMATE_KEYS, (int, float, str)), *_CHILD_KEYS}
    details = {}
    for key, value in d.items():
        if key in shown:
            continue
        if key in _NESTED_DETAIL_KEYS and isinstance(value, dict):
            details.update({str(k): _short(v if isinstance(v, str) else json.dumps(v, default=str))
                            for k, v in value.items()})
            continue
        if isinstance(value, (str, int, float, bool)) or value is None:
            details[key] = _short(value)
        else:
            details[key] = _short(json.dumps(value, default=str))
    rows = _first_number(d, _ROWS_KEYS)
    size = _first_number(d, _BYTES_KEYS)
    estimate = _first_number(d, _ESTIMATE_KEYS)
    if estimate is None:
        estimate = _first_number(details, _ESTIMATE_KEYS)
        for key in _ESTIMATE_KEYS:
            details.pop(key, None)  # shown beside the actual rows, not again among the details
    return Operator(_name_of(d) or "operator", _time_of(d), None if rows is None else int(rows), details,
                    [_operator(c) for c in _children_of(d)], _count(estimate), _count(size))


def _count(value: float | None) -> int | None:
    return None if value is None or not math.isfinite(value) or value < 0 else int(value)  # NaN, inf, < 0: unknown


def _first_key(d: dict[str, Any], keys: tuple[str, ...], kinds: Any) -> str | None:
    return next((k for k in keys if isinstance(d.get(k), kinds) and not isinstance(d.get(k), bool)), None)


def _name_of(d: dict[str, Any]) -> str | None:
    for key in _NAME_KEYS:
        value = d.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _time_of(d: dict[str, Any]) -> float | None:
    ms = _first_number(d, _TIME_MS_KEYS)
    if ms is not None:
        return ms
    seconds = _first_number(d, _TIME_S_KEYS)
    return None if seconds is None else seconds * 1000.0


def _children_of(d: dict[str, Any]) -> list[dict[str, Any]]:
    for key in _CHILD_KEYS:
        value = d.get(key)
        if isinstance(value, dict):
            return [value]
        if isinstance(value, list):
            return [c for c in value if isinstance(c, dict)]
    return []


def _first_number(d: dict[str, Any], keys: tuple[str, ...]) -> float | None:
    for key in keys:
        value = d.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                continue
    return None


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= MAX_DETAIL_CHARS else text[:MAX_DETAIL_CHARS] + "…"
