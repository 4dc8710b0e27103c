// The live class page: draws the grid, the needs-help list and a student's detail from the
// service's JSON, and keeps them current through Server-Sent Events (api/stream).
// Everything a student could have typed (feedback text) is shown with textContent only.
"use strict";
(() => {
  const xsrf = document.querySelector('meta[name="xsrf"]').content;
  const $ = (id) => document.getElementById(id);
  const SYMBOL = { "not tried": "·", trying: "✗", passed: "✓", solution: "S" };
  const CLASS = { "not tried": "not-tried", trying: "trying", passed: "passed", solution: "solution" };
  const WORD = { "not tried": "not tried", trying: "tried, not passed yet", passed: "passed",
    solution: "passed only by running the solution" };
  const SERVER = { ready: ["●", "running"], pending: ["◐", "starting or stopping"],
    stopped: ["○", "stopped"], unknown: ["?", "not known yet"] };
  let state = null; // the service's snapshot: roster, chapters, cells, needs_help, servers ...
  let shown = null; // the student whose detail is open
  let hide = localStorage.getItem("live.hide") === "1";

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  const label = (name) => (hide ? "#" + (state.roster.indexOf(name) + 1) : name);
  const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "—");
  const bytes = (n) => (n >= 1 << 30 ? (n / (1 << 30)).toFixed(1) + " GB" : Math.round(n / (1 << 20)) + " MB");
  const keys = () => state.chapters.flatMap((ch) => ch.checks.map((c) => ch.chapter + "/" + c.name));
  const shortName = (key) => key.split("/")[1].replace(/^check_/, "");

  function fillCell(td, cell, student, key) {
    td.className = "cell " + CLASS[cell.state];
    td.textContent = cell.state === "trying" ? SYMBOL.trying + cell.attempts : SYMBOL[cell.state];
    td.title = `${label(student)} · ${shortName(key)}: ${WORD[cell.state]}` +
      (cell.attempts ? ` (${cell.attempts} attempt${cell.attempts > 1 ? "s" : ""})` : "");
  }

  function fillServer(td, student) {
    const server = (state.servers || {})[student] || { state: "unknown" };
    const [symbol, word] = SERVER[server.state] || SERVER.unknown;
    td.textContent = symbol;
    td.title = "server " + word;
    td.className = "server " + server.state;
  }

  function drawGrid() {
    const head = $("grid").tHead, body = $("grid").tBodies[0];
    head.replaceChildren();
    body.replaceChildren();
    const top = head.insertRow(), names = head.insertRow();
    const corner = el("th", "Student", "name");
    corner.rowSpan = 2;
    const serverHead = el("th", "server", "check");
    serverHead.rowSpan = 2;
    top.append(corner, serverHead);
    for (const ch of state.chapters) {
      const th = el("th", "Ch. " + ch.chapter, "chapter");
      th.colSpan = ch.checks.length;
      top.append(th);
      for (const c of ch.checks) {
        const name = el("th", c.short, "check");
        name.title = c.name;
        names.append(name);
      }
    }
    for (const student of state.roster) {
      const tr = body.insertRow();
      tr.dataset.student = student;
      const th = el("th", null, "name");
      th.append(el("button", label(student), "who"));
      th.firstChild.addEventListener("click", () => openDetail(student));
      tr.append(th, el("td"));
      for (const key of keys()) {
        const td = el("td");
        td.dataset.key = key;
        tr.append(td);
      }
      drawRow(student);
    }
  }

  function drawRow(student) {
    const tr = [...$("grid").tBodies[0].rows].find((row) => row.dataset.student === student);
    if (!tr) return;
    const cells = state.cells[student] || {};
    fillServer(tr.cells[1], student);
    keys().forEach((key, i) => fillCell(tr.cells[i + 2], cells[key] || { state: "not tried", attempts: 0 }, student, key));
  }

  function drawHelp() {
    $("rule").textContent = state.rule;
    const list = $("help");
    list.replaceChildren();
    const byStudent = new Map();
    for (const item of state.needs_help) {
      if (!byStudent.has(item.student)) byStudent.set(item.student, []);
      byStudent.get(item.student).push(item);
    }
    for (const [student, items] of byStudent) {
      const li = el("li");
      const who = el("button", label(student), "who");
      who.addEventListener("click", () => openDetail(student));
      const failing = items.filter((i) => i.reason === "failing");
      const parts = failing.length ? ["✗ " + failing.map((i) => `${i.short} ×${i.failures}`).join(", ")] : [];
      for (const i of items) if (i.reason === "quiet") parts.push("⏸ " + i.text);
      li.append(who, el("span", " " + parts.join("; ")));
      li.title = items.map((i) => i.text).join("\n");
      list.append(li);
    }
    if (!state.needs_help.length) list.append(el("li", "No one, right now.", "none"));
    if (state.hub_ok === false) list.append(el("li", "The hub is not answering: server states may be old.", "warn"));
  }

  function drawServerLine(student) {
    const server = (state.servers || {})[student] || { state: "unknown" };
    const memory = server.memory != null ? bytes(server.memory) : server.state === "stopped" ? "—" : "unknown";
    const line = $("detail-server");
    line.textContent = `Server: ${(SERVER[server.state] || SERVER.unknown)[1]} · ` +
      `memory ${memory} · last activity ${clock(server.last_activity)}`;
    line.title = server.memory == null ? state.memory_note || "" : "";
  }

  function drawDetail(data) {
    if (data.student !== shown) return;
    $("detail").hidden = false;
    $("detail-name").textContent = label(data.student);
    drawServerLine(data.student);
    const last = data.last;
    $("detail-last").textContent = last
      ? `${last.short} (chapter ${last.chapter}) at ${clock(last.t)}: ${result(last)[1]}`
      : "No check has run yet.";
    $("detail-feedback").textContent = last && last.feedback ? last.feedback : "";
    const body = $("detail-attempts").tBodies[0];
    body.replaceChildren();
    for (const a of [...data.attempts].reverse()) {
      const tr = body.insertRow();
      const [symbol, word, cls] = result(a);
      tr.append(el("td", clock(a.t)), el("td", a.short), el("td", symbol, "cell " + cls));
      tr.title = a.feedback || word;
    }
  }

  function result(a) {
    if (a.solution) return ["S", "the solution's run", "solution"];
    if (!a.attempted) return ["·", "not attempted yet", "not-tried"];
    return a.ok ? ["✓", "passed", "passed"] : ["✗", "not passed", "trying"];
  }

  async function openDetail(student, reveal = true) {
    shown = student;
    try {
      const answer = await fetch("api/student/" + encodeURIComponent(student), {
        headers: { "X-XSRFToken": xsrf }, credentials: "same-origin" });
      if (answer.ok) drawDetail(await answer.json());
      if (reveal) $("detail").scrollIntoView({ block: "nearest" });
    } catch (err) { /* the stream's reconnection shows the problem */ }
  }

  function drawAll() {
    drawGrid();
    drawHelp();
    if (shown) openDetail(shown, false);
  }

  function setConn(live) {
    $("conn").textContent = live ? "live" : "reconnecting…";
    $("conn").className = "conn " + (live ? "on" : "off");
  }

  // Each answer of api/stream ends once it has news (the hub's proxy passes on only whole
  // answers), and EventSource asks again at once, sending the id of the last message it got.
  function connect() {
    const source = new EventSource("api/stream?_xsrf=" + encodeURIComponent(xsrf));
    let quiet = null;
    source.onopen = () => { clearTimeout(quiet); setConn(true); };
    source.addEventListener("state", (e) => { state = JSON.parse(e.data); setConn(true); drawAll(); });
    source.addEventListener("row", (e) => {
      const msg = JSON.parse(e.data);
      if (!state) return;
      state.cells[msg.student] = msg.cells;
      drawRow(msg.student);
      if (msg.student === shown) openDetail(shown, false);
    });
    source.addEventListener("status", (e) => {
      if (!state) return;
      Object.assign(state, JSON.parse(e.data));
      drawHelp();
      state.roster.forEach(drawRow);
      if (shown) drawServerLine(shown);
    });
    source.onerror = () => {
      clearTimeout(quiet);
      if (source.readyState === EventSource.CLOSED) {
        setConn(false);
        setTimeout(recover, 3000);
      } else { // a normal end of one answer: say so only if the next one is long in coming
        quiet = setTimeout(() => { if (source.readyState !== EventSource.OPEN) setConn(false); }, 15000);
      }
    };
  }

  // The stream was refused (the service restarting, or the sign-in expired): sign in again
  // when the service says 403 (at most once a minute), otherwise open a new stream.
  async function recover() {
    try {
      const answer = await fetch("api/state", { headers: { "X-XSRFToken": xsrf }, credentials: "same-origin" });
      const last = Number(sessionStorage.getItem("live.reload") || 0);
      if (answer.status === 403 && Date.now() - last > 60000) {
        sessionStorage.setItem("live.reload", String(Date.now()));
        location.reload();
        return;
      }
    } catch (err) { /* not reachable yet: try the stream again */ }
    connect();
  }

  $("hide").checked = hide;
  $("hide").addEventListener("change", () => {
    hide = $("hide").checked;
    localStorage.setItem("live.hide", hide ? "1" : "0");
    if (state) drawAll();
  });
  $("detail-close").addEventListener("click", () => { shown = null; $("detail").hidden = true; });
  $("csv").href = "report.csv?_xsrf=" + encodeURIComponent(xsrf);
  connect();
})();
