// PlanView (.e6-plan): collapsible operator tree with time, rows and share; hot path and slowest operator marked.
const OPEN_DEPTH = 2;

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

function render({ model, el }) {
  const root = h("div", "e6-widget e6-plan");
  el.appendChild(root);
  const collapsed = new Map(); // node id -> collapsed? (view state only)

  function summaryBar() {
    const s = model.get("summary") || {};
    const bar = h("div", "e6-plan-summary");
    for (const [key, label] of [["parse_ms", "parse"], ["queue_ms", "queue"], ["execution_ms", "execution"], ["total_ms", "total"]]) {
      if (key in s) {
        const item = h("span", `e6-plan-stat e6-plan-${label}`);
        item.append(h("span", "e6-plan-stat-label", `${label} `), h("b", "", ms(s[key])));
        bar.append(item);
      }
    }
    if (s.cached) bar.append(h("span", "e6-plan-stat", "cached"));
    const times = model.get("times_are");
    if (times) bar.append(h("span", "e6-plan-stat e6-muted", `operator times: ${times}`));
    return bar;
  }

  function nodeView(node) {
    const box = h("div", "e6-plan-node");
    box.dataset.id = String(node.id);
    box.dataset.name = node.name;
    if (node.hot) box.classList.add("e6-hot");
    if (node.slowest) box.classList.add("e6-slowest");
    const row = h("div", "e6-plan-row");
    const isCollapsed = collapsed.has(node.id) ? collapsed.get(node.id) : node.depth >= OPEN_DEPTH;
    const expandable = node.children.length > 0 || Object.keys(node.details || {}).length > 0;
    const toggle = h("button", "e6-toggle", expandable ? (isCollapsed ? "▸" : "▾") : "·");
    toggle.disabled = !expandable;
    toggle.title = isCollapsed ? "expand" : "collapse";
    toggle.setAttribute("aria-expanded", String(!isCollapsed));
    const name = h("span", "e6-plan-name", node.name);
    const time = h("span", "e6-plan-time", ms(node.self_ms));
    time.title = `own ${ms(node.self_ms)}, with inputs ${ms(node.total_ms)}`;
    const share = h("span", "e6-plan-share");
    const bar = h("span", "e6-plan-bar");
    bar.style.width = `${Math.round(Math.min(1, node.share) * 100)}%`;
    share.append(bar, h("span", "e6-plan-pct", `${(node.share * 100).toFixed(1)}%`));
    const rows = h("span", "e6-plan-rows", node.rows === null ? "" : `${node.rows.toLocaleString("en-US")} rows`);
    row.append(toggle, name, time, share, rows);
    if (node.slowest) row.append(h("span", "e6-badge", "slowest"));
    box.append(row);
    if (!isCollapsed) {
      const details = Object.entries(node.details || {});
      if (details.length) {
        const dl = h("div", "e6-plan-details");
        for (const [k, v] of details) {
          const line = h("div", "");
          line.append(h("span", "e6-json-key", `${k}: `), h("span", "", v));
          dl.append(line);
        }
        box.append(dl);
      }
      const kids = h("div", "e6-plan-children");
      for (const child of node.children) kids.append(nodeView(child));
      box.append(kids);
    }
    toggle.addEventListener("click", () => { collapsed.set(node.id, !isCollapsed); draw(); });
    return box;
  }

  function expandHotPath() {
    const walk = (node) => {
      if (!node.hot) return;
      collapsed.set(node.id, false);
      node.children.forEach(walk);
    };
    walk(model.get("tree"));
    draw();
  }

  function draw() {
    root.replaceChildren(summaryBar());
    const error = model.get("error");
    if (error) root.append(h("div", "e6-error", error));
    const tree = model.get("tree");
    if (tree) {
      const tools = h("div", "e6-plan-tools");
      const hot = h("button", "e6-button e6-expand-hot", "Expand slowest path");
      hot.addEventListener("click", expandHotPath);
      tools.append(hot);
      root.append(tools, nodeView(tree));
    } else if (model.get("raw") !== null) {
      root.append(jsonTree(model.get("raw"), undefined, 0));
    }
  }

  const names = ["summary", "tree", "raw", "error", "times_are"];
  names.forEach((n) => model.on(`change:${n}`, draw));
  draw();
  return () => names.forEach((n) => model.off(`change:${n}`, draw));
}

export default { render };
