"""PlanView: tolerant reading of plan shapes, timings, share of total, the slowest path, fallbacks."""
from __future__ import annotations

import json

import pytest

from e6magic.widgets import PlanView

INCLUSIVE = {
    "total_query_time": 120, "parsingTime": 4, "executionQueueingTime": 6,
    "root": {"name": "Projection", "time": 100, "rows": 10, "children": [
        {"name": "HashAggregate", "time": 90, "rows": 10, "children": [
            {"name": "Filter", "time": 70, "rows": 5000, "children": [
                {"name": "TableScan orders", "time": 60, "rows": 1_000_000, "children": []}]},
            {"name": "TableScan customers", "time": 15, "rows": 100, "children": []}]}]},
}

# DuckDB's own profile: self times in seconds under operator_timing, a root without a name
DUCKDB_PROFILE = {
    "latency": 0.5, "rows_returned": 3,
    "children": [{"operator_name": "PROJECTION", "operator_timing": 0.01, "operator_cardinality": 3, "children": [
        {"operator_name": "HASH_GROUP_BY", "operator_timing": 0.3, "operator_cardinality": 3, "children": [
            {"operator_name": "TABLE_SCAN", "operator_timing": 0.1, "operator_cardinality": 900,
             "extra_info": {"Table": "orders"}, "children": []}]}]}],
}


def flatten(node):
    yield node
    for child in node["children"]:
        yield from flatten(child)


def by_name(view: PlanView) -> dict[str, dict]:
    return {n["name"]: n for n in flatten(view.tree)}


def test_explain_analyse_dict_with_planner_text():
    view = PlanView({"is_cached": False, "parsing_time": 9, "queuing_time": 8, "planner": json.dumps(INCLUSIVE)})
    assert view.summary == {"total_ms": 120.0, "parse_ms": 4.0, "queue_ms": 6.0, "execution_ms": 110.0, "cached": 0.0}
    assert view.times_are == "inclusive" and view.error == ""
    nodes = by_name(view)
    assert nodes["TableScan orders"]["self_ms"] == 60 and nodes["Filter"]["self_ms"] == 10
    assert nodes["HashAggregate"]["self_ms"] == 5 and nodes["Projection"]["total_ms"] == 100
    assert nodes["TableScan orders"]["share"] == pytest.approx(0.6)
    assert nodes["TableScan orders"]["rows"] == 1_000_000


def test_slowest_path_leads_from_the_root_to_the_slowest_operator():
    view = PlanView(INCLUSIVE)
    hot = [n["name"] for n in flatten(view.tree) if n["hot"]]
    assert hot == ["Projection", "HashAggregate", "Filter", "TableScan orders"]
    assert [n["name"] for n in flatten(view.tree) if n["slowest"]] == ["TableScan orders"]


def test_duckdb_self_times_in_seconds():
    view = PlanView(DUCKDB_PROFILE)
    assert view.times_are == "self"
    nodes = by_name(view)
    assert nodes["HASH_GROUP_BY"]["self_ms"] == pytest.approx(300) and nodes["HASH_GROUP_BY"]["slowest"]
    assert nodes["PROJECTION"]["total_ms"] == pytest.approx(410)
    assert nodes["HASH_GROUP_BY"]["share"] == pytest.approx(300 / 410)
    assert nodes["TABLE_SCAN"]["details"] == {"Table": "orders"}
    assert view.tree["name"] == "query" and view.summary == {}


def test_unknown_shape_falls_back_to_the_json():
    plan = {"total_query_time": 5, "stages": [{"id": 1, "what": "mystery"}]}
    view = PlanView({"planner": json.dumps(plan)})
    assert view.tree is None and view.raw == plan
    assert view.error == "unknown plan shape (no operator tree found): showing the JSON"
    assert view.summary["total_ms"] == 5.0
    page = view._repr_mimebundle_()[0]["text/html"]
    assert "mystery" in page and "total 5.0 ms" in page


@pytest.mark.parametrize("plan", ["", "not json {", b"\xff\xfe"])
def test_text_that_is_not_json_is_shown_not_raised(plan):
    view = PlanView({"planner": plan} if plan == "" else plan)
    if plan == "":
        assert view.error.startswith("unknown plan shape")
    else:
        assert view.error.startswith("plan is not JSON: ")
        assert view.tree is None and isinstance(view.raw, str)


def test_zero_times_mark_nothing_hot():
    view = PlanView({"name": "Scan", "time": 0, "children": [{"name": "Leaf", "time": 0}]})
    assert not any(n["hot"] or n["slowest"] for n in flatten(view.tree))
    assert view.fallback_text() == "plan: no timings"


def test_fallback_has_summary_slowest_and_tree():
    view = PlanView(INCLUSIVE)
    data, _ = view._repr_mimebundle_()
    assert data["text/plain"] == ("plan: parse 4.0 ms, queue 6.0 ms, execution 110.0 ms, total 120.0 ms; "
                                  "slowest operator TableScan orders (60.0 ms, 60%)")
    assert "<b>TableScan orders: 60.0 ms (60%), 1,000,000 rows</b>" in data["text/html"]
    assert "<li>TableScan customers: 15.0 ms (15%), 100 rows</li>" in data["text/html"]


def test_names_are_escaped_in_the_fallback():
    view = PlanView({"name": "<img src=x onerror=alert(1)>", "time": 1, "children": []})
    assert "<img" not in view.fallback_html() and "&lt;img src=x" in view.fallback_html()


def test_local_engine_planner_shape():
    """The shape e6magic.engine.plan.planner_json writes: self times in ms under "operators"."""
    planner = {"query_id": "q1", "total_query_time": 30, "executionQueueingTime": 1, "parsingTime": 2,
               "executionTime": 27, "operators": {
                   "name": "PROJECTION", "time": 1.0, "rows": 3, "details": {"Projections": "n"}, "children": [
                       {"name": "HASH_GROUP_BY", "time": 20.0, "rows": 3, "details": {}, "children": [
                           {"name": "TABLE_SCAN", "time": 5.0, "rows": 900,
                            "details": {"Table": "orders", "Estimated Cardinality": "900"}, "children": []}]}]}}
    view = PlanView({"planner": json.dumps(planner), "parsing_time": 2, "queuing_time": 1, "is_cached": False})
    assert view.summary["execution_ms"] == 27.0 and view.times_are == "self"
    nodes = by_name(view)
    assert nodes["HASH_GROUP_BY"]["slowest"] and nodes["PROJECTION"]["hot"] and nodes["HASH_GROUP_BY"]["hot"]
    assert not nodes["TABLE_SCAN"]["hot"]
    assert nodes["TABLE_SCAN"]["details"] == {"Table": "orders", "Estimated Cardinality": "900"}
    assert nodes["PROJECTION"]["total_ms"] == 26.0 and nodes["HASH_GROUP_BY"]["share"] == pytest.approx(20 / 26)


def test_slowest_operator_off_the_most_expensive_branch_is_still_on_the_path():
    plan = {"name": "Join", "time": 1, "children": [
        {"name": "A", "time": 10, "children": [{"name": "A1", "time": 40}]},  # 50 ms branch
        {"name": "B", "time": 45}]}  # but B spent the most itself
    nodes = by_name(PlanView(plan))
    assert nodes["B"]["slowest"] and [n for n in ("Join", "A", "A1", "B") if nodes[n]["hot"]] == ["Join", "B"]
