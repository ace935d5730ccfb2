// SchemaBrowser (.e6-schema): lazy catalog > database > table > column tree, engine-wide search, preview grid.
const SEP = "\u001f";
const REVEAL = 20; // a search opens the tree down to this many matches

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function quoted(path) {
  return path.map((p) => `"${p.replaceAll('"', '""')}"`).join(".");
}

// name with every occurrence of needle wrapped in <mark>, built from text nodes only
function highlighted(name, needle, className) {
  const span = h("span", className);
  const lower = name.toLowerCase();
  if (!needle) { span.textContent = name; return span; }
  let at = 0;
  for (let i = lower.indexOf(needle); i >= 0; i = lower.indexOf(needle, at)) {
    if (i > at) span.append(document.createTextNode(name.slice(at, i)));
    span.append(h("mark", "e6-hit", name.slice(i, i + needle.length)));
    at = i + needle.length;
  }
  if (at < name.length) span.append(document.createTextNode(name.slice(at)));
  return span;
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h("textarea");
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}

// JupyterLab exposes its app only when asked to (exposeAppInBrowser, dev mode); otherwise the SQL is copied
async function insertCell(text) {
  const app = window.jupyterapp;
  if (app && app.commands && app.commands.hasCommand("notebook:insert-cell-below")) {
    await app.commands.execute("notebook:insert-cell-below");
    const cell = app.shell.currentWidget && app.shell.currentWidget.content && app.shell.currentWidget.content.activeCell;
    if (cell) { cell.model.sharedModel.setSource(text); return "inserted in a new cell"; }
  }
  return (await copyText(text)) ? "copied: paste it into a new cell (Esc B, then Ctrl+V)" : "could not copy";
}

function render({ model, el }) {
  const root = h("div", "e6-widget e6-schema");
  const bar = h("div", "e6-schema-bar");
  const search = h("input", "e6-search");
  search.type = "search";
  search.placeholder = "search catalogs, databases, tables, columns…";
  search.value = model.get("search");
  const refresh = h("button", "e6-button e6-refresh", "Refresh");
  refresh.title = "list everything again";
  bar.append(search, refresh);
  const status = h("div", "e6-muted e6-schema-status");
  const error = h("div", "e6-error");
  const matches = h("div", "e6-matches");
  const tree = h("div", "e6-schema-tree");
  root.append(bar, status, error, matches, tree);
  el.appendChild(root);
  const open = new Set(); // expanded path keys (view state)
  let gridView = null; // a promise of the preview's ResultGrid view, kept across redraws
  let gridFor = null;
  let latestHolder = null;
  let disposed = false;

  function needle() { return (model.get("search") || "").trim().toLowerCase(); }

  function toggle(path) {
    const key = path.join(SEP);
    if (open.has(key)) open.delete(key);
    else {
      open.add(key);
      if (!(key in model.get("nodes"))) model.send({ kind: "expand", path });
    }
    drawTree();
  }

  function say(text) { status.textContent = text; }

  function tableTools(path) {
    const tools = h("span", "e6-schema-tools");
    const copy = h("button", "e6-button e6-copy-name", "copy");
    copy.title = "copy the quoted name";
    copy.addEventListener("click", async (e) => { e.stopPropagation(); say((await copyText(quoted(path))) ? `copied ${quoted(path)}` : "could not copy"); });
    const sql = h("button", "e6-button e6-insert-sql", "SQL");
    sql.title = "SELECT * FROM this table LIMIT 100, in a new cell";
    sql.addEventListener("click", async (e) => { e.stopPropagation(); say(await insertCell(`%%e6sql\nSELECT * FROM ${quoted(path)} LIMIT 100`)); });
    const pv = h("button", "e6-button e6-preview-btn", "preview");
    pv.title = "first rows of this table, in a result grid";
    pv.addEventListener("click", (e) => { e.stopPropagation(); model.send({ kind: "preview", path }); });
    tools.append(copy, sql, pv);
    return tools;
  }

  function nodeView(path, item) {
    const childPath = [...path, item.name];
    const key = childPath.join(SEP);
    const box = h("div", `e6-schema-node e6-kind-${item.kind}`);
    box.dataset.path = childPath.join(".");
    const row = h("div", "e6-schema-row");
    const n = needle();
    const hit = n && item.name.toLowerCase().includes(n);
    if (hit) box.classList.add("e6-match-node");
    if (item.kind === "column") {
      row.append(h("span", "e6-toggle-spacer", "·"), highlighted(item.name, n, "e6-schema-name"), h("span", "e6-col-type", item.type));
      const copy = h("button", "e6-button e6-copy-name", "copy");
      copy.addEventListener("click", async () => say((await copyText(quoted([item.name]))) ? `copied ${quoted([item.name])}` : "could not copy"));
      row.append(copy);
      box.append(row);
      return box;
    }
    const isOpen = open.has(key);
    const btn = h("button", "e6-toggle", isOpen ? "▾" : "▸");
    btn.addEventListener("click", () => toggle(childPath));
    const name = highlighted(item.name, n, "e6-schema-name");
    name.addEventListener("click", () => toggle(childPath));
    row.append(btn, h("span", "e6-kind", item.kind), name);
    if (item.kind === "table") {
      const counts = model.get("counts")[path.join(SEP)];
      if (counts && item.name in counts) row.append(h("span", "e6-row-count", `${counts[item.name].toLocaleString("en-US")} rows`));
      row.append(tableTools(childPath));
    }
    box.append(row);
    if (item.kind === "table") {
      const p = model.get("preview");
      if (p && p.path && p.path.join(SEP) === key) box.append(previewBox(p));
    }
    if (isOpen) {
      const kids = model.get("nodes")[key];
      const list = h("div", "e6-schema-children");
      if (kids === undefined) list.append(h("div", "e6-muted", "loading…"));
      else if (kids.length === 0) list.append(h("div", "e6-muted", "(empty)"));
      else for (const kid of kids) list.append(nodeView(childPath, kid));
      box.append(list);
    }
    return box;
  }

  function previewBox(p) {
    const box = h("div", "e6-preview");
    const title = h("div", "e6-preview-title", `preview of ${p.path.join(".")}`);
    const close = h("button", "e6-button e6-preview-close", "close");
    close.addEventListener("click", () => { model.set("preview", {}); model.save_changes(); });
    title.append(close);
    box.append(title, h("div", "e6-muted e6-preview-sql", p.sql || ""));
    if (p.loading) { box.append(h("div", "e6-muted", "loading…")); return box; }
    if (p.error) { box.append(h("div", "e6-error", p.error)); return box; }
    const holder = h("div", "e6-preview-grid");
    box.append(holder);
    attachGrid(holder);
    return box;
  }

  async function attachGrid(holder) {
    const ref = model.get("preview_grid");
    if (!ref) return;
    latestHolder = holder;
    if (gridFor !== ref) {
      if (gridView) gridView.then((v) => v.remove());
      gridFor = ref;
      gridView = model.widget_manager.get_model(ref.slice("IPY_MODEL_".length))
        .then((child) => model.widget_manager.create_view(child));
    }
    const view = await gridView;
    if (disposed || gridFor !== ref) return;
    if (latestHolder.isConnected) latestHolder.append(view.el);
  }

  function drawTree() {
    const top = model.get("nodes")[""] || [];
    tree.replaceChildren(...top.map((c) => nodeView([], c)));
  }

  function reveal(list) {
    for (const m of list.slice(0, REVEAL)) {
      for (let i = 1; i < m.path.length; i += 1) open.add(m.path.slice(0, i).join(SEP));
    }
  }

  function drawMatches() {
    const list = model.get("matches");
    matches.replaceChildren();
    const text = model.get("search");
    if (model.get("searching")) { matches.append(h("div", "e6-muted", "searching…")); return; }
    if (!text.trim()) return;
    const n = needle();
    const more = list.length >= 100 ? " (the first 100)" : "";
    matches.append(h("div", "e6-muted e6-match-count", `${list.length} match${list.length === 1 ? "" : "es"} for "${text}"${more}`));
    if (model.get("note")) matches.append(h("div", "e6-muted", model.get("note")));
    for (const m of list) {
      const line = h("div", `e6-match e6-kind-${m.kind}`);
      line.dataset.path = m.path.join(".");
      line.append(h("span", "e6-kind", m.kind));
      const name = h("span", "e6-schema-name");
      m.path.forEach((part, i) => {
        if (i) name.append(document.createTextNode("."));
        name.append(i === m.path.length - 1 ? highlighted(part, n, "") : document.createTextNode(part));
      });
      line.append(name);
      if (m.type) line.append(h("span", "e6-col-type", m.type));
      line.addEventListener("click", () => {
        for (let i = 1; i <= Math.min(m.path.length, 3); i += 1) {
          const p = m.path.slice(0, i);
          open.add(p.join(SEP));
          if (!(p.join(SEP) in model.get("nodes"))) model.send({ kind: "expand", path: p });
        }
        if (m.path.length >= 3) model.send({ kind: "preview", path: m.path.slice(0, 3) });
        drawTree();
      });
      matches.append(line);
    }
  }

  function drawError() {
    error.textContent = model.get("error");
    error.hidden = !model.get("error");
  }

  let debounce = null;
  search.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => model.send({ kind: "search", text: search.value }), 250);
  });
  search.addEventListener("keydown", (e) => {
    if (e.key === "Enter") { clearTimeout(debounce); model.send({ kind: "search", text: search.value }); }
  });
  refresh.addEventListener("click", () => { say("refreshing…"); model.send({ kind: "refresh" }); });

  const onMatches = () => { reveal(model.get("matches")); drawMatches(); drawTree(); };
  const onNodes = () => { if (status.textContent === "refreshing…") say(""); drawTree(); };
  const handlers = [["nodes", onNodes], ["counts", drawTree], ["matches", onMatches], ["search", drawMatches],
    ["searching", drawMatches], ["note", drawMatches], ["preview", drawTree], ["preview_grid", drawTree], ["error", drawError]];
  handlers.forEach(([n, f]) => model.on(`change:${n}`, f));
  drawTree(); drawMatches(); drawError();
  return () => {
    disposed = true;
    clearTimeout(debounce);
    if (gridView) gridView.then((v) => v.remove());
    handlers.forEach(([n, f]) => model.off(`change:${n}`, f));
  };
}

export default { render };
