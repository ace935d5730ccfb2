// SchemaBrowser (.e6-schema): lazy catalog > database > table > column tree, search and a table preview.
const SEP = "\u001f";

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function render({ model, el }) {
  const root = h("div", "e6-widget e6-schema");
  const search = h("input", "e6-search");
  search.type = "search";
  search.placeholder = "search tables and loaded columns…";
  search.value = model.get("search");
  const error = h("div", "e6-error");
  const matches = h("div", "e6-matches");
  const tree = h("div", "e6-schema-tree");
  const preview = h("div", "e6-preview");
  root.append(search, error, matches, tree, preview);
  el.appendChild(root);
  const open = new Set(); // expanded path keys (view state)

  function toggle(path) {
    const key = path.join(SEP);
    if (open.has(key)) open.delete(key);
    else {
      open.add(key);
      if (!(key in model.get("nodes"))) model.send({ kind: "expand", path });
    }
    drawTree();
  }

  function nodeView(path, item) {
    const childPath = [...path, item.name];
    const key = childPath.join(SEP);
    const box = h("div", `e6-schema-node e6-kind-${item.kind}`);
    box.dataset.path = childPath.join(".");
    const row = h("div", "e6-schema-row");
    if (item.kind === "column") {
      row.append(h("span", "e6-toggle-spacer", "·"), h("span", "e6-schema-name", item.name), h("span", "e6-col-type", item.type));
      box.append(row);
      return box;
    }
    const isOpen = open.has(key);
    const btn = h("button", "e6-toggle", isOpen ? "▾" : "▸");
    btn.addEventListener("click", () => toggle(childPath));
    const name = h("span", "e6-schema-name", item.name);
    name.addEventListener("click", () => toggle(childPath));
    row.append(btn, h("span", "e6-kind", item.kind), name);
    if (item.kind === "table") {
      const pv = h("button", "e6-button e6-preview-btn", "preview");
      pv.title = "first rows of this table";
      pv.addEventListener("click", () => model.send({ kind: "preview", path: childPath }));
      row.append(pv);
    }
    box.append(row);
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

  function drawTree() {
    const top = model.get("nodes")[""] || [];
    tree.replaceChildren(...top.map((c) => nodeView([], c)));
  }

  function drawMatches() {
    const list = model.get("matches");
    matches.replaceChildren();
    if (!model.get("search")) return;
    matches.append(h("div", "e6-muted", `${list.length} match${list.length === 1 ? "" : "es"} for "${model.get("search")}"`));
    for (const m of list) {
      const line = h("div", `e6-match e6-kind-${m.kind}`);
      line.dataset.path = m.path.join(".");
      line.append(h("span", "e6-kind", m.kind), h("span", "e6-schema-name", m.path.join(".")));
      if (m.type) line.append(h("span", "e6-col-type", m.type));
      line.addEventListener("click", () => {
        // reveal it in the tree, and preview the table it belongs to
        for (let i = 1; i <= Math.min(m.path.length, 3); i += 1) {
          const p = m.path.slice(0, i);
          open.add(p.join(SEP));
          if (!(p.join(SEP) in model.get("nodes"))) model.send({ kind: "expand", path: p });
        }
        model.send({ kind: "preview", path: m.path.slice(0, 3) });
        drawTree();
      });
      matches.append(line);
    }
  }

  function drawPreview() {
    const p = model.get("preview");
    preview.replaceChildren();
    if (!p || !p.path) return;
    preview.append(h("div", "e6-preview-title", `preview of ${p.path.join(".")}` + (p.error ? "" : ` (first ${p.rows.length} rows)`)));
    if (p.error) { preview.append(h("div", "e6-error", p.error)); return; }
    const table = h("table", "e6-grid-table");
    const head = h("tr");
    for (const c of p.columns) {
      const th = h("th");
      th.append(h("span", "e6-col-name", c.name), h("div", "e6-col-type", c.type));
      head.append(th);
    }
    const thead = h("thead");
    thead.append(head);
    const tbody = h("tbody");
    for (const row of p.rows) {
      const tr = h("tr");
      for (const v of row) {
        const td = h("td", v === null ? "e6-null" : "", v === null ? "NULL" : v);
        tr.append(td);
      }
      tbody.append(tr);
    }
    table.append(thead, tbody);
    const scroll = h("div", "e6-grid-scroll");
    scroll.append(table);
    preview.append(scroll);
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

  const handlers = [["nodes", drawTree], ["matches", drawMatches], ["search", drawMatches], ["preview", drawPreview], ["error", drawError]];
  handlers.forEach(([n, f]) => model.on(`change:${n}`, f));
  drawTree(); drawMatches(); drawPreview(); drawError();
  return () => {
    clearTimeout(debounce);
    handlers.forEach(([n, f]) => model.off(`change:${n}`, f));
  };
}

export default { render };
