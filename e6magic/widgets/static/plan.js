// PlanView (.e6-plan): the operator tree as a tree-table; metric columns align at every depth, hot path marked.
const OPEN_ALL_UP_TO = 40; // plans this small open fully; bigger ones open along the slowest path

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function ms(v) {
  if (v === null || v === undefined) return "–";
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`;
}

function count(v) {
  return v === null || v === undefined ? "" : v.toLocaleString("en-US");
}

function size(v) {
  if (v === null || v === undefined) return "";
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

function walk(node, visit) {
  visit(node);
  for (const c of node.children) walk(c, visit);
}

function jsonTree(value, key, depth) {
  if (value === null || typeof value !== "object") {
    const line = h("div", "e6-json-leaf");
    if (key !== undefined) line.append(h("span", "e6-json-key", `${key}: `));
    line.append(h("span", "e6-json-value", JSON.stringify(value)));
    return line;
  }
  const box = h("details", "e6-json-node");
  box.open = depth < 2;
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  box.append(h("summary", "", `${key !== undefined ? key + ": " : ""}${Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`}`));
  for (const [k, v] of entries) box.append(jsonTree(v, k, depth + 1));
  return box;
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // clipboard API refused (insecure context, no permission): the old way still copies
    const area = h("textarea");
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  const was = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = was; }, 1200);
}

function render({ model, el }) {
  const root = h("div", "e6-widget e6-plan");
  el.appendChild(root);
  const open = new Map(); // node id -> children shown? (view state only)
  const detailsShown = new Set();

  function defaultOpen(tree) {
    open.clear();
    let n = 0;
    walk(tree, () => { n += 1; });
    walk(tree, (node) => open.set(node.id, n <= OPEN_ALL_UP_TO || node.on_path));
  }

  function summaryBar() {
    const s = model.get("summary") || {};
    const bar = h("div", "e6-plan-summary");
    for (const [key, label] of [["parse_ms", "parse"], ["queue_ms", "queue"], ["execution_ms", "execution"], ["total_ms", "total"], ["operators_ms", "operator time"]]) {
      if (key in s) {
        const item = h("span", `e6-plan-stat e6-plan-${label.replace(" ", "-")}`);
        item.append(h("span", "e6-plan-stat-label", `${label} `), h("b", "", ms(s[key])));
        bar.append(item);
      }
    }
    if (s.cached) bar.append(h("span", "e6-plan-stat", "cached"));
    return bar;
  }

  function tools(tree) {
    const bar = h("div", "e6-plan-tools");
    const button = (cls, label, onClick) => {
      const b = h("button", `e6-button ${cls}`, label);
      b.addEventListener("click", () => onClick(b));
      bar.append(b);
      return b;
    };
    button("e6-expand-all", "Expand all", () => { walk(tree, (n) => open.set(n.id, true)); draw(); });
    button("e6-collapse-all", "Collapse all", () => { walk(tree, (n) => open.set(n.id, false)); draw(); });
    button("e6-expand-hot", "Slowest path", () => { walk(tree, (n) => open.set(n.id, n.on_path)); draw(); });
    button("e6-copy-plan", "Copy as text", (b) => copyText(model.get("text"), b));
    const label = h("label", "e6-plan-fold");
    const box = h("input");
    box.type = "checkbox";
    box.checked = !model.get("fold_internal");
    box.addEventListener("change", () => model.send({ kind: "fold", on: !box.checked }));
    const folded = model.get("folded");
    label.append(box, h("span", "", model.get("fold_internal") ? ` show ${folded} internal operator${folded === 1 ? "" : "s"}` : " show internal operators"));
    if (folded || !model.get("fold_internal")) bar.append(label);
    return bar;
  }

  function headRow(withBytes) {
    const tr = h("tr");
    const cols = [["e6-plan-op", "operator"], ["e6-plan-time", "self time"], ["e6-plan-share", "share"], ["e6-plan-rows", "rows"], ["e6-plan-est", "estimated"]];
    if (withBytes) cols.push(["e6-plan-bytes", "bytes"]);
    for (const [cls, label] of cols) tr.append(h("th", cls, label));
    tr.children[1].title = "time the operator spent itself, summed over threads";
    tr.children[2].title = "share of all operator time";
    return tr;
  }

  function nodeRows(node, withBytes, out) {
    const tr = h("tr", "e6-plan-node");
    tr.dataset.id = String(node.id);
    tr.dataset.name = node.name;
    tr.dataset.depth = String(node.depth);
    if (node.hot) tr.classList.add("e6-hot");
    if (node.on_path) tr.classList.add("e6-on-path");
    if (node.slowest) tr.classList.add("e6-slowest");
    const isOpen = open.get(node.id) !== false;
    const op = h("td", "e6-plan-op");
    op.style.paddingLeft = `${2 + node.depth * 10}px`;
    const toggle = h("button", "e6-toggle", node.children.length ? (isOpen ? "▾" : "▸") : "·");
    toggle.disabled = node.children.length === 0;
    toggle.title = isOpen ? "collapse" : "expand";
    toggle.setAttribute("aria-expanded", String(isOpen && node.children.length > 0));
    toggle.addEventListener("click", () => { open.set(node.id, !isOpen); draw(); });
    const name = h("span", "e6-plan-name", node.name);
    const hasDetails = Object.keys(node.details || {}).length > 0 || node.folded.length > 0;
    name.title = hasDetails ? "show details" : node.name;
    if (hasDetails) {
      name.classList.add("e6-plan-has-details");
      name.addEventListener("click", () => {
        if (detailsShown.has(node.id)) detailsShown.delete(node.id); else detailsShown.add(node.id);
        draw();
      });
    }
    op.append(toggle, name);
    if (node.folded.length) {
      const badge = h("span", "e6-plan-folded", `+${node.folded.length}`);
      badge.title = node.folded.map((f) => `${f.name} ${ms(f.self_ms)} (folded: it passes its input on)`).join("\n");
      op.append(badge);
    }
    if (node.slowest) op.append(h("span", "e6-badge", "slowest"));
    const time = h("td", "e6-plan-time", ms(node.self_ms));
    time.title = `own ${ms(node.self_ms)}, with inputs ${ms(node.total_ms)}`;
    const share = h("td", "e6-plan-share");
    const bar = h("span", "e6-plan-bar");
    bar.style.width = `${Math.round(Math.min(1, node.share) * 24)}px`;
    share.append(bar, h("span", "e6-plan-pct", `${(node.share * 100).toFixed(1)}%`));
    const rows = h("td", "e6-plan-rows", count(node.rows));
    const est = h("td", "e6-plan-est", count(node.est_rows));
    if (node.rows !== null && node.est_rows !== null && node.est_rows !== undefined) {
      const ratio = (Math.max(node.rows, 1)) / Math.max(node.est_rows, 1);
      if (ratio >= 10 || ratio <= 0.1) {
        est.classList.add("e6-plan-misestimate");
        est.title = `actual rows are ${ratio >= 1 ? ratio.toFixed(0) + "×" : "1/" + (1 / ratio).toFixed(0)} the estimate`;
      }
    }
    tr.append(op, time, share, rows, est);
    if (withBytes) tr.append(h("td", "e6-plan-bytes", size(node.bytes)));
    out.push(tr);
    if (detailsShown.has(node.id)) {
      const dtr = h("tr", "e6-plan-details-row");
      const td = h("td", "e6-plan-details");
      td.colSpan = withBytes ? 6 : 5;
      td.style.paddingLeft = `${22 + node.depth * 10}px`;
      for (const [k, v] of Object.entries(node.details || {})) {
        const line = h("div", "");
        line.append(h("span", "e6-json-key", `${k}: `), h("span", "", v));
        td.append(line);
      }
      for (const f of node.folded) td.append(h("div", "e6-muted", `folded in: ${f.name} ${ms(f.self_ms)} ${Object.values(f.details || {}).join(" ")}`));
      dtr.append(td);
      out.push(dtr);
    }
    if (isOpen) for (const child of node.children) nodeRows(child, withBytes, out);
  }

  function draw() {
    root.replaceChildren();
    if (model.get("title")) root.append(h("div", "e6-plan-title", model.get("title")));
    root.append(summaryBar());
    if (model.get("note")) root.append(h("div", "e6-plan-note e6-muted", model.get("note")));
    const error = model.get("error");
    if (error) root.append(h("div", "e6-error", error));
    const tree = model.get("tree");
    if (tree) {
      let withBytes = false;
      walk(tree, (n) => { if (n.bytes !== null && n.bytes !== undefined) withBytes = true; });
      const table = h("table", "e6-plan-table");
      if (withBytes) table.classList.add("e6-plan-with-bytes");
      const thead = h("thead");
      thead.append(headRow(withBytes));
      const tbody = h("tbody");
      const rows = [];
      nodeRows(tree, withBytes, rows);
      tbody.append(...rows);
      table.append(thead, tbody);
      root.append(tools(tree), table);
    } else if (model.get("raw") !== null) {
      root.append(jsonTree(model.get("raw"), undefined, 0));
    }
  }

  const onTree = () => { if (model.get("tree")) defaultOpen(model.get("tree")); draw(); };
  const names = ["summary", "raw", "error", "times_are", "note", "title", "folded", "fold_internal"];
  names.forEach((n) => model.on(`change:${n}`, draw));
  model.on("change:tree", onTree);
  onTree();
  return () => { names.forEach((n) => model.off(`change:${n}`, draw)); model.off("change:tree", onTree); };
}

export default { render };
