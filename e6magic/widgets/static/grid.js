// ResultGrid view (.e6-grid): shows one page the kernel sliced; paging and sorting are kernel requests.
function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function csvField(v) {
  if (v === null || v === undefined) return "";
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

// A row copied as one tab-separated line (a spreadsheet pastes it into cells); NULL copies as empty.
function tsvField(v) {
  if (v === null || v === undefined) return "";
  return /[\t"\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

async function toClipboard(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = document.createElement("textarea"); // no clipboard permission (an http page, an iframe)
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
}

const PAGE_SIZES = [20, 50, 100, 500];

// Column widths measured once (header and first page) and then fixed, so paging and sorting do not make the
// columns jump; a new schema or the profile rows measure again.
function fixWidths(table, colgroup, tries = 3) {
  if (table.style.tableLayout === "fixed" || !table.tBodies[0].rows.length) return;
  const heads = [...table.tHead.rows[0].cells];
  const widths = heads.map((th) => th.getBoundingClientRect().width);
  if (!widths.some((w) => w > 0)) { // not in the page yet: measure once it is drawn
    if (tries > 0) requestAnimationFrame(() => fixWidths(table, colgroup, tries - 1));
    return;
  }
  colgroup.replaceChildren(...widths.map((w) => { const c = h("col"); c.style.width = `${Math.ceil(w) + 14}px`; return c; }));
  table.style.width = `${widths.reduce((a, w) => a + Math.ceil(w) + 14, 0)}px`;
  table.style.tableLayout = "fixed";
  growNumbers(table, colgroup);
  markCut(table.tBodies[0]);
}

// Numbers are never cut: a number column (and the row numbers) widens when a later page holds a longer one, and
// never narrows again; text columns keep their width and cut (see markCut).
function growNumbers(table, colgroup) {
  if (table.style.tableLayout !== "fixed") return;
  const cols = colgroup.children;
  const need = new Map();
  for (const td of table.tBodies[0].querySelectorAll("td.e6-num, td.e6-rownum")) { // read everything, then write
    if (td.scrollWidth > td.clientWidth) need.set(td.cellIndex, Math.max(need.get(td.cellIndex) || 0, td.scrollWidth + td.offsetWidth - td.clientWidth + 2));
  }
  if (!need.size) return;
  for (const [i, w] of need) if (cols[i]) cols[i].style.width = `${Math.ceil(w)}px`;
  table.style.width = `${[...cols].reduce((a, c) => a + parseFloat(c.style.width), 0)}px`;
}

// Cells the column's width cuts get the whole text as a tooltip and expand on click or Enter.
function markCut(tbody) {
  for (const td of tbody.querySelectorAll("td:not(.e6-rownum):not(.e6-null)")) {
    if (td.scrollWidth > td.clientWidth + 1) { td.classList.add("e6-long"); td.title = td.title || td.textContent; }
  }
}

function unfixWidths(table, colgroup) {
  colgroup.replaceChildren();
  table.style.tableLayout = table.style.width = "";
}

// -- column profiles and filters (e6magic/widgets/_explore.py): drawn into the header --------------
function pct(v) { return `${(v * 100).toFixed(v > 0 && v < 0.001 ? 2 : 1)}%`; }

function sparkBars(counts) {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  const w = 96, hgt = 22, max = Math.max(1, ...counts);
  svg.setAttribute("width", String(w)); svg.setAttribute("height", String(hgt));
  svg.setAttribute("class", "e6-prof-hist");
  const bw = w / counts.length;
  counts.forEach((c, i) => {
    const r = document.createElementNS(NS, "rect");
    const bh = Math.max(c ? 1 : 0, Math.round((c / max) * hgt));
    r.setAttribute("x", String(i * bw + 0.5)); r.setAttribute("width", String(Math.max(1, bw - 1)));
    r.setAttribute("y", String(hgt - bh)); r.setAttribute("height", String(bh));
    const t = document.createElementNS(NS, "title"); t.textContent = c.toLocaleString("en-US"); r.append(t);
    svg.append(r);
  });
  return svg;
}

function profileCell(p) {
  const th = h("th", "e6-prof");
  if (!p) return th;
  th.dataset.column = p.name;
  th.append(h("div", "e6-prof-null", `null ${pct(p.null_share)}`));
  if (p.distinct !== null) th.append(h("div", "e6-prof-distinct", `${p.approx_distinct ? "≈" : ""}${p.distinct.toLocaleString("en-US")} distinct`));
  if (p.histogram) th.append(sparkBars(p.histogram));
  if (p.top) {
    const list = h("div", "e6-prof-top");
    for (const t of p.top) list.append(h("div", "", `${t.value} · ${t.count.toLocaleString("en-US")}`));
    th.append(list);
  }
  if (p.min !== null) {
    const range = h("div", "e6-prof-range");
    range.append(h("span", "e6-prof-min", p.min), document.createTextNode(" … "), h("span", "e6-prof-max", p.max));
    th.append(range);
  }
  return th;
}

function exploreRows(model, thead, send) {
  const cols = model.get("columns");
  const profiles = model.get("profiles") || [];
  if (profiles.length) {
    const byName = new Map(profiles.map((p) => [p.name, p]));
    const tr = h("tr", "e6-prof-row");
    tr.append(h("th", "e6-rownum", ""));
    for (const c of cols) tr.append(profileCell(byName.get(c.name)));
    thead.append(tr);
  }
  if (model.get("_filters_open") || Object.keys(model.get("filters") || {}).length) {
    const tr = h("tr", "e6-filter-row");
    tr.append(h("th", "e6-rownum", ""));
    const typed = model.get("filters") || {};
    for (const c of cols) {
      const th = h("th", "e6-filter-cell");
      const box = h("input", "e6-filter");
      box.dataset.column = c.name;
      box.placeholder = c.numeric ? "=, 1..9, >5" : "contains, =x";
      box.value = typed[c.name] || "";
      box.addEventListener("click", (e) => e.stopPropagation());
      box.addEventListener("keydown", (e) => {
        if (e.key !== "Enter") return;
        const all = {};
        thead.querySelectorAll(".e6-filter").forEach((b) => { if (b.value.trim()) all[b.dataset.column] = b.value; });
        send({ kind: "filter", filters: all });
      });
      th.append(box);
      tr.append(th);
    }
    thead.append(tr);
  }
}

// Numbers read with thousands separators unless the grid's `thousands` is off; only the display: the kernel's
// rows, Copy CSV and downloads keep the plain digits.
function grouped(v) {
  const m = /^(-?)(\d{4,})(\.\d+)?$/.exec(v);
  return m ? `${m[1]}${m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",")}${m[3] || ""}` : v;
}

function render({ model, el }) {
  const root = h("div", "e6-widget e6-grid");
  const bar = h("div", "e6-grid-bar");
  const info = h("span", "e6-grid-info");
  const pager = h("span", "e6-pager");
  const first = h("button", "e6-button e6-page-first", "«");
  const prev = h("button", "e6-button e6-page-prev", "‹");
  const pageInput = h("input", "e6-page-input");
  pageInput.type = "number";
  pageInput.min = "1";
  const pageOf = h("span", "e6-page-of");
  const next = h("button", "e6-button e6-page-next", "›");
  const last = h("button", "e6-button e6-page-last", "»");
  first.title = "first page"; prev.title = "previous page"; next.title = "next page"; last.title = "last page";
  pager.append(first, prev, pageInput, pageOf, next, last);
  const copy = h("button", "e6-button e6-copy", "Copy CSV");
  copy.title = "the rows on this page, in the current sort order";
  const download = h("button", "e6-button e6-download", "Download CSV");
  const profileBtn = h("button", "e6-button e6-profile-btn", "Profile");
  profileBtn.title = "null share, distinct values, range and distribution of every column";
  const filterBtn = h("button", "e6-button e6-filter-btn", "Filter");
  filterBtn.title = "a filter box per column: text contains, =value, 1..9, >5 (Enter applies)";
  const chartBtn = h("button", "e6-button e6-chart-btn", "Chart");
  chartBtn.title = "a chart of the rows shown (after the filter), beside the grid";
  const chartBox = h("div", "e6-grid-chart");
  const filterLine = h("div", "e6-filter-line");
  const filterSql = h("code", "e6-filter-sql");
  const copySql = h("button", "e6-button e6-copy-filter", "Copy SQL");
  filterLine.append(filterSql, copySql);
  const downloadParquet = h("button", "e6-button e6-download-parquet", "Parquet");
  download.title = "every row of the result as CSV, in the current sort order";
  downloadParquet.title = "every row of the result as Parquet, in the current sort order";
  const downloadNote = h("span", "e6-download-note");
  downloadNote.setAttribute("role", "status");
  const sizeBox = h("select", "e6-page-size");
  sizeBox.setAttribute("aria-label", "rows per page");
  sizeBox.title = "rows per page";
  bar.append(info, pager, sizeBox, copy, download, downloadParquet, profileBtn, filterBtn, chartBtn, downloadNote);
  const error = h("div", "e6-error");
  const scroller = h("div", "e6-grid-scroll");
  const table = h("table", "e6-grid-table");
  const colgroup = h("colgroup");
  const thead = h("thead");
  const tbody = h("tbody");
  table.append(colgroup, thead, tbody);
  scroller.append(table);
  const body = h("div", "e6-grid-body");
  body.append(scroller, chartBox);
  root.append(bar, filterLine, error, body);
  el.appendChild(root);

  const request = (content) => { root.classList.add("e6-busy"); model.send(content); };
  const pageCount = () => Math.max(1, Math.ceil(model.get("row_count") / model.get("page_size")));
  const goto = (p) => request({ kind: "page", page: p });

  function drawHead() {
    const active = document.activeElement;
    const focused = active && active.tagName === "TH" && thead.contains(active) ? active.dataset.column : null; // kept across redraws
    thead.replaceChildren();
    const tr = h("tr");
    tr.append(h("th", "e6-rownum", "#"));
    const sortCol = model.get("sort_column");
    for (const col of model.get("columns")) {
      const th = h("th", col.numeric ? "e6-num" : "");
      th.dataset.column = col.name;
      th.title = `sort by ${col.name}`;
      const name = h("span", "e6-col-name", col.name);
      const arrow = col.name === sortCol ? (model.get("sort_descending") ? " ▼" : " ▲") : "";
      th.append(name, h("span", "e6-sort-mark", arrow), h("div", "e6-col-type", col.type));
      if (col.name === sortCol) th.classList.add(model.get("sort_descending") ? "e6-sorted-desc" : "e6-sorted-asc");
      th.setAttribute("aria-sort", col.name !== sortCol ? "none" : (model.get("sort_descending") ? "descending" : "ascending"));
      th.tabIndex = 0; // sorting is reachable from the keyboard: Tab to a header, Enter or Space
      th.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); th.click(); }
      });
      th.addEventListener("click", () => {
        // arrival order -> ascending -> descending -> arrival order
        if (model.get("sort_column") !== col.name) request({ kind: "sort", column: col.name, descending: false });
        else if (!model.get("sort_descending")) request({ kind: "sort", column: col.name, descending: true });
        else request({ kind: "sort", column: null });
      });
      tr.append(th);
      if (col.name === focused) queueMicrotask(() => th.focus());
    }
    thead.append(tr);
    exploreRows(model, thead, request);
  }

  function drawBody() {
    const cols = model.get("columns");
    const start = model.get("page") * model.get("page_size");
    const frag = document.createDocumentFragment();
    model.get("rows").forEach((row, i) => {
      const tr = h("tr");
      const sep = model.get("thousands");
      const num = h("td", "e6-rownum", sep ? grouped(String(start + i + 1)) : String(start + i + 1));
      num.tabIndex = i === 0 ? 0 : -1; // one Tab stop for the rows; arrows move, Enter copies a row
      num.title = "copy this row (tab-separated)";
      // Notebook 7 matches its shortcuts in the capture phase (JupyterLab in the bubble phase, after us): a focused
      // cell is what they match, so each says "not here", or ArrowDown/ArrowRight move the notebook's cursor instead
      num.dataset.lmSuppressShortcuts = "true";
      tr.append(num);
      row.forEach((v, j) => {
        const td = h("td", cols[j] && cols[j].numeric ? "e6-num" : "");
        td.tabIndex = -1; // focused by a click or the arrows; Ctrl+C copies the whole value
        td.dataset.lmSuppressShortcuts = "true";
        if (v === null) { td.textContent = "NULL"; td.classList.add("e6-null"); } else {
          td.textContent = sep && cols[j] && cols[j].numeric ? grouped(v) : v;
          // long or several lines: a tooltip, and click/Enter expands (markCut adds the cells the width cuts)
          if (v.length > 40 || v.includes("\n")) { td.title = v; td.classList.add("e6-long"); }
        }
        tr.append(td);
      });
      frag.append(tr);
    });
    tbody.replaceChildren(frag);
    fixWidths(table, colgroup);
    growNumbers(table, colgroup);
    markCut(tbody);
  }

  function flash(node, text) {
    const before = node.textContent;
    node.textContent = text;
    node.classList.add("e6-copied");
    setTimeout(() => { node.textContent = before; node.classList.remove("e6-copied"); }, 900);
  }
  function copyRow(tr) {
    const row = model.get("rows")[tr.sectionRowIndex];
    if (row) toClipboard(row.map(tsvField).join("\t") + "\n").then(() => flash(tr.cells[0], "copied"));
  }
  function copyCell(td) {
    const row = model.get("rows")[td.parentElement.sectionRowIndex];
    const v = row ? row[td.cellIndex - 1] : null;
    toClipboard(v === null || v === undefined ? "" : v).then(() => td.classList.add("e6-copied"));
    setTimeout(() => td.classList.remove("e6-copied"), 900);
  }
  function moveFocus(td, key) {
    const tr = td.parentElement;
    const rows = tbody.rows;
    const r = tr.sectionRowIndex + (key === "ArrowDown" ? 1 : key === "ArrowUp" ? -1 : 0);
    const c = td.cellIndex + (key === "ArrowRight" ? 1 : key === "ArrowLeft" ? -1 : 0);
    const target = rows[r] && rows[r].cells[c];
    if (target) target.focus();
  }
  tbody.addEventListener("click", (e) => {
    const td = e.target.closest("td");
    if (!td || !tbody.contains(td)) return;
    if (td.classList.contains("e6-rownum")) copyRow(td.parentElement);
    else if (td.classList.contains("e6-long") && window.getSelection().isCollapsed) td.classList.toggle("e6-expanded");
  });
  tbody.addEventListener("keydown", (e) => {
    const td = e.target.closest("td");
    if (!td) return;
    if (e.key.startsWith("Arrow")) { e.preventDefault(); moveFocus(td, e.key); }
    else if (e.key === "Enter" || e.key === " ") { e.preventDefault(); td.click(); }
    else if ((e.ctrlKey || e.metaKey) && e.key === "c" && window.getSelection().isCollapsed) {
      e.preventDefault();
      if (td.classList.contains("e6-rownum")) copyRow(td.parentElement); else copyCell(td);
    }
  });

  function drawBar() {
    root.classList.remove("e6-busy");
    const n = model.get("row_count");
    const start = model.get("page") * model.get("page_size");
    const shown = model.get("rows").length;
    const streaming = model.get("complete") ? "" : " so far (streaming…)";
    const sortCol = model.get("sort_column");
    let sortNote = "";
    if (sortCol && model.get("sorted_rows") < n) {
      sortNote = ` · sorted over the first ${model.get("sorted_rows").toLocaleString("en-US")} rows; re-sorts when all rows are in`;
    }
    const kept = model.get("kept_rows");
    const keptNote = kept >= 0 && kept < n
      ? ` · first ${kept.toLocaleString("en-US")} rows kept here, other pages and sorts read from the engine` : "";
    info.textContent = (shown ? `rows ${(start + 1).toLocaleString("en-US")}–${(start + shown).toLocaleString("en-US")} of ` : "") +
      `${n.toLocaleString("en-US")} rows${streaming} · ${model.get("columns").length} columns${sortNote}${keptNote}`;
    const p = model.get("page");
    const count = pageCount();
    pageInput.max = String(count);
    if (document.activeElement !== pageInput) pageInput.value = String(p + 1);
    pageOf.textContent = ` of ${count.toLocaleString("en-US")}`;
    first.disabled = prev.disabled = p <= 0;
    next.disabled = last.disabled = p >= count - 1;
    const before = model.get("unfiltered_rows");
    if (before >= 0) info.textContent += ` · filtered from ${before.toLocaleString("en-US")}`;
    filterSql.textContent = model.get("filter_sql");
    filterLine.hidden = !model.get("filter_sql");
    profileBtn.disabled = model.get("profiling");
    profileBtn.textContent = model.get("profiling") ? "Profiling…" : "Profile";
    pager.hidden = model.get("complete") && count <= 1; // no pager for a single page
    const size = model.get("page_size");
    const sizes = [...new Set([...PAGE_SIZES, size])].sort((a, b) => a - b);
    sizeBox.replaceChildren(...sizes.map((s) => { const o = h("option", "", `${s} / page`); o.value = String(s); return o; }));
    sizeBox.value = String(size);
    sizeBox.hidden = model.get("complete") && n <= PAGE_SIZES[0] && size >= n; // nothing to choose
    const err = model.get("error") || model.get("filter_error");
    error.textContent = err;
    error.hidden = !err;
  }

  const drawAll = () => { drawHead(); drawBody(); drawBar(); };
  const onRows = () => { drawBody(); drawBar(); };
  first.addEventListener("click", () => goto(0));
  prev.addEventListener("click", () => goto(model.get("page") - 1));
  next.addEventListener("click", () => goto(model.get("page") + 1));
  last.addEventListener("click", () => goto(-1));
  const gotoTyped = () => {
    const p = parseInt(pageInput.value, 10);
    if (Number.isFinite(p)) goto(Math.min(Math.max(p, 1), pageCount()) - 1);
  };
  pageInput.addEventListener("change", gotoTyped);
  sizeBox.addEventListener("change", () => request({ kind: "page_size", page_size: parseInt(sizeBox.value, 10) }));
  pageInput.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); gotoTyped(); } });

  function csv() {
    const names = model.get("columns").map((c) => csvField(c.name)).join(",");
    const lines = model.get("rows").map((row) => row.map(csvField).join(","));
    return [names, ...lines].join("\r\n") + "\r\n";
  }
  copy.addEventListener("click", async () => {
    await toClipboard(csv());
    copy.textContent = "Copied";
    setTimeout(() => { copy.textContent = "Copy CSV"; }, 1200);
  });
  // The whole result comes from the kernel in chunks (it is never whole there); the browser keeps the parts
  // as a Blob and saves it once the last one is in.
  let parts = null;
  const fmtBytes = (n) => (n < 1048576 ? `${Math.round(n / 1024)} KB` : `${(n / 1048576).toFixed(1)} MB`);
  function startDownload(format) {
    if (parts !== null) return; // one download at a time
    parts = [];
    download.disabled = downloadParquet.disabled = true;
    downloadNote.textContent = `preparing ${format.toUpperCase()}…`;
    model.send({ kind: "download", format });
  }
  download.addEventListener("click", () => startDownload("csv"));
  downloadParquet.addEventListener("click", () => startDownload("parquet"));
  function onCustom(msg, buffers) {
    if (!msg || parts === null) return;
    if (msg.kind === "download_chunk") {
      for (const b of buffers || []) parts.push(b);
    } else if (msg.kind === "download_progress") {
      const pct = msg.total ? ` (${Math.floor((100 * msg.rows) / msg.total)}%)` : "";
      downloadNote.textContent = `downloading: ${msg.rows.toLocaleString("en-US")} of ` +
        `${msg.total.toLocaleString("en-US")} rows${pct}, ${fmtBytes(msg.bytes)}`;
    } else if (msg.kind === "download_done" || msg.kind === "download_error") {
      if (msg.kind === "download_done") {
        const url = URL.createObjectURL(new Blob(parts, { type: msg.mime }));
        const a = document.createElement("a");
        a.href = url;
        a.download = msg.name;
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
        downloadNote.textContent = `saved ${msg.name}: ${msg.rows.toLocaleString("en-US")} rows, ${fmtBytes(msg.bytes)}`;
      } else {
        downloadNote.textContent = msg.message;
      }
      parts = null;
      download.disabled = downloadParquet.disabled = false;
    }
  }
  model.on("msg:custom", onCustom);

  profileBtn.addEventListener("click", () => { model.send({ kind: "profile" }); });
  chartBtn.addEventListener("click", () => { model.send({ kind: "chart" }); });
  const onChart = () => showChart(model, chartBox, chartBtn);
  model.on("change:chart", onChart);
  onChart();
  filterBtn.addEventListener("click", () => { model.set("_filters_open", !model.get("_filters_open")); drawHead(); });
  copySql.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(model.get("filter_sql")); copySql.textContent = "Copied"; }
    catch { copySql.textContent = "Copy failed"; }
    setTimeout(() => { copySql.textContent = "Copy SQL"; }, 1200);
  });
  const headEvents = ["columns", "sort_column", "sort_descending", "profiles", "filters"];
  const barEvents = ["row_count", "complete", "page", "page_size", "sorted_rows", "error", "kept_rows",
    "profiling", "filter_sql", "filter_error", "unfiltered_rows"];
  const remeasure = () => unfixWidths(table, colgroup);
  model.on("change:columns", remeasure); // before drawAll, which measures the new columns
  model.on("change:profiles", remeasure);
  model.on("change:thousands", drawBody);
  headEvents.forEach((n) => model.on(`change:${n}`, drawAll));
  barEvents.forEach((n) => model.on(`change:${n}`, drawBar));
  model.on("change:rows", onRows);
  drawAll();
  return () => {
    headEvents.forEach((n) => model.off(`change:${n}`, drawAll));
    barEvents.forEach((n) => model.off(`change:${n}`, drawBar));
    model.off("change:rows", onRows);
    model.off("change:columns", remeasure);
    model.off("change:profiles", remeasure);
    model.off("msg:custom", onCustom);
    model.off("change:chart", onChart);
  };
}

// the chart (e6magic/widgets/_chart.py, a widget of its own) drawn in its box beside the grid
async function showChart(model, box, btn) {
  const ref = model.get("chart");
  btn.textContent = ref ? "Close chart" : "Chart";
  box.replaceChildren();
  if (!ref) return;
  const child = await model.widget_manager.get_model(ref.slice("IPY_MODEL_".length));
  const view = await model.widget_manager.create_view(child);
  if (model.get("chart") === ref) box.replaceChildren(view.el);
}

export default { render };
