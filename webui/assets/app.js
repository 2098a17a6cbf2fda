// Cairn inspector: a small single-page app over kvtool ui's JSON API
// (/api/...). Plain script, no build step, no network beyond this server.
// Every value from the store is put into the page as text, never as HTML.
"use strict";

// ---- DOM and formatting helpers -------------------------------------------

// h builds an element: h("a", {href: "#/"}, "text", child, ...). Attributes
// named on* take functions (event handlers); strings become text nodes.
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function bytes(n) {
  if (n === undefined || n === null) return "…";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? String(n) : n.toFixed(1)) + " " + units[i];
}

function num(n) { return n === undefined || n === null || n < 0 ? "?" : Number(n).toLocaleString("en"); }

// ago says how long before now (both Dates) t was.
function ago(t, now) {
  const sec = Math.round((now - t) / 1000);
  if (isNaN(sec)) return "";
  if (sec < 0) return "in the future";
  const steps = [[60, "second"], [60, "minute"], [24, "hour"], [30, "day"], [12, "month"]];
  let v = sec;
  for (const [size, name] of steps) {
    if (v < size) return v + " " + name + (v === 1 ? "" : "s") + " ago";
    v = Math.floor(v / size);
  }
  return v + " year" + (v === 1 ? "" : "s") + " ago";
}

// cell renders one summary value for a table cell.
function cell(v) {
  if (v === undefined || v === null) return "–";
  if (Array.isArray(v)) return v.map(String).join(", ");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function docLink(coll, id, text) {
  return h("a", {href: "#/d/" + encodeURIComponent(coll) + "/" + encodeURIComponent(id)}, text === undefined ? id : text);
}

// title picks what names a document in a list: its name or title.
function title(sum) {
  if (!sum) return "";
  return sum.name || sum.title || "";
}

// ---- the API ----------------------------------------------------------------

class APIError extends Error {
  constructor(status, body) {
    super(body.error || ("HTTP " + status));
    this.status = status;
    this.kind = body.kind || "error";
  }
}

// ---- access token ----------------------------------------------------------

// The API needs the access token in a header. kvtool ui's first answer
// puts it in the address's fragment (#token=...), which no request
// carries; the page keeps it in this origin's storage, which browsers keep
// apart by port (a cookie of 127.0.0.1 goes to every port), and drops it
// from the address bar.
const tokenKey = "cairn-ui-token";
let pageToken = null; // when the storage refuses it (a private window, say)
{
  const m = /^#token=([0-9a-f]+)$/.exec(location.hash);
  if (m) {
    try { localStorage.setItem(tokenKey, m[1]); } catch (e) { pageToken = m[1]; }
    history.replaceState(null, "", location.pathname + location.search + "#/");
  }
}

function authHeaders(extra) {
  let t = pageToken;
  if (!t) { try { t = localStorage.getItem(tokenKey); } catch (e) { t = null; } }
  return Object.assign(t ? {"Authorization": "Bearer " + t} : {}, extra || {});
}

async function api(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (Array.isArray(v)) v.forEach(x => q.append(k, x));
    else if (v !== undefined && v !== null && v !== "") q.append(k, v);
  }
  const qs = q.toString();
  return answer(await fetch("/api/" + path + (qs ? "?" + qs : ""), {headers: authHeaders()}));
}

async function post(path, body) {
  return answer(await fetch("/api/" + path, {
    method: "POST",
    headers: authHeaders({"Content-Type": "application/json"}), body: JSON.stringify(body || {}),
  }));
}

async function answer(res) {
  let body;
  try { body = await res.json(); } catch (e) {
    if (res.status === 401) throw new APIError(401, {error: "This page needs its access token: open the URL kvtool ui printed.", kind: "token"});
    throw new APIError(res.status, {error: "HTTP " + res.status + " " + res.statusText});
  }
  if (!res.ok) throw new APIError(res.status, body);
  return body;
}

// ---- views and routing ----------------------------------------------------

const main = () => document.getElementById("main");

// The current view: its render function and parameters. A render replaces
// #main; stale answers of an earlier render are dropped (renderSeq).
let current = null;
let renderSeq = 0;

function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, qs] = hash.split("?");
  const params = Object.fromEntries(new URLSearchParams(qs || ""));
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  let view;
  switch (parts[0]) {
    case undefined: view = {name: "collections", render: viewCollections}; break;
    case "c": view = {name: "collections", render: viewList, coll: parts[1]}; break;
    case "d": view = {name: "collections", render: viewDoc, coll: parts[1], id: parts.slice(2).join("/")}; break;
    case "query": view = {name: "query", render: viewQuery}; break;
    case "search": view = {name: "search", render: viewSearch}; break;
    case "backups": view = {name: "backups", render: viewBackups}; break;
    case "check": view = {name: "check", render: viewCheck}; break;
    case "stats": view = {name: "stats", render: viewStats}; break;
    default: view = {name: "", render: () => [h("p", {}, "No such page: " + hash)]};
  }
  view.params = params;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.nav === view.name);
  current = view;
  render(true);
}

// render runs the current view. fresh: the user navigated (else: a live
// refresh, which keeps what the user typed and where the page scrolled).
async function render(fresh) {
  const seq = ++renderSeq;
  const view = current;
  try {
    const nodes = await view.render(view, fresh);
    if (seq !== renderSeq) return;
    if (nodes) {
      const m = main();
      const y = window.scrollY;
      m.replaceChildren(...[nodes].flat());
      if (!fresh) window.scrollTo(0, y);
    }
    view.failed = null;
    banner(null);
  } catch (e) {
    if (seq !== renderSeq) return;
    view.failed = e;
    showError(e, fresh);
  }
}

// showError says what went wrong: a locked store is a banner above the
// page (retried on every poll), anything else replaces the page.
function showError(e, fresh) {
  if (e.kind === "indexing") {
    banner("The search index is being rebuilt, after a restore or a reindex. This page asks again every few seconds; between asks the store is free for the application.");
    const form = current.name === "search" && current.form ? [h("h1", {}, "Search"), current.form] : [];
    main().replaceChildren(...form, h("p", {class: "muted", id: "index-waiting"}, "Waiting for the search index…"));
    return;
  }
  if (e.kind === "locked") {
    banner("The store is in use by another process, so it cannot be read now (" + e.message + "). This page retries every few seconds.");
    if (fresh) main().replaceChildren(h("p", {class: "muted"}, "Waiting for the store…"));
    return;
  }
  banner(null);
  main().replaceChildren(errorBox(e));
}

function errorBox(e) {
  const box = h("div", {class: "error", role: "alert"}, h("strong", {}, "Error: "), e.message);
  if (e.kind === "corrupt") append(box, [" ", h("a", {href: "#/backups"}, "Restore a backup"), " or ", h("a", {href: "#/check"}, "run a check"), "."]);
  if (e.kind === "no-store") append(box, [" (kvtool ui serves an existing store: check --db.)"]);
  return box;
}

function banner(text) {
  const b = document.getElementById("banner");
  b.hidden = !text;
  b.textContent = text || "";
}

// ---- live updates: the one place that watches the store -------------------
// The page polls /api/version (the data file's identity, size and time,
// read without opening the store) and re-renders the current view when it
// changes, or when the last render failed because the store was busy. A
// change feed would replace this object and nothing else.

const live = {
  interval: 2000,
  version: null,
  timer: null,
  start() { this.tick(); document.addEventListener("visibilitychange", () => { if (!document.hidden) this.tick(); }); },
  async tick() {
    clearTimeout(this.timer);
    const st = document.getElementById("status");
    try {
      const v = await api("version");
      const changed = this.version !== null && v.version !== this.version;
      this.version = v.version;
      st.textContent = "live · " + v.store;
      st.className = "status ok";
      if (current && (changed || (current.failed && current.failed.kind !== "bad-request" && current.failed.kind !== "not-found"))) {
        if (current.live !== false) render(false);
        else if (changed && current.onChange) current.onChange();
      }
    } catch (e) {
      st.textContent = e.kind === "token" ? "no access token" : "kvtool ui is not answering";
      st.className = "status bad";
    }
    if (!document.hidden) this.timer = setTimeout(() => this.tick(), this.interval);
  },
};

// ---- collections ------------------------------------------------------------

async function viewCollections() {
  const data = await api("collections");
  const rows = data.collections.map(c => h("tr", {"data-name": c.name},
    h("td", {}, c.singleton ? docLink(c.name, c.name, c.name) : h("a", {href: "#/c/" + encodeURIComponent(c.name)}, c.name)),
    h("td", {class: "num count"}, num(c.count)),
    h("td", {class: "num size"}, bytes(c.logical_bytes)),
    h("td", {class: "muted"}, c.singleton ? "singleton" : "")));
  const table = h("table", {id: "collections"},
    h("thead", {}, h("tr", {}, h("th", {}, "collection"), h("th", {class: "num"}, "documents"), h("th", {class: "num"}, "size (JSON)"), h("th", {}, ""))),
    h("tbody", {}, rows));
  return [h("h1", {}, "Collections"), h("p", {class: "muted"}, "Store: ", data.store), table,
    h("p", {class: "muted"}, "Counts and sizes come from the metadata summaries; the sizes as stored (compressed) are on the ", h("a", {href: "#/stats"}, "stats"), " page, which reads every record.")];
}

// ---- one collection's summaries ---------------------------------------------

const pageSize = 50;

// columns orders a page's summary fields: id, then the collection's fields
// in a useful order, then the rest, with rev and size last.
function columns(rows) {
  const first = ["id", "name", "title", "status", "priority", "done", "startTime", "endTime", "dueDate", "timestamp", "lastUpdated", "type", "mimeType", "fileSize", "tags", "screenshotCount", "audioSegmentCount"];
  const seen = new Set();
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
  const out = first.filter(k => seen.has(k));
  for (const k of [...seen].sort()) if (!out.includes(k) && k !== "rev" && k !== "size" && k !== "hash") out.push(k);
  for (const k of ["rev", "size"]) if (seen.has(k)) out.push(k);
  return out;
}

// summaryTable shows summaries; with onSort, the columns named in sortable
// (as the server lists them) sort the page.
function summaryTable(coll, rows, sort, onSort, sortable) {
  const cols = columns(rows);
  const head = cols.map(c => {
    if (!onSort || !sortable.includes(c)) return h("th", {}, c);
    const field = sort.replace(/^-/, "");
    const desc = sort.startsWith("-");
    const active = field === c || (c === "id" && field === "");
    const next = active && !desc ? "-" + c : c;
    return h("th", {class: "sortable" + (active ? " active" : "")},
      h("a", {href: "#", title: "sort by " + c, onclick: ev => { ev.preventDefault(); onSort(next === "id" ? "" : next); }},
        c, active ? (desc ? " ▼" : " ▲") : ""));
  });
  const body = rows.map(r => h("tr", {}, cols.map(c => {
    if (c === "id") return h("td", {class: "id"}, docLink(coll, r.id));
    const v = r[c];
    const cls = typeof v === "number" ? "num" : "";
    return h("td", {class: cls}, c === "size" || c === "fileSize" ? bytes(v) : cell(v));
  })));
  if (rows.length === 0) return h("p", {class: "muted"}, "No documents.");
  return h("table", {class: "summaries"}, h("thead", {}, h("tr", {}, head)), h("tbody", {}, body));
}

function pager(offset, count, total, go) {
  const last = total >= 0 ? total : offset + count + (count === pageSize ? 1 : 0);
  return h("div", {class: "pager"},
    h("button", {disabled: offset === 0, onclick: () => go(Math.max(0, offset - pageSize))}, "‹ previous"),
    h("span", {}, count === 0 ? "none" : num(offset + 1) + "–" + num(offset + count) + (total >= 0 ? " of " + num(total) : "")),
    h("button", {disabled: offset + count >= last, onclick: () => go(offset + pageSize)}, "next ›"));
}

async function viewList(view) {
  const coll = view.coll;
  const sort = view.params.sort || "";
  const offset = Number(view.params.offset || 0);
  const go = (sort, offset) => { location.hash = "#/c/" + encodeURIComponent(coll) + "?" + new URLSearchParams({sort, offset}); };
  const page = await api("list", {c: coll, sort, offset, limit: pageSize});
  return [
    h("h1", {}, h("a", {href: "#/"}, "Collections"), " / ", coll),
    h("p", {class: "muted"}, num(page.total) + " documents · metadata summaries, no document decoded · ",
      h("a", {href: "#/query?" + new URLSearchParams({c: coll})}, "query this collection")),
    summaryTable(coll, page.rows, sort, s => go(s, 0), page.sortable),
    pager(offset, page.rows.length, page.total, o => go(sort, o)),
  ];
}

// ---- one document -----------------------------------------------------------

async function viewDoc(view, fresh) {
  const {coll, id} = view;
  const d = await api("doc", {c: coll, id});
  const out = [
    h("h1", {}, h("a", {href: "#/c/" + encodeURIComponent(coll)}, coll), " / ", h("span", {class: "id"}, id)),
    h("p", {class: "muted"}, "revision " + d.rev),
  ];
  if (coll === "attachments") out.push(preview(id));
  out.push(h("pre", {class: "json", id: "doc-json"}, d.json));
  // Large parts and the edit box keep their state across live refreshes.
  if (fresh || !view.extra) view.extra = [partsSection(coll, id), editSection(coll, id)];
  view.extra[1].setRev(d.rev);
  out.push(...view.extra.map(x => x.el));
  return out;
}

// An attachment's image needs the token too, which an <img src> cannot
// send: it is fetched with it and shown from a blob: URL (lazily: once
// near the view, where the browser can tell).
const imageObserver = "IntersectionObserver" in window ? new IntersectionObserver(entries => {
  for (const e of entries) {
    if (e.isIntersecting) { imageObserver.unobserve(e.target); loadImage(e.target); }
  }
}, {rootMargin: "200px"}) : null;

function attachmentImage(attrs, id, lazy) {
  const img = h("img", attrs);
  img.dataset.attachment = id;
  if (lazy && imageObserver) imageObserver.observe(img);
  else loadImage(img);
  return img;
}

async function loadImage(img) {
  try {
    const res = await fetch("/api/attachment?" + new URLSearchParams({id: img.dataset.attachment}), {headers: authHeaders()});
    if (!res.ok) throw new Error("HTTP " + res.status);
    const url = URL.createObjectURL(await res.blob());
    const done = () => URL.revokeObjectURL(url);
    img.addEventListener("load", done, {once: true});
    img.addEventListener("error", done, {once: true});
    img.src = url;
  } catch (e) {
    img.dispatchEvent(new Event("error"));
  }
}

function preview(id) {
  const img = attachmentImage({class: "preview", alt: "attachment " + id}, id, false);
  img.addEventListener("error", () => img.replaceWith(h("p", {class: "muted"}, "No image preview (not an image, or its content is missing or damaged: a check says which).")));
  return img;
}

// partsSection lists a document's large parts (a session's screenshots,
// audio segments, transcription, ...) and loads each on demand, a page of
// elements at a time.
function partsSection(coll, id) {
  const el = h("section", {class: "parts"}, h("h2", {}, "Large parts"), h("p", {class: "muted"}, "Reading…"));
  api("parts", {c: coll, id}).then(parts => {
    if (parts.length === 0) { el.replaceChildren(); return; }
    el.replaceChildren(h("h2", {}, "Large parts"),
      h("p", {class: "muted"}, "Kept apart from the document so that listing and opening it stay fast; each loads on demand."),
      ...parts.map(p => partRow(coll, id, p)));
  }, e => el.replaceChildren(errorBox(e)));
  return {el};
}

function partRow(coll, id, p) {
  const what = p.type === "array" ? num(p.length) + " elements" : p.type === "string" ? num(p.length) + " bytes of text" : p.type;
  const body = h("div", {class: "part-body"});
  const load = async (offset) => {
    try {
      const r = await api("part", {c: coll, id, field: p.field, offset, limit: 20});
      const nodes = [h("pre", {class: "json"}, r.json)];
      if (p.type === "array") {
        const shown = Math.min(r.offset + 20, r.total);
        nodes.unshift(thumbnails(r.json));
        nodes.push(h("div", {class: "pager"},
          h("button", {disabled: r.offset === 0, onclick: () => load(Math.max(0, r.offset - 20))}, "‹ previous"),
          h("span", {}, num(r.offset + 1) + "–" + num(shown) + " of " + num(r.total)),
          h("button", {disabled: shown >= r.total, onclick: () => load(r.offset + 20)}, "next ›")));
      }
      body.replaceChildren(...nodes);
    } catch (e) { body.replaceChildren(errorBox(e)); }
  };
  const button = h("button", {class: "part", "data-field": p.field, onclick: () => { button.disabled = true; load(0); }}, "show");
  return h("div", {class: "part-row"}, h("strong", {}, p.field), " ", h("span", {class: "muted"}, what + ", " + bytes(p.bytes)), " ", button, body);
}

// thumbnails previews the attachments a page of screenshots refers to.
function thumbnails(json) {
  let items;
  try { items = JSON.parse(json); } catch (e) { return null; }
  const ids = items.map(x => x && x.attachmentId).filter(x => typeof x === "string");
  if (ids.length === 0) return null;
  return h("div", {class: "thumbs"}, ids.map(aid => {
    const img = attachmentImage({alt: aid}, aid, true);
    img.addEventListener("error", () => img.remove());
    return docLink("attachments", aid, img);
  }));
}

// editSection applies a JSON merge patch (RFC 7396) as kvtool patch --rev
// does: it fails if the document changed since the revision shown.
function editSection(coll, id) {
  let rev = 0;
  const area = h("textarea", {rows: 6, spellcheck: "false", "aria-label": "merge patch"}, '{\n  \n}');
  const msg = h("p", {class: "muted"}, "Fields named are set (null removes one); fields not named keep their values. Applied only if the document is still at the revision shown.");
  const apply = h("button", {onclick: async () => {
    apply.disabled = true;
    try {
      const r = await post("patch", {collection: coll, id, rev, patch: area.value});
      msg.textContent = "Saved: revision " + r.rev + ".";
      msg.className = "ok";
      render(false);
    } catch (e) {
      msg.textContent = e.kind === "conflict" ? "Not saved: the document changed since it was shown (" + e.message + "). The page now shows the stored version; apply the patch again if it still holds." : "Not saved: " + e.message;
      msg.className = "error";
      render(false);
    } finally { apply.disabled = false; }
  }}, "Apply patch");
  const el = h("details", {class: "edit"}, h("summary", {}, "Edit (JSON merge patch)"), area, h("div", {}, apply), msg);
  return {el, setRev: r => { rev = r; }};
}

// ---- query builder ------------------------------------------------------------

const ops = [
  ["=", "equals"], ["!=", "differs from"], [">=", "≥"], ["<=", "≤"], [">", ">"], ["<", "<"],
  ["~", "contains words (full text)"], ["in", "is one of (a, b, …)"], ["exists", "exists"], ["!exists", "does not exist"],
];

// whereExpr writes one condition as kvtool query --where takes it.
function whereExpr(field, op, value) {
  field = field.trim();
  if (!field) return "";
  switch (op) {
    case "exists": return field + " exists";
    case "!exists": return field + " !exists";
    case "in": return field + " in (" + value + ")";
    default: return field + op + value;
  }
}

// parseExpr splits a kvtool --where expression back into the form's
// field, operator and value (an expression it cannot split stays whole in
// the field box, which takes any expression).
function parseExpr(w) {
  let m = w.match(/^\s*(\S+)\s+(!?exists)\s*$/);
  if (m) return [m[1], m[2], ""];
  m = w.match(/^\s*(\S+)\s+in\s*\((.*)\)\s*$/);
  if (m) return [m[1], "in", m[2]];
  m = w.match(/^([^=<>!~\s]+)(!=|>=|<=|=|>|<|~)(.*)$/);
  if (m) return [m[1], m[2], m[3]];
  return [w, "=", ""];
}

function shellQuote(s) { return /^[\w@%+=:,./-]+$/.test(s) ? s : "'" + s.replace(/'/g, "'\\''") + "'"; }

let collectionsCache = null;
async function collectionNames() {
  if (!collectionsCache) collectionsCache = (await api("collections")).collections;
  return collectionsCache;
}

async function viewQuery(view, fresh) {
  const p = view.params;
  const colls = (await collectionNames()).filter(c => !c.singleton);
  const coll = p.c || "sessions";
  if (fresh || !view.form) view.form = queryForm(colls, coll, p);
  const nodes = [h("h1", {}, "Query"), view.form];
  if (p.run) {
    const wheres = JSON.parse(p.w || "[]");
    const offset = Number(p.offset || 0);
    const res = await api("query", {c: coll, where: wheres, sort: p.sort || "", offset, limit: pageSize});
    const cmd = ["kvtool", "query", coll, ...wheres.flatMap(w => ["--where", shellQuote(w)]),
      ...(p.sort ? ["--sort", p.sort] : []), "--limit", String(pageSize), ...(offset ? ["--offset", String(offset)] : [])].join(" ");
    const ex = res.explain;
    nodes.push(h("section", {class: "plan", id: "plan"},
      h("h2", {}, "Plan"),
      h("dl", {},
        h("dt", {}, "plan"), h("dd", {class: "plan-kind"}, ex.plan || "–"),
        h("dt", {}, "index"), h("dd", {}, ex.index || "–"),
        h("dt", {}, "index keys read"), h("dd", {}, num(ex.scanned)),
        h("dt", {}, "documents read"), h("dd", {}, num(ex.docs_read)),
        h("dt", {}, "returned"), h("dd", {}, num(ex.returned)),
        ex.detail ? [h("dt", {}, "detail"), h("dd", {}, ex.detail)] : null),
      h("p", {class: "muted"}, "The same query at a terminal: ", h("code", {}, cmd + " --explain"))));
    const go = o => { location.hash = "#/query?" + new URLSearchParams({...p, offset: o}); };
    nodes.push(h("section", {id: "results"}, h("h2", {}, "Results"),
      summaryTable(coll, res.rows, p.sort || "", null), pager(offset, res.rows.length, res.total, go)));
  }
  return nodes;
}

function queryForm(colls, coll, p) {
  const collSel = h("select", {name: "c"}, colls.map(c => h("option", {value: c.name, selected: c.name === coll}, c.name)));
  const rows = h("div", {class: "where-rows"});
  const fields = h("datalist", {id: "fields"});
  const addRow = (field, op, value) => {
    const opSel = h("select", {class: "op"}, ops.map(([o, label]) => h("option", {value: o, selected: o === op}, o + "  " + label)));
    const row = h("div", {class: "where"},
      h("input", {class: "field", list: "fields", placeholder: "field (status, tags, startTime, summary.lastUpdated…)", value: field || ""}),
      opSel,
      h("input", {class: "value", placeholder: "value", value: value || ""}),
      h("button", {type: "button", title: "remove", onclick: () => row.remove()}, "×"));
    rows.append(row);
  };
  for (const w of JSON.parse(p.w || "[]")) addRow(...parseExpr(w));
  if (rows.children.length === 0) addRow("", "=", "");
  const sort = h("input", {name: "sort", list: "fields", placeholder: "sort: field, or -field for descending", value: p.sort || ""});
  const fill = async () => {
    try {
      const page = await api("list", {c: collSel.value, limit: 1});
      fields.replaceChildren(...page.sortable.map(n => h("option", {value: n})));
    } catch (e) { fields.replaceChildren(); }
  };
  collSel.addEventListener("change", fill);
  fill();
  const form = h("form", {class: "query", onsubmit: ev => {
    ev.preventDefault();
    const wheres = [...rows.querySelectorAll(".where")].map(r => {
      const f = r.querySelector(".field").value, op = r.querySelector(".op").value, v = r.querySelector(".value").value;
      // A field box holding a whole expression is taken as is.
      return v === "" && op === "=" && /[=<>~!]| in | exists/.test(f) ? f.trim() : whereExpr(f, op, v);
    }).filter(Boolean);
    location.hash = "#/query?" + new URLSearchParams({c: collSel.value, w: JSON.stringify(wheres), sort: sort.value.trim(), run: "1"});
  }},
    h("label", {}, "collection ", collSel),
    h("div", {class: "muted"}, "Documents matching every condition (dates: 2025-01-01, RFC 3339 or epoch ms; arrays match any element):"),
    rows, fields,
    h("div", {}, h("button", {type: "button", onclick: () => addRow("", "=", "")}, "+ condition"), " ", sort, " ", h("button", {type: "submit", id: "run-query"}, "Run")));
  return form;
}

// ---- search -------------------------------------------------------------------

async function viewSearch(view, fresh) {
  const p = view.params;
  if (fresh || !view.form) {
    const colls = (await collectionNames()).filter(c => !c.singleton);
    const input = h("input", {type: "search", name: "q", placeholder: 'words, "a phrase", -exclude, pre*, typo~, field:word, a OR b', value: p.q || "", autofocus: true});
    const sel = h("select", {name: "c"}, h("option", {value: ""}, "all collections"), colls.map(c => h("option", {value: c.name, selected: c.name === p.c}, c.name)));
    view.form = h("form", {class: "search", onsubmit: ev => {
      ev.preventDefault();
      location.hash = "#/search?" + new URLSearchParams({q: input.value, c: sel.value});
    }}, input, " ", sel, " ", h("button", {type: "submit", id: "run-search"}, "Search"));
  }
  const nodes = [h("h1", {}, "Search"), view.form];
  if (!p.q) return nodes;
  const offset = Number(p.offset || 0);
  const res = await api("search", {q: p.q, c: p.c, offset, limit: 20});
  nodes.push(h("p", {class: "muted", id: "search-total"}, num(res.total) + " matching documents, best first"));
  nodes.push(h("ol", {class: "hits", start: offset + 1}, res.hits.map(hit => h("li", {},
    h("div", {}, docLink(hit.collection, hit.id, title(hit.summary) || hit.id), " ",
      h("span", {class: "muted"}, hit.collection + " · " + hit.id + " · score " + hit.score.toFixed(2))),
    hit.fragments.map(frag => h("div", {class: "fragment"}, frag.map(seg => {
      const t = seg.t.replace(/\s*\n\s*/g, " · "); // the indexed text keeps name, body and tags on lines of their own
      return seg.m ? h("mark", {}, t) : t;
    })))))));
  const go = o => { location.hash = "#/search?" + new URLSearchParams({...p, offset: o}); };
  nodes.push(h("div", {class: "pager"},
    h("button", {disabled: offset === 0, onclick: () => go(Math.max(0, offset - 20))}, "‹ previous"),
    h("button", {disabled: offset + res.hits.length >= res.total, onclick: () => go(offset + 20)}, "next ›")));
  return nodes;
}

// ---- backups --------------------------------------------------------------------

async function viewBackups(view) {
  const data = await api("backups");
  const now = new Date(data.now);
  const out = h("div", {id: "backup-result", "aria-live": "polite"});
  if (view.result) out.append(view.result);
  const create = h("button", {id: "create-backup", onclick: async () => {
    create.disabled = true;
    create.textContent = "Backing up and verifying…";
    try {
      const m = await post("backups/create");
      view.result = h("p", {class: "ok"}, "Backup " + m.name + " taken and verified (" + bytes(m.size) + ").");
    } catch (e) { view.result = errorBox(e); }
    render(false);
  }}, "Create a backup now");
  const rows = data.backups.map(m => {
    const damaged = m.reason === "damaged";
    const verified = damaged ? "not a backup: damaged data a restore set aside"
      : m.verified ? "yes, " + ago(new Date(m.verified_at), now) : "NO: " + (m.problem || "failed verification");
    const docs = Object.values(m.counts || {}).reduce((a, b) => a + b, 0);
    return h("tr", {"data-name": m.name, class: m.verified || damaged ? "" : "bad"},
      h("td", {class: "id"}, m.name),
      h("td", {}, new Date(m.time).toLocaleString()),
      h("td", {}, ago(new Date(m.time), now)),
      h("td", {class: "num"}, bytes(m.size)),
      h("td", {class: "num"}, num(docs)),
      h("td", {}, m.reason),
      h("td", {}, verified),
      h("td", {}, damaged ? null : [
        h("button", {onclick: () => verifyBackup(view, m)}, "verify"), " ",
        h("button", {class: "danger", onclick: () => confirmRestore(view, m, docs, now)}, "restore…")]));
  });
  return [
    h("h1", {}, "Backups"),
    h("p", {class: "muted"}, "Each backup is verified when taken (it opens, bbolt's check passes, every checksum passes, the counts match); verify re-reads every byte now."),
    h("div", {}, create), out,
    rows.length === 0 ? h("p", {class: "muted"}, "No backups yet.") :
      h("table", {id: "backups"}, h("thead", {}, h("tr", {}, ["name", "time", "age", "size", "documents", "reason", "verified", ""].map(x => h("th", {}, x)))), h("tbody", {}, rows)),
  ];
}

async function verifyBackup(view, m) {
  view.result = h("p", {class: "muted"}, "Verifying " + m.name + "…");
  render(false);
  try {
    const r = await post("backups/verify", {name: m.name});
    view.result = r.ok ? h("p", {class: "ok"}, "Backup " + m.name + " verified: every byte re-read, no problem.")
      : h("div", {class: "error"}, "Backup " + m.name + " failed verification: do not restore it.", h("ul", {}, r.problems.map(p => h("li", {}, problemText(p)))));
  } catch (e) { view.result = errorBox(e); }
  render(false);
}

function confirmRestore(view, m, docs, now) {
  const yes = h("button", {class: "danger", id: "confirm-restore", onclick: async () => {
    yes.disabled = true;
    yes.textContent = "Restoring…";
    try {
      const r = await post("backups/restore", {name: m.name, confirm: m.name});
      view.result = h("p", {class: "ok"}, "Restored " + r.restored.name + ". ",
        r.previous_backup ? "The state it replaced is kept as backup " + r.previous_backup + " (restore that one to undo)."
          : "The replaced data was damaged; it is kept as " + r.damaged + ".");
    } catch (e) { view.result = errorBox(e); }
    render(false);
  }}, "Restore " + m.name);
  view.result = h("div", {class: "confirm", role: "alertdialog"},
    h("p", {}, h("strong", {}, "Replace the store's data with backup " + m.name + "?")),
    h("p", {}, "Taken " + new Date(m.time).toLocaleString() + " (" + ago(new Date(m.time), now) + "), " + num(docs) + " documents. " +
      "It is verified first. The current data is first saved as a new verified backup, named when the restore is done, so the restore can be undone; if the current data is damaged, it is kept aside as data.db.damaged-<time> instead. Every change since " + m.name + " is then no longer in the store."),
    yes, " ", h("button", {onclick: () => { view.result = null; render(false); }}, "Cancel"));
  render(false);
}

// ---- check ----------------------------------------------------------------------

function problemText(p) {
  return p.kind + (p.collection ? " " + p.collection : "") + (p.id ? " " + JSON.stringify(p.id) : "") + ": " + p.detail;
}

async function viewCheck(view, fresh) {
  view.live = false; // a check reads the whole store: run it when asked
  view.onChange = () => { const n = document.getElementById("check-stale"); if (n) n.hidden = false; };
  const result = h("div", {id: "check-result"});
  const run = h("button", {id: "run-check", onclick: async () => {
    run.disabled = true;
    result.replaceChildren(h("p", {class: "muted"}, "Checking: structure, every checksum, metadata and indexes against the data, parts, blobs, the search index…"));
    try {
      const r = await api("check");
      const rows = r.problems.map(p => h("tr", {},
        h("td", {}, p.kind), h("td", {}, p.collection || ""),
        h("td", {class: "id"}, p.id && p.collection ? docLink(p.collection, p.id) : (p.id || "")),
        h("td", {}, p.detail), h("td", {}, p.fix || "")));
      result.replaceChildren(
        h("p", {class: r.ok ? "ok" : "error", id: "check-summary"}, r.ok ? "No problems found" : r.problems.length + " problem(s) found", " (" + num(r.ms) + " ms)."),
        h("p", {class: "muted", id: "check-stale", hidden: true}, "The store has changed since this check."),
        r.advice ? h("section", {class: "advice"}, h("h2", {}, "The way back"), h("ul", {}, r.advice.map(a => h("li", {}, a))),
          h("p", {}, h("a", {href: "#/backups"}, "Backups"))) : null,
        rows.length ? h("table", {id: "problems"}, h("thead", {}, h("tr", {}, ["kind", "collection", "id", "detail", "fix"].map(x => h("th", {}, x)))), h("tbody", {}, rows)) : null);
    } catch (e) { result.replaceChildren(errorBox(e)); }
    run.disabled = false;
  }}, "Run the check");
  return [h("h1", {}, "Check"),
    h("p", {class: "muted"}, "Reads the whole store (read-only; it holds the store while it reads)."), run, result];
}

// ---- stats ----------------------------------------------------------------------

async function viewStats() {
  const st = await api("stats");
  const names = Object.keys(st.collections).filter(n => st.collections[n].count > 0 || st.collections[n].logical_bytes > 0);
  names.sort((a, b) => st.collections[b].logical_bytes - st.collections[a].logical_bytes);
  const b = st.blobs;
  const saving = b.logical_bytes > 0 ? (100 * (1 - b.physical_bytes / b.logical_bytes)).toFixed(1) + "%" : "–";
  return [
    h("h1", {}, "Stats"),
    h("h2", {}, "Size per collection"),
    sizeChart(names, st.collections),
    h("table", {id: "stats"}, h("thead", {}, h("tr", {}, ["collection", "documents", "logical", "stored", "stored/logical"].map(x => h("th", {}, x)))),
      h("tbody", {}, names.map(n => {
        const c = st.collections[n];
        return h("tr", {}, h("td", {}, n), h("td", {class: "num"}, num(c.count)), h("td", {class: "num"}, bytes(c.logical_bytes)),
          h("td", {class: "num"}, bytes(c.stored_bytes)), h("td", {class: "num"}, c.logical_bytes ? (100 * c.stored_bytes / c.logical_bytes).toFixed(0) + "%" : "–"));
      }))),
    h("dl", {class: "figures"},
      h("dt", {}, "data file"), h("dd", {}, bytes(st.file_bytes) + " (" + bytes(st.free_bytes) + " free pages)"),
      h("dt", {}, "all documents"), h("dd", {}, bytes(st.logical_bytes) + " as JSON, " + bytes(st.stored_bytes) + " stored"),
      h("dt", {}, "attachment blobs"), h("dd", {}, num(b.count) + " distinct, " + bytes(b.physical_bytes) + " on disk for " + bytes(b.logical_bytes) + " of attachments (deduplication saves " + saving + ")"),
      h("dt", {}, "change log"), h("dd", {}, num(st.change_log_entries) + " entries, last sequence " + num(st.last_seq))),
  ];
}

// sizeChart draws logical and stored bytes per collection as horizontal bars
// (inline SVG).
function sizeChart(names, colls) {
  const rowH = 30, labelW = 110, barW = 520, valueW = 150;
  const maxV = Math.max(1, ...names.map(n => colls[n].logical_bytes));
  const svg = s("svg", {id: "size-chart", width: labelW + barW + valueW, height: names.length * rowH + 30, role: "img", "aria-label": "bytes per collection"});
  names.forEach((n, i) => {
    const c = colls[n], y = i * rowH;
    svg.append(s("text", {x: labelW - 8, y: y + 17, "text-anchor": "end", class: "label"}, n));
    svg.append(s("rect", {x: labelW, y: y + 4, width: Math.max(1, barW * c.logical_bytes / maxV), height: 10, class: "logical"}, s("title", {}, n + " logical " + bytes(c.logical_bytes))));
    svg.append(s("rect", {x: labelW, y: y + 15, width: Math.max(1, barW * c.stored_bytes / maxV), height: 10, class: "stored"}, s("title", {}, n + " stored " + bytes(c.stored_bytes))));
    svg.append(s("text", {x: labelW + barW + 8, y: y + 17, class: "value"}, bytes(c.logical_bytes) + " / " + bytes(c.stored_bytes)));
  });
  const ly = names.length * rowH + 12;
  svg.append(s("rect", {x: labelW, y: ly, width: 12, height: 10, class: "logical"}));
  svg.append(s("text", {x: labelW + 18, y: ly + 9, class: "value"}, "logical (JSON)"));
  svg.append(s("rect", {x: labelW + 140, y: ly, width: 12, height: 10, class: "stored"}));
  svg.append(s("text", {x: labelW + 158, y: ly + 9, class: "value"}, "stored (compressed)"));
  return svg;
}

// ---- start ------------------------------------------------------------------------

window.addEventListener("hashchange", route);
route();
live.start();
