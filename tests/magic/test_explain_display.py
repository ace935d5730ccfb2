"""`--explain` in a kernel: the plan's output comes first, headed "Plan", above the status and the grid."""
from __future__ import annotations

import pytest
from IPython.core.displaypub import CapturingDisplayPublisher

SQL = "SELECT status, count(*) AS n FROM demo.main.orders GROUP BY status"


@pytest.fixture
def outputs(ip, monkeypatch):
    """The shell as a kernel with widgets on; every display and display update it publishes, in order."""
    monkeypatch.setattr(ip, "kernel", object(), raising=False)
    ip.run_cell("%config E6Magic.widgets = True")
    publisher = CapturingDisplayPublisher()
    monkeypatch.setattr(ip, "display_pub", publisher)
    return publisher.outputs


def test_the_plan_comes_first_with_a_heading(ip, outputs):
    ip.run_cell(f"%%e6sql --explain\n{SQL}")
    first = outputs[0]
    assert "Plan" in first["data"]["text/plain"] and not first["update"]
    slot = first["transient"]["display_id"]
    kinds = [o["data"].get("text/plain", "") for o in outputs]
    assert any("query" in k for k in kinds[1:])  # the status line and the grid follow the plan's place
    live = outputs[1]["transient"]["display_id"]  # the place's second output: the live view (its twin first)
    filled = [o for o in outputs if o["update"] and o["transient"].get("display_id") == slot]
    assert filled, "the plan never filled its place above the grid"
    saved = filled[-1]["data"]  # the static twin a reopened notebook shows
    assert saved["text/plain"].startswith("plan: ") and "<h4>Plan</h4>" in saved["text/html"]
    view = [o for o in outputs if o["update"] and o["transient"].get("display_id") == live][-1]["data"]
    assert "application/vnd.jupyter.widget-view+json" in view
    assert not any(o["data"].get("text/plain", "").startswith("plan: ") for o in outputs if not o["update"])


def test_without_explain_there_is_no_plan_place(ip, outputs):
    ip.run_cell(f"%%e6sql\n{SQL}")
    assert not any("Plan" in o["data"].get("text/plain", "") for o in outputs)


def test_a_query_failing_as_it_runs_leaves_no_promise_of_a_plan(ip, outputs):
    with pytest.raises(Exception, match="Could not convert string"):  # fails on the engine, after it started
        ip.run_cell("%%e6sql --explain\nSELECT CAST('x' || i AS INTEGER) AS n FROM range(10) t(i)")
    slot = outputs[0]["transient"]["display_id"]
    updates = [o["data"]["text/plain"] for o in outputs if o["update"] and o["transient"].get("display_id") == slot]
    assert updates == ["Plan: none, the query did not finish"]
