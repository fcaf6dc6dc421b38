// mnemo inspector: plain JavaScript over the public REST API, with the caller's key.
// Every text from the API is set as text, never as HTML.
"use strict";

const KEY = "mnemo.key";

/** Creates an element with attributes (`on*` are listeners) and children (strings or nodes). */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
    else if (name === "style") Object.assign(node.style, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replaces a node's children; arrays among them are spread, empty ones skipped. */
function setChildren(node, ...children) {
  node.replaceChildren(
    ...children.flat(Infinity).filter((c) => c !== undefined && c !== null && c !== false),
  );
}

const enc = encodeURIComponent;
const main = () => document.getElementById("main");

/** An API failure, with the error's code and message as the API gave them. */
class ApiFailure extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Sends a request with the stored key; answers the response or throws an ApiFailure. */
async function send(method, path, body) {
  const headers = {};
  const key = sessionStorage.getItem(KEY);
  if (key) headers.Authorization = "Bearer " + key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  try {
    return await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiFailure(0, "network", "the server did not answer: " + e.message);
  }
}

/** Calls the API with the stored key; answers the JSON body or throws an ApiFailure. */
async function api(method, path, body) {
  const response = await send(method, path, body);
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (_) {
      data = { error: { code: "unreadable", message: text.slice(0, 200) } };
    }
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiFailure(
      response.status,
      error.code || String(response.status),
      error.message || response.statusText,
    );
  }
  return data;
}

/** Fetches a file with the stored key and hands it to the browser as a download named
 * `filename`; answers its text. */
async function download(path, filename) {
  const response = await send("GET", path);
  if (!response.ok) {
    await api("GET", path); // throws the API's coded error
  }
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10000);
  return blob.text();
}

function showError(error) {
  const box = document.getElementById("errors");
  const code = error instanceof ApiFailure ? error.code : "error";
  const status = error instanceof ApiFailure && error.status ? ` (${error.status})` : "";
  setChildren(box,
    el("p", {}, el("strong", { class: "error-code" }, code), status, ": ",
      el("span", { class: "error-message" }, error.message)),
  );
  box.hidden = false;
  box.focus();
}

function clearError() {
  const box = document.getElementById("errors");
  box.hidden = true;
  setChildren(box);
}

/** Runs an action, showing its failure instead of losing it. */
async function attempt(action) {
  clearError();
  try {
    return await action();
  } catch (error) {
    showError(error);
    return undefined;
  }
}

const day = (rfc3339) => (rfc3339 ? rfc3339.replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, " UTC") : "");
const round3 = (x) => (typeof x === "number" ? x.toFixed(3) : "");
const userPath = (user) => `/v1/users/${enc(user)}`;

// ---- views ------------------------------------------------------------------------------

async function viewUsers() {
  const data = await api("GET", "/v1/users");
  const list = el("ul", { id: "users" },
    data.users.map((u) => el("li", {}, el("a", { href: `#/users/${enc(u)}` }, u))));
  setChildren(main(),
    el("h1", {}, "Users"),
    data.users.length ? list : el("p", { class: "muted" }, "No user has stored memory yet."),
  );
}

function userNav(user) {
  const nav = document.getElementById("user-nav");
  const base = `#/users/${enc(user)}`;
  setChildren(nav,
    el("a", { href: base }, "Sessions"),
    el("a", { href: `${base}/search` }, "Search"),
    el("a", { href: `${base}/persona` }, "Persona"),
    el("a", { href: `${base}/audit` }, "Audit log"),
    el("a", { href: `${base}/erase` }, "Export and erase"),
  );
  nav.hidden = false;
}

async function viewUser(user) {
  userNav(user);
  const timeline = el("ol", { class: "timeline", id: "timeline" });
  const more = el("button", { type: "button", class: "secondary", id: "more-sessions" }, "More sessions");
  let after = null;
  const load = async () => {
    const query = after ? `?limit=50&after=${enc(after)}` : "?limit=50";
    const page = await api("GET", `${userPath(user)}/sessions${query}`);
    for (const s of page.sessions) {
      timeline.append(el("li", {},
        el("div", { class: "row" },
          el("time", { datetime: s.started_at }, day(s.started_at)),
          el("a", { href: `#/users/${enc(user)}/sessions/${enc(s.session_id)}` }, s.title || s.session_id),
          s.title ? el("span", { class: "muted" }, s.session_id) : null,
          el("span", { class: "tag" }, s.status)),
        el("div", { class: "muted" }, `${s.turn_count} turns, ${s.unit_count} units`)));
    }
    after = page.next_after;
    more.hidden = !after;
  };
  more.addEventListener("click", () => attempt(load));
  setChildren(main(), el("h1", {}, user), el("h2", {}, "Sessions by time"), timeline, more);
  await load();
}

const GRANULARITIES = ["summary", "keywords", "fact", "session", "round", "turn"];

function unitCard(user, u) {
  return el("div", { class: "card unit", "data-unit": u.unit_id },
    el("div", { class: "row" },
      el("a", { href: `#/users/${enc(user)}/units/${u.unit_id}` }, `unit ${u.unit_id}`),
      el("span", { class: "tag" }, u.granularity),
      el("span", { class: "muted" }, `${u.producer}${u.producer_model ? " " + u.producer_model : ""}, version ${u.version}`)),
    el("p", { class: "text" }, u.text));
}

function textEditor(label, initial, onSave) {
  const id = "edit-" + Math.random().toString(36).slice(2);
  const area = el("textarea", { id }, initial);
  area.value = initial;
  const form = el("form", { class: "stack editor" },
    el("label", { for: id }, label), area,
    el("div", { class: "row" },
      el("button", { type: "submit" }, "Save"),
      el("button", { type: "button", class: "secondary", onclick: () => form.remove() }, "Cancel")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(() => onSave(area.value));
  });
  return form;
}

async function viewSession(user, sessionId) {
  userNav(user);
  const session = await api("GET", `${userPath(user)}/sessions/${enc(sessionId)}`);
  const units = await api("GET", `${userPath(user)}/units?session_id=${enc(sessionId)}&limit=1000`);
  const turnsPath = `${userPath(user)}/sessions/${enc(sessionId)}/turns`;
  const turnRows = session.turns.map((t) => {
    const cell = el("td", { class: "text" }, t.text);
    const edit = el("button", { type: "button", class: "secondary" }, "Edit");
    const remove = el("button", { type: "button", class: "danger" }, "Delete");
    edit.addEventListener("click", () => {
      cell.append(textEditor(`New text of turn ${t.turn_id}`, t.text, async (text) => {
        await api("PATCH", `${turnsPath}/${t.turn_id}`, { text });
        await render();
      }));
    });
    remove.addEventListener("click", () => attempt(async () => {
      if (!window.confirm(`Delete turn ${t.turn_id}? The session is rebuilt.`)) return;
      await api("DELETE", `${turnsPath}/${t.turn_id}`);
      await render();
    }));
    return el("tr", { "data-turn": t.turn_id },
      el("td", { class: "num" }, t.position),
      el("td", {}, t.speaker, el("div", { class: "muted" }, t.role)),
      cell,
      el("td", { class: "muted" }, t.external_id || ""),
      el("td", {}, el("div", { class: "row" }, edit, remove)));
  });
  const groups = GRANULARITIES.map((g) => {
    const of = units.units.filter((u) => u.granularity === g);
    if (!of.length) return null;
    return el("section", { "aria-label": `${g} units` },
      el("h3", {}, `${g} (${of.length})`), of.map((u) => unitCard(user, u)));
  });
  setChildren(main(),
    el("h1", {}, session.title || session.session_id),
    el("p", { class: "row" },
      el("span", {}, "Started ", el("time", { datetime: session.started_at }, day(session.started_at))),
      el("span", { class: "tag", id: "build-status" }, session.status),
      el("span", { class: "muted" }, `session ${session.session_id}`)),
    el("h2", {}, "Turns"),
    el("div", { class: "scroll" },
      el("table", { id: "turns" },
        el("thead", {}, el("tr", {}, ["#", "Speaker", "Text", "Id", ""].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, turnRows))),
    el("h2", {}, "Memory units"),
    groups,
  );
}

async function viewUnit(user, unitId) {
  userNav(user);
  const path = `${userPath(user)}/units/${unitId}`;
  const unit = await api("GET", path);
  const history = await api("GET", `${path}/history`);
  const body = el("div", { id: "unit-body" });
  const edit = el("button", { type: "button", class: "secondary", id: "unit-edit" }, "Edit text");
  const remove = el("button", { type: "button", class: "danger", id: "unit-delete" }, "Delete unit");
  edit.addEventListener("click", () => {
    body.append(textEditor(`New text of unit ${unitId}`, unit.text, async (text) => {
      await api("PATCH", path, { text });
      await render();
    }));
  });
  remove.addEventListener("click", () => attempt(async () => {
    if (!window.confirm(`Delete unit ${unitId}? It stays in its history.`)) return;
    await api("DELETE", path);
    window.location.hash = `#/users/${enc(user)}/sessions/${enc(unit.session_id)}`;
  }));
  body.append(
    el("p", { class: "text", id: "unit-text" }, unit.text),
    el("p", { class: "row" },
      el("span", { class: "tag" }, unit.granularity),
      el("span", {}, "session ", el("a", { href: `#/users/${enc(user)}/sessions/${enc(unit.session_id)}` }, unit.session_id)),
      el("span", { class: "muted" }, `event time ${day(unit.event_time)}`),
      el("span", { class: "muted" }, `${unit.producer}, version ${unit.version}`)),
    el("div", { class: "row" }, edit, remove));
  setChildren(main(),
    el("h1", {}, `Unit ${unit.unit_id}`),
    body,
    el("h2", {}, "Provenance turns"),
    el("ul", {}, unit.turns.map((t) =>
      el("li", {}, `${t.speaker} (${t.role})`, t.external_id ? ` ${t.external_id}` : "",
        el("span", { class: "muted" }, ` written by ${t.writer} via ${t.channel}`)))),
    el("h2", {}, "Associated units"),
    (unit.links || []).length
      ? el("ul", { id: "links" }, unit.links.map((l) =>
        el("li", {}, el("a", { href: `#/users/${enc(user)}/units/${l.unit_id}` }, `unit ${l.unit_id}`),
          el("span", { class: "muted" }, ` similarity ${round3(l.weight)}`))))
      : el("p", { class: "muted" }, "No association links."),
    el("h2", {}, "History"),
    el("ol", { id: "history" }, history.versions.map((v) =>
      el("li", {}, el("strong", {}, `${v.action} (version ${v.version})`),
        el("span", { class: "muted" }, ` ${day(v.at)} by ${v.actor}, ${v.producer}`),
        el("div", { class: "text" }, v.text)))),
  );
}

/** Scores of each signal drawn as bars, each scaled by its largest value in the results. */
function scoreBars(scores, largest) {
  const signals = ["dense", "lexical", "session_prior", "graph", "fused"];
  return el("div", { class: "bars" }, signals.flatMap((name) => {
    const value = scores[name];
    const has = typeof value === "number";
    const share = has && largest[name] > 0 ? Math.max(0, value / largest[name]) : 0;
    return [
      el("span", {}, name.replace("_", " ")),
      el("div", {
        class: "bar", role: "meter", "aria-label": `${name} score`,
        "aria-valuemin": 0, "aria-valuemax": 1, "aria-valuenow": share.toFixed(3),
      }, el("span", { style: { width: `${(share * 100).toFixed(1)}%` } })),
      el("span", { class: "num" }, has ? round3(value) : "none"),
    ];
  }));
}

function toRfc3339(local) {
  return local ? new Date(local).toISOString() : undefined;
}

async function viewSearch(user) {
  userNav(user);
  const results = el("div", { id: "results", "aria-live": "polite" });
  const form = el("form", { class: "inline", id: "search-form" },
    el("label", { class: "grow" }, "Query", el("input", { name: "query", required: true, id: "search-query" })),
    el("label", {}, "Strategy", el("select", { name: "strategy", id: "search-strategy" },
      el("option", { value: "" }, "default"), el("option", { value: "memgas" }, "memgas"),
      el("option", { value: "hybrid" }, "hybrid"))),
    el("label", {}, "Granularities", el("select", { name: "granularity", id: "search-granularity" },
      el("option", { value: "" }, "default"), el("option", { value: "all" }, "all"),
      GRANULARITIES.map((g) => el("option", { value: g }, g)))),
    el("label", {}, "From", el("input", { name: "from", type: "datetime-local" })),
    el("label", {}, "Before", el("input", { name: "to", type: "datetime-local" })),
    el("label", {}, "Results", el("input", { name: "top_k", type: "number", min: 1, max: 100, value: 10 })),
    el("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(async () => {
      const f = new FormData(form);
      const body = {
        query: f.get("query"),
        top_k: Number(f.get("top_k")) || 10,
        explain: true,
        strategy: f.get("strategy") || undefined,
        granularities: f.get("granularity") === "all" ? GRANULARITIES
          : f.get("granularity") ? [f.get("granularity")] : undefined,
        time_from: toRfc3339(f.get("from")),
        time_to: toRfc3339(f.get("to")),
      };
      const answer = await api("POST", `${userPath(user)}/search`, body);
      renderResults(user, answer, results);
    });
  });
  setChildren(main(), el("h1", {}, `Search ${user}'s memory`), form, results);
}

function renderResults(user, answer, into) {
  const largest = {};
  for (const r of answer.results) {
    for (const [name, value] of Object.entries(r.scores)) {
      if (typeof value === "number") largest[name] = Math.max(largest[name] || 0, value);
    }
  }
  const router = (answer.router || []).length
    ? el("div", { class: "scroll" }, el("table", { id: "router" },
      el("caption", {}, "Router: weight and entropy per granularity"),
      el("thead", {}, el("tr", {}, ["Granularity", "Units", "Entropy", "Normalised", "Weight"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, answer.router.map((w) => el("tr", {},
        el("td", {}, w.granularity), el("td", { class: "num" }, w.units),
        el("td", { class: "num" }, round3(w.entropy)), el("td", { class: "num" }, round3(w.normalized_entropy)),
        el("td", {}, el("div", { class: "bars" }, el("span", {}, ""),
          el("div", { class: "bar", role: "meter", "aria-label": `${w.granularity} weight`, "aria-valuemin": 0, "aria-valuemax": 1, "aria-valuenow": round3(w.weight) },
            el("span", { style: { width: `${(w.weight * 100).toFixed(1)}%` } })),
          el("span", { class: "num" }, round3(w.weight)))))))))
    : el("p", { class: "muted" }, "This strategy has no router.");
  const list = answer.results.map((r) => el("div", { class: "card result" },
    el("div", { class: "row" },
      el("strong", {}, `#${r.rank}`),
      el("a", { href: `#/users/${enc(user)}/units/${r.unit_id}` }, `unit ${r.unit_id}`),
      el("span", { class: "tag" }, r.granularity),
      el("a", { href: `#/users/${enc(user)}/sessions/${enc(r.session_id)}` }, r.session_id),
      el("time", { class: "muted", datetime: r.event_time }, day(r.event_time))),
    el("p", { class: "text" }, r.text),
    scoreBars(r.scores, largest)));
  setChildren(into, router, el("h2", {}, `${answer.results.length} results`), list);
}

async function viewPersona(user) {
  userNav(user);
  const persona = await api("GET", `${userPath(user)}/persona?history=true`);
  const bySpeaker = new Map();
  for (const s of persona.statements) {
    if (!bySpeaker.has(s.speaker)) bySpeaker.set(s.speaker, []);
    bySpeaker.get(s.speaker).push(s);
  }
  const sections = [...bySpeaker.entries()].map(([speaker, statements]) => {
    statements.sort((a, b) => a.kind.localeCompare(b.kind) || a.statement_id - b.statement_id);
    return el("section", { "aria-label": `Statements about ${speaker}` },
      el("h2", {}, speaker),
      statements.map((s) => statementCard(user, s)));
  });
  setChildren(main(),
    el("h1", {}, `Persona of ${user}`),
    el("p", { class: "text", id: "persona-summary" }, persona.summary || ""),
    sections.length ? sections : el("p", { class: "muted" }, "No persona statements yet."));
}

function statementCard(user, s) {
  const path = `${userPath(user)}/persona/statements/${s.statement_id}`;
  const card = el("div", { class: "card statement", "data-statement": s.statement_id, "data-status": s.status });
  const history = el("div");
  const buttons = [];
  if (s.status !== "deleted") {
    const edit = el("button", { type: "button", class: "secondary" }, "Edit");
    edit.addEventListener("click", () => card.append(textEditor(`New text of statement ${s.statement_id}`, s.text, async (text) => {
      await api("PATCH", path, { text });
      await render();
    })));
    const remove = el("button", { type: "button", class: "danger" }, "Delete");
    remove.addEventListener("click", () => attempt(async () => {
      if (!window.confirm(`Delete statement ${s.statement_id}? It stays in its history.`)) return;
      await api("DELETE", path);
      await render();
    }));
    buttons.push(edit, remove);
  }
  const show = el("button", { type: "button", class: "secondary" }, "History");
  show.addEventListener("click", () => attempt(async () => {
    const h = await api("GET", `${path}/history`);
    setChildren(history, el("ol", {}, h.versions.map((v) =>
      el("li", {}, el("strong", {}, v.action), ` version ${v.version}, ${day(v.at)} by ${v.actor}: `,
        el("span", { class: "text" }, v.statement.text),
        v.statement.turns.length
          ? el("span", { class: "muted" }, ` (${v.statement.turns.map((t) => `${t.speaker} in ${t.session_id}`).join("; ")})`)
          : ""))));
  }));
  buttons.push(show);
  card.append(
    el("div", { class: "row" },
      el("span", { class: "tag" }, s.kind),
      el("span", { class: "tag" }, s.status),
      el("span", { class: "muted" }, `confidence ${round3(s.confidence)}`),
      el("meter", { min: 0, max: 1, value: s.confidence, "aria-label": "confidence" }),
      el("span", { class: "muted" }, `first seen ${day(s.first_seen)}, last seen ${day(s.last_seen)}, version ${s.version}`)),
    el("p", { class: "text" }, s.text),
    el("div", { class: "row" }, buttons),
    history);
  return card;
}

async function viewAudit(user) {
  userNav(user);
  const rows = el("tbody");
  const more = el("button", { type: "button", class: "secondary", id: "more-audit" }, "More entries");
  const form = el("form", { class: "inline" },
    el("label", {}, "Action", el("input", { name: "action", placeholder: "edit_unit", pattern: "[a-z_]{1,64}" })),
    el("button", { type: "submit" }, "Filter"));
  let after = null;
  let action = "";
  const load = async (fresh) => {
    if (fresh) {
      after = null;
      setChildren(rows);
    }
    const params = new URLSearchParams({ limit: "100" });
    if (after) params.set("after", after);
    if (action) params.set("action", action);
    const page = await api("GET", `${userPath(user)}/audit?${params}`);
    for (const e of page.entries) {
      const change = el("details", {}, el("summary", {}, "before and after"),
        el("pre", { class: "text" }, JSON.stringify({ before: e.before, after: e.after }, null, 2)));
      rows.append(el("tr", {},
        el("td", {}, el("time", { datetime: e.at }, day(e.at))),
        el("td", {}, e.actor), el("td", {}, e.action),
        el("td", {}, e.session_id || ""), el("td", {}, e.unit_id === null ? "" : String(e.unit_id)),
        el("td", {}, e.before === null && e.after === null ? "" : change)));
    }
    after = page.next_after;
    more.hidden = after === null || after === undefined;
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    action = new FormData(form).get("action") || "";
    attempt(() => load(true));
  });
  more.addEventListener("click", () => attempt(() => load(false)));
  setChildren(main(),
    el("h1", {}, `Audit log of ${user}`), form,
    el("div", { class: "scroll" }, el("table", { id: "audit" },
      el("thead", {}, el("tr", {}, ["Time", "Actor", "Action", "Session", "Unit", "Change"].map((h) => el("th", { scope: "col" }, h)))),
      rows)),
    more);
  await load(true);
}

async function viewErase(user) {
  userNav(user);
  const receipt = el("div", { id: "receipt", "aria-live": "polite" });
  const id = "erase-confirm";
  const input = el("input", { id, autocomplete: "off", spellcheck: "false" });
  const button = el("button", { type: "submit", class: "danger", disabled: true, id: "erase-button" }, "Erase this user");
  input.addEventListener("input", () => { button.disabled = input.value !== user; });
  const form = el("form", { class: "stack", id: "erase-form" },
    el("label", { for: id }, `Type the user id, ${user}, to erase every trace of this user. This cannot be undone.`),
    input, el("div", {}, button));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.value !== user) return;
    attempt(async () => {
      const done = await api("DELETE", userPath(user));
      setChildren(receipt, el("h2", {}, "Erasure receipt"),
        el("pre", { class: "text" }, JSON.stringify(done, null, 2)));
      form.remove();
    });
  });
  const exported = el("p", { id: "export-status", "aria-live": "polite" });
  const exportButton = el("button", { type: "button", id: "export-button" }, "Download the archive");
  exportButton.addEventListener("click", () => attempt(async () => {
    const name = `mnemo-${user}.jsonl`;
    const text = await download(`${userPath(user)}/export`, name);
    const lines = text.split("\n").filter((l) => l.trim() !== "");
    const sessions = lines.filter((l) => JSON.parse(l).type === "session").length;
    exported.textContent = `Downloaded ${name}: ${lines.length} lines, ${sessions} sessions.`;
  }));
  setChildren(main(),
    el("h1", {}, `Export and erase ${user}`),
    el("h2", {}, "Export"),
    el("p", { class: "muted" }, "Everything remembered about this user as a JSON Lines archive (no vectors). " +
      "POST it to /v1/users/{user_id}/import, or run mnemo import archive, to bring it back into an empty user."),
    el("div", {}, exportButton), exported,
    el("h2", {}, "Erase"), form, receipt);
}

// ---- routing ----------------------------------------------------------------------------

const ROUTES = [
  [/^#\/users\/([^/]+)\/sessions\/([^/]+)$/, (u, s) => viewSession(u, s)],
  [/^#\/users\/([^/]+)\/units\/(\d+)$/, (u, id) => viewUnit(u, id)],
  [/^#\/users\/([^/]+)\/search$/, (u) => viewSearch(u)],
  [/^#\/users\/([^/]+)\/persona$/, (u) => viewPersona(u)],
  [/^#\/users\/([^/]+)\/audit$/, (u) => viewAudit(u)],
  [/^#\/users\/([^/]+)\/erase$/, (u) => viewErase(u)],
  [/^#\/users\/([^/]+)$/, (u) => viewUser(u)],
];

async function render() {
  const hash = window.location.hash || "#/users";
  document.getElementById("user-nav").hidden = true;
  clearError();
  for (const [pattern, view] of ROUTES) {
    const match = pattern.exec(hash);
    if (match) {
      const args = match.slice(1).map(decodeURIComponent);
      await attempt(() => view(...args));
      return;
    }
  }
  await attempt(viewUsers);
}

function setUpKey() {
  const form = document.getElementById("key-form");
  const input = document.getElementById("key-input");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (key) sessionStorage.setItem(KEY, key);
    input.value = "";
    input.placeholder = key ? "key in use" : "mnemo_...";
    render();
  });
  document.getElementById("key-forget").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    input.placeholder = "mnemo_...";
    render();
  });
  if (sessionStorage.getItem(KEY)) input.placeholder = "key in use";
}

window.addEventListener("hashchange", render);
window.addEventListener("DOMContentLoaded", () => {
  setUpKey();
  render();
});
