// QueryStatus view: status line (.e6-status) with a live elapsed clock and a Cancel button (.e6-cancel).
const FINAL = new Set(["finished", "cancelled", "failed"]);
const NO_ACK_MS = 2000;

function fmtElapsed(s) {
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${(s - 60 * m).toFixed(0)} s`;
}

function shortId(id) {
  return id.length > 9 ? `${id.slice(0, 4)}…${id.slice(-3)}` : id;
}

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "e6-widget e6-status-box";
  const button = document.createElement("button");
  button.className = "e6-cancel e6-button";
  button.type = "button";
  button.textContent = "Cancel";
  const line = document.createElement("span");
  line.className = "e6-status";
  line.setAttribute("role", "status");
  const hint = document.createElement("div");
  hint.className = "e6-hint";
  root.append(button, line, hint);
  el.appendChild(root);

  let elapsedAt = performance.now();
  let clickedAt = null;
  let acked = false;

  function word() {
    const state = model.get("state");
    if (!FINAL.has(state) && clickedAt !== null) return "cancelling";
    return state;
  }
  function draw() {
    const state = model.get("state");
    let elapsed = model.get("elapsed");
    if (!FINAL.has(state)) elapsed += (performance.now() - elapsedAt) / 1000;
    const n = model.get("rows");
    const msg = model.get("message");
    const w = word();
    const qid = model.get("query_id");
    line.dataset.state = w;
    line.className = `e6-status e6-state-${w}`;
    line.title = `query ${qid}`;
    line.dataset.queryId = qid;
    line.textContent = `${w} · ${fmtElapsed(elapsed)} · ${n.toLocaleString("en-US")} row${n === 1 ? "" : "s"}` +
      ` · query ${shortId(qid)}` + (msg ? ` · ${msg}` : "");
    button.hidden = FINAL.has(state); // Cancel only while it can do something
    button.disabled = FINAL.has(state) || clickedAt !== null || !model.get("cancel_enabled");
    let h = model.get("cancel_hint");
    if (!FINAL.has(state) && clickedAt !== null && !acked && performance.now() - clickedAt > NO_ACK_MS) {
      h = "The kernel has not received the click: it is busy in a cell that cannot take widget messages. " +
        "Use the stop button (Kernel > Interrupt), which cancels the query.";
    }
    hint.textContent = FINAL.has(state) ? "" : h;
    hint.hidden = !hint.textContent;
  }

  button.addEventListener("click", () => {
    if (clickedAt !== null) return;
    clickedAt = performance.now();
    acked = false;
    model.send({ kind: "cancel" });
    draw();
  });
  const onElapsed = () => { elapsedAt = performance.now(); draw(); };
  const onMsg = (msg) => {
    if (!msg || msg.kind !== "cancel_ack") return;
    acked = true;
    if (msg.ok === false) clickedAt = null; // the kernel could not send it: the message says why, try again
    draw();
  };
  model.on("change:elapsed", onElapsed);
  for (const name of ["state", "rows", "message", "cancel_enabled", "cancel_hint", "query_id"]) {
    model.on(`change:${name}`, draw);
  }
  model.on("msg:custom", onMsg);
  const timer = setInterval(() => { if (!FINAL.has(model.get("state")) || clickedAt !== null) draw(); }, 100);
  draw();

  return () => {
    clearInterval(timer);
    model.off("change:elapsed", onElapsed);
    for (const name of ["state", "rows", "message", "cancel_enabled", "cancel_hint", "query_id"]) {
      model.off(`change:${name}`, draw);
    }
    model.off("msg:custom", onMsg);
  };
}

export default { render };
