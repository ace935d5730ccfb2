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
    on_path = [n["name"] for n in flatten(view.tree) if n["on_path"]]
    assert on_path == ["Projection", "HashAggregate", "Filter", "TableScan orders"]
    # highlighted: only what spent a share itself (Projection 10 %, Filter 20 %, the scan 60 %; not HashAggregate 5 %)
    assert [n["name"] for n in flatten(view.tree) if n["hot"]] == ["Projection", "Filter", "TableScan orders"]
    assert [n["name"] for n in flatten(view.tree) if n["slowest"]] == ["TableScan orders"]


def test_duckdb_self_times_in_seconds():
    view = PlanView(DUCKDB_PROFILE)
    assert view.times_are == "self"
    nodes = by_name(view)
    assert nodes["HASH_GROUP_BY"]["self_ms"] == pytest.approx(300) and nodes["HASH_GROUP_BY"]["slowest"]
    assert nodes["PROJECTION"]["total_ms"] == pytest.approx(410)
    assert nodes["HASH_GROUP_BY"]["share"] == pytest.approx(300 / 410)
    assert nodes["TABLE_SCAN"]["details"] == {"Table": "orders"}
    assert view.tree["name"] == "query" and view.summary == {"operators_ms": pytest.approx(410)}
    assert view.note == ""  # no wall-clock figure to compare with


def test_unknown_shape_falls_back_to_the_json():
    plan = {"total_query_time": 5, "stages": [{"id": 1, "what": "mystery"}]}
    view = PlanView({"planner": json.dumps(plan)})
    assert view.tree is None and view.raw == plan
    assert view.error == "unknown plan shape (no operator tree found): showing the JSON"
    assert view.summary["total_ms"] == 5.0
    page = view.fallback_html()
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
    assert "<b>TableScan orders: 60.0 ms (60%), 1,000,000 rows</b>" in view.fallback_html()
    assert "<li>TableScan customers: 15.0 ms (15%), 100 rows</li>" in view.fallback_html()


def test_names_are_escaped_in_the_fallback():
    view = PlanView({"name": "<img src=x onerror=alert(1)>", "time": 1, "children": []})
    assert "<img" not in view.fallback_html() and "&lt;img src=x" in view.fallback_html()


def test_local_engine_planner_shape():
    """The shape e6magic.engine.plan.planner_json writes: self times in ms under "operators"."""
    planner = {"query_id": "q1", "total_query_time": 30, "executionQueueingTime": 1, "parsingTime": 2,
               "executionTime": 27, "operators": {
                   "name": "PROJECTION", "time": 1.0, "rows": 3, "details": {"Projections": "n + 1"}, "children": [
                       {"name": "HASH_GROUP_BY", "time": 20.0, "rows": 3, "details": {}, "children": [
                           {"name": "TABLE_SCAN", "time": 5.0, "rows": 900,
                            "details": {"Table": "orders", "Estimated Cardinality": "900"}, "children": []}]}]}}
    view = PlanView({"planner": json.dumps(planner), "parsing_time": 2, "queuing_time": 1, "is_cached": False})
    assert view.summary["execution_ms"] == 27.0 and view.times_are == "self"
    nodes = by_name(view)
    assert nodes["HASH_GROUP_BY"]["slowest"] and nodes["HASH_GROUP_BY"]["hot"]
    assert nodes["PROJECTION"]["on_path"] and not nodes["PROJECTION"]["hot"]  # 1 ms of 26: on the way, not hot
    assert not nodes["TABLE_SCAN"]["hot"] and not nodes["TABLE_SCAN"]["on_path"]
    assert nodes["TABLE_SCAN"]["details"] == {"Table": "orders"}  # the estimate has its own column
    assert nodes["TABLE_SCAN"]["est_rows"] == 900 and nodes["TABLE_SCAN"]["rows"] == 900
    assert nodes["PROJECTION"]["total_ms"] == 26.0 and nodes["HASH_GROUP_BY"]["share"] == pytest.approx(20 / 26)


def test_slowest_operator_off_the_most_expensive_branch_is_still_on_the_path():
    plan = {"name": "Join", "time": 1, "children": [
        {"name": "A", "time": 10, "children": [{"name": "A1", "time": 40}]},  # 50 ms branch
        {"name": "B", "time": 45}]}  # but B spent the most itself
    nodes = by_name(PlanView(plan))
    assert nodes["B"]["slowest"] and [n for n in ("Join", "A", "A1", "B") if nodes[n]["on_path"]] == ["Join", "B"]
    assert [n for n in ("Join", "A", "A1", "B") if nodes[n]["hot"]] == ["B"]


# 13 operators on the local engine (DuckDB), five of them projections that only pass columns on
THIRTEEN = ("SELECT status, count(*) FROM demo.main.orders GROUP BY status UNION ALL "
            "SELECT name, count(*) FROM demo.main.customers GROUP BY name ORDER BY 2 DESC LIMIT 5")


@pytest.fixture
def engine_plan(conn):
    cur = conn.cursor()
    cur.execute(THIRTEEN)
    cur.fetchall()
    yield cur.explain_analyse()
    cur.close()


def test_a_real_plan_has_aligned_columns_in_its_text(engine_plan):
    view = PlanView(engine_plan, fold_internal=False)
    assert sum(1 for _ in flatten(view.tree)) == 13
    lines = view.text.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("operator"))
    table = lines[head:head + 2 + 13]
    # every metric ends at the same column as its heading, whatever the depth of the operator
    for heading in ("self", "share", "rows", "estimated", "bytes"):
        end = table[0].index(heading) + len(heading)
        assert {len(line[:end].rstrip()) for line in table[2:] if line[end - 1] != " "} <= {end}, heading
    assert all(len(line) == len(table[0]) for line in table[2:])
    depths = [n["depth"] for n in flatten(view.tree)]
    assert max(depths) >= 6


def test_a_real_plan_highlights_only_the_slowest_path(engine_plan):
    view = PlanView(engine_plan, fold_internal=False)
    nodes = list(flatten(view.tree))
    slowest = max(nodes, key=lambda n: n["self_ms"])
    assert [n for n in nodes if n["slowest"]] == [slowest]
    hot = [n for n in nodes if n["hot"]]
    assert slowest in hot and all(n["on_path"] for n in hot)
    assert all(n["share"] >= 0.10 or n is slowest for n in hot)
    assert not view.tree["hot"] and view.tree["on_path"]  # RESULT_COLLECTOR: 0.0 ms, 0 rows
    assert len(hot) <= 3 < len([n for n in nodes if n["on_path"]])
    assert all(n["est_rows"] is not None for n in nodes if n["name"] == "SEQ_SCAN")
    assert all(n["bytes"] is not None for n in nodes)  # DuckDB's intermediate_size_bytes


def test_internal_projections_fold_into_their_input_and_keep_the_time(engine_plan):
    unfolded = PlanView(engine_plan, fold_internal=False)
    view = PlanView(engine_plan)
    names = [n["name"] for n in flatten(view.tree)]
    assert view.folded == 6 and len(names) == 13 - 6 and "PROJECTION" not in names
    assert "__internal_compress_string" in json.dumps([n["folded"] for n in flatten(view.tree)])
    assert view.tree["total_ms"] == pytest.approx(unfolded.tree["total_ms"])
    assert sum(n["self_ms"] for n in flatten(view.tree)) == pytest.approx(unfolded.tree["total_ms"])
    view.fold_internal = False  # the checkbox: every operator again
    assert view.folded == 0 and sum(1 for _ in flatten(view.tree)) == 13


def test_projections_that_compute_are_not_folded():
    plan = {"name": "PROJECTION", "time": 5, "details": {"Projections": '["#0", "(#1 + 1)"]'}, "children": [
        {"name": "PROJECTION", "time": 1, "details": {"Projections": '["#0", "__internal_decompress_string(#1)"]'},
         "children": [{"name": "SEQ_SCAN", "time": 9}]}]}
    view = PlanView(plan)
    assert [n["name"] for n in flatten(view.tree)] == ["PROJECTION", "SEQ_SCAN"]
    assert by_name(view)["SEQ_SCAN"]["self_ms"] == 10 and view.folded == 1


def test_the_summary_explains_summed_thread_time_against_wall_time(engine_plan):
    view = PlanView(engine_plan)
    wall, summed = view.summary["execution_ms"], view.summary["operators_ms"]
    assert summed == pytest.approx(view.tree["total_ms"])
    if summed > wall * 1.05:
        assert view.note.startswith("Operator times are thread time summed over the threads")
    else:
        assert view.note.startswith("Operators account for")
    fixed = PlanView({"executionTime": 100, "operators": {"name": "SCAN", "time": 180, "children": []}})
    assert fixed.note == ("Operator times are thread time summed over the threads that ran them (180.0 ms, "
                          "1.8× the 100.0 ms wall-clock execution): shares are of the summed time.")
    assert fixed.note in fixed.text and fixed.note in fixed.fallback_html()


def test_hostile_estimates_are_unknown_not_errors():
    plan = {"name": "SCAN", "time": 1, "details": {"Estimated Cardinality": "inf"}, "children": [
        {"name": "X", "time": 1, "estimated_rows": -3, "bytes": "NaN"}]}
    nodes = by_name(PlanView(plan))
    assert nodes["SCAN"]["est_rows"] is None and nodes["X"]["est_rows"] is None and nodes["X"]["bytes"] is None


def test_fold_message_from_the_view(engine_plan, frontend):
    view = PlanView(engine_plan)
    frontend.send(view, {"kind": "fold", "on": False})
    assert not view.fold_internal and view.folded == 0
