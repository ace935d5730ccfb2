// QuickChart (.e6-chart): bar / line / histogram / scatter as plain SVG; export as SVG or PNG, nothing fetched.
const NS = "http://www.w3.org/2000/svg";
const W = 560, H = 300, M = { l: 56, r: 12, t: 10, b: 46 };

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function s(tag, attrs, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function fmt(v) {
  if (!Number.isFinite(v)) return "";
  const a = Math.abs(v);
  if (a >= 1e6 || (a > 0 && a < 1e-3)) return v.toExponential(1);
  return Number.isInteger(v) ? v.toLocaleString("en-US") : v.toFixed(a < 10 ? 2 : 1);
}

function scale(lo, hi, a, b) {
  const span = hi - lo || 1;
  return (v) => a + ((v - lo) / span) * (b - a);
}

function axes(svg, ylo, yhi, xlabels) {
  const y = scale(ylo, yhi, H - M.b, M.t);
  svg.append(s("line", { x1: M.l, y1: H - M.b, x2: W - M.r, y2: H - M.b, class: "e6-chart-axis" }));
  svg.append(s("line", { x1: M.l, y1: M.t, x2: M.l, y2: H - M.b, class: "e6-chart-axis" }));
  for (let i = 0; i <= 4; i += 1) {
    const v = ylo + ((yhi - ylo) * i) / 4;
    svg.append(s("text", { x: M.l - 4, y: y(v) + 3, "text-anchor": "end", class: "e6-chart-tick" }, fmt(v)));
  }
  for (const [x, label] of xlabels) svg.append(s("text", { x, y: H - M.b + 14, "text-anchor": "middle", class: "e6-chart-tick" }, label));
  return y;
}

function draw(svg, d) {
  svg.replaceChildren(s("rect", { x: 0, y: 0, width: W, height: H, fill: "white" }));
  const iw = W - M.l - M.r;
  if (d.kind === "bar" || d.kind === "histogram") {
    const values = d.kind === "bar" ? d.values : d.bins;
    if (!values || !values.length) return;
    const top = Math.max(0, ...values);
    const bw = iw / values.length;
    const labels = d.kind === "bar"
      ? d.labels.map((l, i) => [M.l + bw * (i + 0.5), values.length <= 12 ? l.slice(0, 10) : ""]).filter(([, l]) => l)
      : [[M.l, fmt(d.lo)], [W - M.r, fmt(d.hi)]];
    const y = axes(svg, 0, top, labels);
    values.forEach((v, i) => {
      const r = s("rect", { x: M.l + i * bw + 1, width: Math.max(1, bw - 2), y: y(v), height: H - M.b - y(v), class: "e6-chart-bar" });
      r.append(s("title", {}, `${d.kind === "bar" ? d.labels[i] : `bin ${i + 1}`}: ${fmt(v)}`));
      svg.append(r);
    });
    return;
  }
  if (!d.xs || !d.xs.length) return;
  const xlo = Math.min(...d.xs), xhi = Math.max(...d.xs), ylo = Math.min(...d.ys), yhi = Math.max(...d.ys);
  const x = scale(xlo, xhi, M.l, W - M.r);
  const xl = (v) => (d.time ? "" : fmt(v));
  const y = axes(svg, ylo, yhi, [[M.l, xl(xlo)], [W - M.r, xl(xhi)]]);
  if (d.kind === "line") {
    const path = d.xs.map((v, i) => `${i ? "L" : "M"}${x(v).toFixed(1)},${y(d.ys[i]).toFixed(1)}`).join("");
    svg.append(s("path", { d: path, class: "e6-chart-line", fill: "none" }));
  } else {
    d.xs.forEach((v, i) => svg.append(s("circle", { cx: x(v).toFixed(1), cy: y(d.ys[i]).toFixed(1), r: 2, class: "e6-chart-dot" })));
  }
}

function svgText(svg) {
  const copy = svg.cloneNode(true);
  // the export carries its own colours: it leaves the notebook's stylesheet behind
  const style = s("style", {}, ".e6-chart-bar{fill:#1976d2}.e6-chart-line{stroke:#1976d2;stroke-width:1.5}.e6-chart-dot{fill:#1976d2;opacity:.6}.e6-chart-axis{stroke:#999}.e6-chart-tick{font:10px sans-serif;fill:#555}");
  copy.insertBefore(style, copy.firstChild);
  return new XMLSerializer().serializeToString(copy);
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h("a");
  a.href = url; a.download = name;
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function render({ model, el }) {
  const root = h("div", "e6-widget e6-chart");
  const bar = h("div", "e6-chart-bar-tools");
  const pick = (cls, options, value) => {
    const sel = h("select", cls);
    for (const [v, label] of options) { const o = h("option", "", label); o.value = v; sel.append(o); }
    sel.value = value;
    return sel;
  };
  const svg = s("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "e6-chart-svg", xmlns: NS });
  const note = h("div", "e6-muted e6-chart-note");
  const error = h("div", "e6-error");
  root.append(bar, svg, note, error);
  el.appendChild(root);

  function tools() {
    const cols = model.get("columns").map((c) => [c.name, c.name]);
    const kind = pick("e6-chart-kind", [["bar", "bar"], ["line", "line"], ["histogram", "histogram"], ["scatter", "scatter"]], model.get("kind"));
    const x = pick("e6-chart-x", cols, model.get("x"));
    const y = pick("e6-chart-y", [["", "(row count)"], ...cols], model.get("y"));
    // the choices are synced traits: the kernel recomputes the series when one changes
    for (const [sel, name] of [[kind, "kind"], [x, "x"], [y, "y"]]) {
      sel.addEventListener("change", () => { model.set(name, sel.value); model.save_changes(); });
    }
    const svgBtn = h("button", "e6-button e6-chart-svg-btn", "SVG");
    svgBtn.addEventListener("click", () => save(new Blob([svgText(svg)], { type: "image/svg+xml" }), "chart.svg"));
    const pngBtn = h("button", "e6-button e6-chart-png-btn", "PNG");
    pngBtn.addEventListener("click", () => {
      const img = new Image();
      img.onload = () => {
        const canvas = h("canvas");
        canvas.width = W * 2; canvas.height = H * 2;
        const ctx = canvas.getContext("2d");
        ctx.scale(2, 2);
        ctx.drawImage(img, 0, 0);
        canvas.toBlob((blob) => save(blob, "chart.png"), "image/png");
      };
      img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgText(svg))}`;
    });
    bar.replaceChildren(kind, h("span", "e6-muted", " x "), x, h("span", "e6-muted", " y "), y, svgBtn, pngBtn);
  }

  function redraw() {
    draw(svg, model.get("data") || {});
    note.textContent = model.get("note");
    error.textContent = model.get("error");
    error.hidden = !model.get("error");
  }

  const onTools = () => { tools(); };
  ["columns", "kind", "x", "y"].forEach((n) => model.on(`change:${n}`, onTools));
  ["data", "note", "error"].forEach((n) => model.on(`change:${n}`, redraw));
  tools(); redraw();
  return () => {
    ["columns", "kind", "x", "y"].forEach((n) => model.off(`change:${n}`, onTools));
    ["data", "note", "error"].forEach((n) => model.off(`change:${n}`, redraw));
  };
}

export default { render };
