"""PlanView: the explain-analyse operator tree with time, rows, share of total and the slowest path."""
from __future__ import annotations

import itertools
import json
from typing import Any

import traitlets as t

from e6magic.widgets._base import STATIC, E6Widget, esc
from e6magic.widgets._plan_shape import Operator, PlanShapeError, find_tree, parse_plan, summary_of

FALLBACK_NODES = 200
MAX_RAW_CHARS = 200_000
_SUMMARY_LABELS = (("parse_ms", "parse"), ("queue_ms", "queue"), ("execution_ms", "execution"), ("total_ms", "total"))


class PlanView(E6Widget):
    """Show a plan from ``cur.explain_analyse()`` (the dict, its ``planner`` JSON text, or parsed JSON).

    Each operator shows its time, rows and share of the total; the operator that spent the most
    time itself is marked ``slowest`` and the path from the root down to it ``hot``.
    A plan with no recognisable operator tree is shown as a collapsible JSON tree.
    """

    _esm = STATIC / "plan.js"

    summary = t.Dict().tag(sync=True)    # parse_ms, queue_ms, execution_ms, total_ms, cached
    tree = t.Dict(allow_none=True, default_value=None).tag(sync=True)
    raw = t.Any(None).tag(sync=True)     # the JSON itself, shown when there is no tree
    times_are = t.Unicode("").tag(sync=True)  # "inclusive" or "self": how the engine reported them
    error = t.Unicode("").tag(sync=True)

    def __init__(self, plan: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            outer, data = parse_plan(plan)
        except (ValueError, TypeError) as exc:
            text = plan.decode(errors="replace") if isinstance(plan, bytes) else str(plan)
            self.error = f"plan is not JSON: {str(exc).splitlines()[0]}"
            self.raw = text[:MAX_RAW_CHARS]
            return
        self.summary = summary_of(outer, data)
        try:
            root = find_tree(data)
        except PlanShapeError as exc:
            self.error = f"unknown plan shape ({exc}): showing the JSON"
            self.raw = _bounded_json(data)
            return
        self.times_are, self.tree = _annotate(root)

    def fallback_text(self) -> str:
        parts = [f"{label} {self.summary[key]:.1f} ms" for key, label in _SUMMARY_LABELS if key in self.summary]
        head = "plan: " + (", ".join(parts) if parts else "no timings")
        slowest = _find(self.tree, "slowest") if self.tree else None
        if slowest:
            head += f"; slowest operator {slowest['name']} ({_ms(slowest['self_ms'])}, {slowest['share']:.0%})"
        return head

    def fallback_html(self) -> str:
        body = ""
        if self.tree:
            budget = itertools.count()
            body = f"<ul>{_node_html(self.tree, budget)}</ul>"
        elif self.raw is not None:
            text = self.raw if isinstance(self.raw, str) else json.dumps(self.raw, indent=1)
            body = f"<pre>{esc(text[:5000])}</pre>"
        error = f"<p><i>{esc(self.error)}</i></p>" if self.error else ""
        return f'<div class="e6-plan"><p><b>{esc(self.fallback_text())}</b></p>{error}{body}</div>'


def _annotate(root: Operator) -> tuple[str, dict[str, Any]]:
    inclusive = _times_look_inclusive(root)
    ids = itertools.count()

    def build(op: Operator, depth: int) -> dict[str, Any]:
        children = [build(c, depth + 1) for c in op.children]
        own = op.time_ms or 0.0
        if inclusive:
            total = max(own, sum(c["total_ms"] for c in children))
            self_ms = max(0.0, total - sum(c["total_ms"] for c in children))
        else:
            self_ms, total = own, own + sum(c["total_ms"] for c in children)
        return {"id": next(ids), "name": op.name, "time_ms": op.time_ms, "self_ms": self_ms, "total_ms": total,
                "rows": op.rows, "details": op.details, "depth": depth, "share": 0.0, "hot": False,
                "slowest": False, "children": children}

    tree = build(root, 0)
    grand = tree["total_ms"]
    nodes = list(_walk(tree))
    for node in nodes:
        node["share"] = node["self_ms"] / grand if grand > 0 else 0.0
    if grand > 0:
        # the slowest path: from the root down to the operator that spent the most time itself
        slowest = max(nodes, key=lambda n: n["self_ms"])
        slowest["slowest"] = True
        _mark_path_to(tree, slowest)
    return ("inclusive" if inclusive else "self"), tree


def _mark_path_to(node: dict[str, Any], target: dict[str, Any]) -> bool:
    if node is target or any(_mark_path_to(c, target) for c in node["children"]):
        node["hot"] = True
        return True
    return False


def _times_look_inclusive(root: Operator) -> bool:
    # Engines disagree: DuckDB reports each operator's own time, others the subtree's.
    # Inclusive only if every timed parent covers its timed children.
    checked = False
    stack = [root]
    while stack:
        op = stack.pop()
        stack.extend(op.children)
        child_times = [c.time_ms for c in op.children if c.time_ms is not None]
        if op.time_ms is None or not child_times:
            continue
        checked = True
        if op.time_ms + 1e-9 < sum(child_times):
            return False
    return checked


def _walk(node: dict[str, Any]) -> Any:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n["children"])


def _find(tree: dict[str, Any], flag: str) -> dict[str, Any] | None:
    return next((n for n in _walk(tree) if n[flag]), None)


def _ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def _node_html(node: dict[str, Any], budget: itertools.count) -> str:
    if next(budget) >= FALLBACK_NODES:
        return ""
    rows = "" if node["rows"] is None else f", {node['rows']:,} rows"
    label = f"{esc(node['name'])}: {_ms(node['self_ms'])} ({node['share']:.0%}){rows}"
    if node["hot"]:
        label = f"<b>{label}</b>"
    kids = "".join(_node_html(c, budget) for c in node["children"])
    return f"<li>{label}{f'<ul>{kids}</ul>' if kids else ''}</li>"


def _bounded_json(data: Any) -> Any:
    text = json.dumps(data, default=str)
    return data if len(text) <= MAX_RAW_CHARS else text[:MAX_RAW_CHARS] + "…"
