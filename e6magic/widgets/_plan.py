"""PlanView: the explain-analyse plan as a tree-table (self time, share, rows vs estimate, bytes), hot path marked."""
from __future__ import annotations

import itertools
import json
import re
from typing import Any

import traitlets as t

from e6magic.widgets._base import STATIC, E6Widget, esc
from e6magic.widgets._plan_shape import (
    Operator,
    PlanShapeError,
    find_tree,
    parse_plan,
    summary_of,
)

FALLBACK_NODES = 200
MAX_RAW_CHARS = 200_000
# A node on the way to the slowest operator is highlighted only when it spent this share itself: the root
# and the pass-through operators above a hot scan (0.0 ms, 0 rows) are on the path but not worth a look.
HOT_SHARE = 0.10
# Operator times summed over threads exceed the wall-clock execution by more than this: say so.
PARALLEL_NOTE = 1.05
_SUMMARY_LABELS = (("parse_ms", "parse"), ("queue_ms", "queue"), ("execution_ms", "execution"), ("total_ms", "total"))
_PROJECTION = re.compile(r"^(projection|project)$", re.IGNORECASE)
# What a projection passes on unchanged: a column slot (#3), a bare name, or an engine-internal
# (de)compression of one (DuckDB's __internal_compress_string_ubigint(#1)).
_PASS_THROUGH = re.compile(r'^(#\d+|[A-Za-z_][\w$]*|"(?:[^"]|"")+"|__internal_\w+\(\s*(#\d+|[A-Za-z_]\w*)\s*\))$')


class PlanView(E6Widget):
    """Show a plan from ``cur.explain_analyse()`` (the dict, its ``planner`` JSON text, or parsed JSON).

    Operators form a tree-table: the name column is indented by depth, the metric columns (self time,
    share of the summed operator time, rows actual and estimated, bytes) line up whatever the depth.
    The operator that spent the most time itself is ``slowest``; on the path from the root down to it,
    only nodes that spent at least ``HOT_SHARE`` themselves are ``hot``. Projections that only pass
    columns on (engine-internal compression included) are folded into their input unless
    ``fold_internal`` is False. A plan with no recognisable operator tree is shown as a JSON tree.
    """

    _esm = STATIC / "plan.js"

    summary = t.Dict().tag(sync=True)    # parse_ms, queue_ms, execution_ms, total_ms, cached, operators_ms
    tree = t.Dict(allow_none=True, default_value=None).tag(sync=True)
    raw = t.Any(None).tag(sync=True)     # the JSON itself, shown when there is no tree
    times_are = t.Unicode("").tag(sync=True)  # "inclusive" or "self": how the engine reported them
    note = t.Unicode("").tag(sync=True)  # wall-clock vs summed thread time, in words
    title = t.Unicode("").tag(sync=True)  # a heading above the plan (``--explain`` says "Plan")
    fold_internal = t.Bool(True).tag(sync=True)
    folded = t.Int(0).tag(sync=True)     # how many operators the folding hid
    text = t.Unicode("").tag(sync=True)  # the plan as aligned text: what "Copy as text" copies
    error = t.Unicode("").tag(sync=True)

    def __init__(self, plan: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._root: Operator | None = None
        try:
            outer, data = parse_plan(plan)
        except (ValueError, TypeError) as exc:
            text = plan.decode(errors="replace") if isinstance(plan, bytes) else str(plan)
            self.error = f"plan is not JSON: {str(exc).splitlines()[0]}"
            self.raw = text[:MAX_RAW_CHARS]
            return
        self.summary = summary_of(outer, data)
        try:
            self._root = find_tree(data)
        except PlanShapeError as exc:
            self.error = f"unknown plan shape ({exc}): showing the JSON"
            self.raw = _bounded_json(data)
            return
        self._build()
        self.observe(lambda _change: self._build(), names="fold_internal")

    def _build(self) -> None:
        assert self._root is not None
        times_are, tree, folded = _annotate(self._root, self.fold_internal)
        summary = {k: v for k, v in self.summary.items() if k != "operators_ms"}
        if times_are == "self" and tree["total_ms"] > 0:
            summary["operators_ms"] = tree["total_ms"]
        with self.hold_sync():
            self.times_are, self.tree, self.folded, self.summary = times_are, tree, folded, summary
            self.note = _time_note(summary, times_are)
            self.text = plan_table_text(self)

    def _msg_fold(self, content: dict[str, Any]) -> None:
        self.fold_internal = bool(content.get("on", True))

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
        note = f"<p>{esc(self.note)}</p>" if self.note else ""
        title = f"<h4>{esc(self.title)}</h4>" if self.title else ""
        return f'<div class="e6-plan-static">{title}<p><b>{esc(self.fallback_text())}</b></p>{note}{error}{body}</div>'


def plan_table_text(view: PlanView, max_nodes: int = FALLBACK_NODES) -> str:
    """The plan as aligned text: the summary, the note, then one line per operator with its metrics."""
    lines = [view.fallback_text()]
    if view.note:
        lines.append(view.note)
    if not view.tree:
        return "\n".join(lines)
    nodes = list(itertools.islice(_preorder(view.tree), max_nodes))
    names = [("  " * n["depth"]) + n["name"] + (f" (+{len(n['folded'])} folded)" if n["folded"] else "")
             + (" *" if n["hot"] else "") for n in nodes]
    width = min(60, max(len("operator"), *map(len, names)))
    head = f"{'operator':<{width}}  {'self':>10}  {'share':>6}  {'rows':>12}  {'estimated':>12}  {'bytes':>9}"
    lines += ["", head, "-" * len(head)]
    for name, n in zip(names, nodes, strict=True):
        lines.append(f"{name[:width]:<{width}}  {_ms(n['self_ms']):>10}  {n['share']:>6.1%}  "
                     f"{_count(n['rows']):>12}  {_count(n['est_rows']):>12}  {_size(n['bytes']):>9}")
    if sum(1 for _ in _walk(view.tree)) > max_nodes:
        lines.append("…")
    lines.append("* hot: on the path to the slowest operator and at least "
                 f"{HOT_SHARE:.0%} of the operator time")
    return "\n".join(lines)


def _annotate(root: Operator, fold: bool) -> tuple[str, dict[str, Any], int]:
    inclusive = _times_look_inclusive(root)

    def build(op: Operator) -> dict[str, Any]:
        children = [build(c) for c in op.children]
        own = op.time_ms or 0.0
        if inclusive:
            total = max(own, sum(c["total_ms"] for c in children))
            self_ms = max(0.0, total - sum(c["total_ms"] for c in children))
        else:
            self_ms, total = own, own + sum(c["total_ms"] for c in children)
        return {"id": 0, "name": op.name, "time_ms": op.time_ms, "self_ms": self_ms, "total_ms": total,
                "rows": op.rows, "est_rows": op.est_rows, "bytes": op.bytes, "details": op.details, "depth": 0,
                "share": 0.0, "hot": False, "on_path": False, "slowest": False, "folded": [], "children": children}

    tree = build(root)
    folded = 0
    if fold:
        tree, folded = _fold(tree)
    ids = itertools.count()
    for node, depth in _preorder_depths(tree):
        node["id"], node["depth"] = next(ids), depth
    grand = tree["total_ms"]
    nodes = list(_walk(tree))
    for node in nodes:
        node["share"] = node["self_ms"] / grand if grand > 0 else 0.0
    if grand > 0:
        slowest = max(nodes, key=lambda n: n["self_ms"])
        slowest["slowest"] = True
        for node in _path_to(tree, slowest):
            node["on_path"] = True
            node["hot"] = node is slowest or node["share"] >= HOT_SHARE
    return ("inclusive" if inclusive else "self"), tree, folded


def _fold(node: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Fold pass-through projections into their only input, which takes on their time (totals stay right)."""
    count = 0
    kids = []
    for child in node["children"]:
        folded_child, n = _fold(child)
        kids.append(folded_child)
        count += n
    node["children"] = kids
    if len(kids) == 1 and _passes_through(node):
        child = kids[0]
        child["self_ms"] += node["self_ms"]
        child["total_ms"] = node["total_ms"]
        child["folded"] = [{"name": node["name"], "self_ms": node["self_ms"], "details": node["details"]},
                           *node["folded"], *child["folded"]]
        return child, count + 1
    return node, count


def _passes_through(node: dict[str, Any]) -> bool:
    if not _PROJECTION.match(node["name"]):
        return False
    items = _projections(node["details"])
    return bool(items) and all(_PASS_THROUGH.match(item.strip()) for item in items)


def _projections(details: dict[str, str]) -> list[str]:
    value = next((v for k, v in details.items() if k.lower() in ("projections", "projection", "columns")), None)
    if value is None:
        return []
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    if isinstance(parsed, str):
        return [p for p in parsed.splitlines() if p.strip()]
    if isinstance(parsed, list) and all(isinstance(p, str) for p in parsed):
        return parsed
    return []


def _path_to(node: dict[str, Any], target: dict[str, Any]) -> list[dict[str, Any]]:
    if node is target:
        return [node]
    for child in node["children"]:
        below = _path_to(child, target)
        if below:
            return [node, *below]
    return []


def _time_note(summary: dict[str, float], times_are: str) -> str:
    wall, summed = summary.get("execution_ms"), summary.get("operators_ms")
    if times_are != "self" or not wall or not summed:
        return ""
    if summed > wall * PARALLEL_NOTE:
        return (f"Operator times are thread time summed over the threads that ran them ({_ms(summed)}, "
                f"{summed / wall:.1f}× the {_ms(wall)} wall-clock execution): shares are of the summed time.")
    return (f"Operators account for {_ms(summed)} of the {_ms(wall)} wall-clock execution; the rest is "
            "outside them (scheduling, sending the result).")


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


def _preorder_depths(node: dict[str, Any]) -> Any:
    stack = [(node, 0)]
    while stack:
        n, depth = stack.pop()
        yield n, depth
        stack.extend((c, depth + 1) for c in reversed(n["children"]))


def _preorder(node: dict[str, Any]) -> Any:
    return (n for n, _ in _preorder_depths(node))


def _find(tree: dict[str, Any], flag: str) -> dict[str, Any] | None:
    return next((n for n in _walk(tree) if n[flag]), None)


def _ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _size(value: int | None) -> str:
    if value is None:
        return ""
    size = float(value)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def _node_html(node: dict[str, Any], budget: itertools.count[int]) -> str:
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
