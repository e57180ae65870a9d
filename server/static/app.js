// The import page: sign in with a token, upload a CSV, follow every job live over ONE EventSource.
// Everything that comes from a file or the server is put into the DOM as text (textContent,
// createTextNode), never as markup.

const TOKEN_KEY = "importer.token";
const WHEEL_KEY = "importer.wheel";
const CURRENT_KEY = "importer.current";
const ACTIVE = new Set(["pending", "processing", "cancelling"]);
const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const EVENT_TYPES = ["progress", "completed", "failed", "cancelled"];

const STATUS_TEXT = {
  pending: "Väntar",
  processing: "Importerar",
  cancelling: "Avbryter",
  completed: "Klar",
  failed: "Misslyckades",
  cancelled: "Avbruten",
};

const $ = (id) => document.getElementById(id);

const state = {
  token: null,
  jobs: new Map(), // id -> job object (the one with the highest seq wins)
  currentId: null,
  source: null,
};

// ---------- small helpers ----------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" || typeof child === "number"
      ? document.createTextNode(String(child)) : child);
  }
  return node;
}

function show(node, visible) {
  node.hidden = !visible;
}

function setText(node, text) {
  node.textContent = text ?? "";
  show(node, Boolean(text));
}

// Plain digits, as the original showed them ("1234/1929"): grouping would split a number over lines.
const fmt = (n) => String(n ?? 0);

export function etaText(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 60) return "Mindre än 1 minut kvar...";
  const minutes = Math.round(seconds / 60);
  if (minutes <= 1) return "Cirka 1 minut kvar...";
  return `Cirka ${minutes} minuter kvar...`;
}

const plural = (n, one, many) => `${fmt(n)} ${n === 1 ? one : many}`;

// "✓ 3 ringar ✓ 39 grupper ✓ 1234/1929 aktiviteter" while running, as the original wished.
function countsText(job) {
  const c = job.counts || {};
  const done = job.status === "completed";
  const parts = [];
  // While running, a structure count shows once the worker reports it (no "✓ 0 ringar").
  if (done || c.rings) parts.push(plural(c.rings, "ring", "ringar"));
  if (done || c.groups) parts.push(plural(c.groups, "grupp", "grupper"));
  if (c.labels) parts.push(plural(c.labels, "etikett", "etiketter"));
  parts.push(done ? plural(c.items, "aktivitet", "aktiviteter")
    : `${fmt(job.processed_items)}/${fmt(job.total_items)} aktiviteter`);
  return parts.map((p) => `✓ ${p}`).join(" ");
}

function timeText(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString("sv-SE", { dateStyle: "short", timeStyle: "short" });
}

// ---------- HTTP ----------

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function errorFrom(response) {
  let code = `http_${response.status}`;
  let message = `Servern svarade ${response.status}.`;
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch { /* not JSON: keep the status text */ }
  return new ApiError(response.status, code, message);
}

async function api(path, { method = "GET", body, json } = {}) {
  const headers = { Authorization: `Bearer ${state.token}`, Accept: "application/json" };
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  const response = await fetch(path, { method, headers, body });
  if (response.status === 401) {
    signOut("Din token är ogiltig eller har gått ut. Logga in igen.");
    throw await errorFrom(response);
  }
  if (!response.ok) throw await errorFrom(response);
  return response.status === 204 ? null : response.json();
}

// The upload goes through XMLHttpRequest because fetch cannot report upload progress.
function upload(wheelId, file, mode) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("file", file, file.name);
    form.append("mode", mode);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/wheels/${encodeURIComponent(wheelId)}/imports`);
    xhr.setRequestHeader("Authorization", `Bearer ${state.token}`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) {
        $("submit").textContent = `Laddar upp ${Math.floor((100 * e.loaded) / e.total)}%`;
      }
    });
    xhr.addEventListener("load", () => {
      const body = xhr.response;
      if (xhr.status === 200 || xhr.status === 202) return resolve(body);
      if (xhr.status === 401) signOut("Din token är ogiltig eller har gått ut. Logga in igen.");
      const err = body && body.error;
      reject(new ApiError(xhr.status, err ? err.code : `http_${xhr.status}`,
        err && err.message ? err.message : `Servern svarade ${xhr.status}.`));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network", "Kunde inte nå servern.")));
    xhr.send(form);
  });
}

// ---------- sign-in ----------

function readFragment() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  const token = params.get("token");
  const wheel = params.get("wheel");
  if (token) localStorage.setItem(TOKEN_KEY, token);
  if (wheel) localStorage.setItem(WHEEL_KEY, wheel);
  if (token || wheel) {
    // The token must not linger in the address bar, the history or a bookmark.
    history.replaceState(null, "", location.pathname + location.search);
  }
}

function signOut(message) {
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(CURRENT_KEY);
  state.token = null;
  if (state.source) state.source.close();
  state.source = null;
  state.jobs.clear();
  state.currentId = null;
  show($("app"), false);
  show($("logout"), false);
  show($("signin"), true);
  setText($("signin-error"), message || "");
}

async function signIn() {
  state.token = localStorage.getItem(TOKEN_KEY);
  if (!state.token) {
    signOut();
    return;
  }
  show($("signin"), false);
  show($("app"), true);
  show($("logout"), true);
  connectEvents();
  try {
    await Promise.all([loadWheels(), loadJobs()]);
  } catch (e) {
    if (e.status !== 401) setText($("upload-error"), e.message);
  }
}

// ---------- wheels ----------

async function loadWheels(selectId) {
  const body = await api("/api/wheels");
  const wheels = Array.isArray(body) ? body : body.wheels || [];
  const select = $("wheel-select");
  select.replaceChildren();
  const wanted = selectId || localStorage.getItem(WHEEL_KEY);
  if (wanted && !wheels.some((w) => w.id === wanted)) {
    // A wheel named in the link may not be listed yet (or the list may be paged): ask for it.
    try {
      wheels.unshift(await api(`/api/wheels/${encodeURIComponent(wanted)}`));
    } catch { /* not ours or gone: leave it out */ }
  }
  if (wheels.length === 0) {
    select.append(el("option", { value: "", disabled: true, selected: true }, "Inga hjul – skapa ett"));
    toggleNewWheel(true);
  }
  for (const w of wheels) {
    select.append(el("option", { value: w.id }, `${w.title} (${w.year})`));
  }
  if (wanted && wheels.some((w) => w.id === wanted)) select.value = wanted;
}

function toggleNewWheel(open) {
  const box = $("new-wheel");
  const visible = open ?? box.hidden;
  show(box, visible);
  $("new-wheel-toggle").setAttribute("aria-expanded", String(visible));
  if (visible && !$("wheel-year").value) $("wheel-year").value = new Date().getFullYear();
}

async function createWheel() {
  const title = $("wheel-title").value.trim();
  const year = Number($("wheel-year").value);
  if (!title || !Number.isInteger(year)) {
    setText($("upload-error"), "Ange titel och år för det nya hjulet.");
    return;
  }
  setText($("upload-error"), "");
  try {
    const wheel = await api("/api/wheels", { method: "POST", json: { title, year } });
    localStorage.setItem(WHEEL_KEY, wheel.id);
    await loadWheels(wheel.id);
    $("wheel-title").value = "";
    toggleNewWheel(false);
  } catch (e) {
    setText($("upload-error"), e.message);
  }
}

// ---------- the replace confirmation ----------

function confirmReplace() {
  const dialog = $("confirm-replace");
  return new Promise((resolve) => {
    const done = (answer) => {
      $("replace-yes").removeEventListener("click", yes);
      $("replace-no").removeEventListener("click", no);
      dialog.removeEventListener("cancel", no);
      dialog.close();
      resolve(answer);
    };
    const yes = () => done(true);
    const no = () => done(false);
    $("replace-yes").addEventListener("click", yes);
    $("replace-no").addEventListener("click", no);
    dialog.addEventListener("cancel", no);
    dialog.showModal();
  });
}

// ---------- submitting ----------

async function submitImport(event) {
  event.preventDefault();
  setText($("upload-error"), "");
  const wheelId = $("wheel-select").value;
  const file = $("file-input").files[0];
  const mode = document.querySelector("input[name=mode]:checked").value;
  if (!wheelId) return setText($("upload-error"), "Välj eller skapa ett årshjul först.");
  if (!file) return setText($("upload-error"), "Välj en CSV-fil.");
  if (mode === "replace" && !(await confirmReplace())) return;
  localStorage.setItem(WHEEL_KEY, wheelId);
  const button = $("submit");
  button.disabled = true;
  try {
    const job = await upload(wheelId, file, mode);
    state.currentId = job.id;
    localStorage.setItem(CURRENT_KEY, job.id);
    mergeJob(job, { started: true });
    $("upload-form").reset();
    $("wheel-select").value = wheelId;
  } catch (e) {
    setText($("upload-error"), e.message);
  } finally {
    button.disabled = false;
    button.textContent = "Importera";
  }
}

async function jobAction(job, action) {
  try {
    const result = await api(`/api/imports/${encodeURIComponent(job.id)}/${action}`, { method: "POST" });
    if (action === "retry") {
      state.currentId = result.id;
      localStorage.setItem(CURRENT_KEY, result.id);
    }
    mergeJob(result, { started: action === "retry" });
  } catch (e) {
    if (state.currentId === job.id) setText($("job-error"), e.message);
    else setText($("upload-error"), e.message);
  }
}

// errors.csv needs the Authorization header, which a plain link cannot send: fetch it and hand
// the browser a Blob URL to save.
async function downloadErrors(job) {
  try {
    const response = await fetch(job.links.errors, { headers: { Authorization: `Bearer ${state.token}` } });
    if (!response.ok) throw await errorFrom(response);
    const url = URL.createObjectURL(await response.blob());
    const a = el("a", { href: url, download: `errors-${job.id.slice(0, 8)}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (e) {
    setText($("job-error"), e.message);
  }
}

// ---------- jobs and the one event stream ----------

async function loadJobs() {
  const body = await api("/api/imports?limit=20");
  for (const job of body.jobs || []) mergeJob(job);
  if (!state.currentId) {
    const stored = localStorage.getItem(CURRENT_KEY);
    const jobs = [...state.jobs.values()];
    const active = jobs.find((j) => ACTIVE.has(j.status));
    state.currentId = (stored && state.jobs.has(stored)) ? stored : active ? active.id : null;
  }
  render();
}

function connectEvents() {
  if (state.source) state.source.close();
  // One stream for all of the user's jobs; on a dropped connection the browser reconnects by
  // itself and sends Last-Event-ID, so nothing here has to.
  const source = new EventSource(`/api/events?access_token=${encodeURIComponent(state.token)}`);
  const onEvent = (e) => {
    try {
      mergeJob(JSON.parse(e.data));
    } catch { /* a malformed event is dropped, the next one carries the whole state */ }
  };
  for (const type of EVENT_TYPES) source.addEventListener(type, onEvent);
  source.addEventListener("message", onEvent);
  source.addEventListener("open", () => {
    $("live").classList.add("on");
    // Events sent while we were away are replayed from Last-Event-ID; a fresh list fills the
    // gap if the server could not.
    loadJobs().catch(() => {});
  });
  source.addEventListener("error", () => {
    $("live").classList.remove("on");
    if (source.readyState === EventSource.CLOSED && state.token) {
      // The server refused the stream (e.g. an expired token): check the token the normal way.
      api("/api/imports?limit=1").then(() => setTimeout(connectEvents, 5000), () => {});
    }
  });
  state.source = source;
}

function mergeJob(job, { started = false } = {}) {
  if (!job || !job.id) return;
  const known = state.jobs.get(job.id);
  if (known && (known.seq ?? 0) > (job.seq ?? 0)) {
    // The stream got here first (a fast import can end before its 202 arrives): keep the newer
    // state, but still draw, since the caller may have just made this the current job.
    if (started) known._started = true;
  } else {
    if (started || (known && known._started)) job = { ...job, _started: true };
    state.jobs.set(job.id, job);
  }
  render();
}

// ---------- rendering ----------

let frame = 0;
function render() {
  // Many events can arrive in one tick during a fast import: draw once per animation frame.
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    renderCurrent();
    renderList();
  });
}

function titleFor(job) {
  switch (job.status) {
    case "completed": return "Import klar!";
    case "failed": return "Import misslyckades";
    case "cancelled": return "Import avbruten";
    case "cancelling": return "Avbryter import...";
    case "processing": return job._started && job.progress === 0 ? "Import startad" : "Importerar data...";
    default: return "Import startad";
  }
}

function renderCurrent() {
  const job = state.currentId ? state.jobs.get(state.currentId) : null;
  show($("current"), Boolean(job));
  if (!job) return;
  const percent = Math.max(0, Math.min(100, job.progress | 0));
  $("current").dataset.status = job.status;
  $("current-title").textContent = titleFor(job);
  $("current-file").textContent = job.file_name;
  $("bar").setAttribute("aria-valuenow", String(percent));
  $("bar").setAttribute("aria-valuetext", `${percent}%`);
  $("bar-fill").style.width = `${percent}%`;
  $("percent").textContent = `${percent}%`;
  setText($("step"), TERMINAL.has(job.status) ? "" : job.current_step);
  setText($("processed"), job.total_items
    ? `${fmt(job.processed_items)} / ${fmt(job.total_items)} aktiviteter` : "");
  const c = job.counts || {};
  const anyCount = Object.values(c).some((n) => n > 0);
  // A failed or cancelled import changed nothing: no check marks for it.
  const counting = job.status === "completed" || (ACTIVE.has(job.status) && (anyCount || job.total_items));
  setText($("counts"), counting ? countsText(job) : "");
  setText($("eta"), ACTIVE.has(job.status) ? etaText(job.eta_seconds) : "");

  const done = job.status === "completed";
  show($("result"), done);
  if (done) {
    $("rejected").textContent = job.rejected_rows
      ? `${plural(job.rejected_rows, "rad", "rader")} kunde inte importeras.`
      : "All data har importerats till ditt hjul.";
  }
  setText($("job-error"), job.status === "failed"
    ? (job.error ? `${job.error.message} (${job.error.code})` : "Import misslyckades") : "");
  show($("cancel"), job.status === "pending" || job.status === "processing");
  show($("retry"), job.status === "failed" || job.status === "cancelled");
  show($("errors"), job.rejected_rows > 0 && TERMINAL.has(job.status));
}

function renderList() {
  const list = $("jobs");
  const jobs = [...state.jobs.values()].sort((a, b) =>
    (b.created_at || "").localeCompare(a.created_at || ""));
  show($("jobs-empty"), jobs.length === 0);
  list.replaceChildren(...jobs.slice(0, 30).map(jobItem));
}

function jobItem(job) {
  const percent = Math.max(0, Math.min(100, job.progress | 0));
  const fill = el("div", { class: "bar-fill" });
  fill.style.width = `${percent}%`;
  const bar = el("div", {
    class: "bar small", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
    "aria-valuenow": String(percent), "aria-label": `Förlopp för ${job.file_name}`,
  }, fill);
  const actions = el("div", { class: "actions" });
  if (job.status === "pending" || job.status === "processing") {
    actions.append(el("button", { type: "button", class: "danger small", onclick: () => jobAction(job, "cancel") }, "Avbryt import"));
  }
  if (job.status === "failed" || job.status === "cancelled") {
    actions.append(el("button", { type: "button", class: "secondary small", onclick: () => jobAction(job, "retry") }, "Försök igen"));
  }
  if (job.rejected_rows > 0 && TERMINAL.has(job.status)) {
    actions.append(el("button", { type: "button", class: "secondary small", onclick: () => downloadErrors(job) }, "errors.csv"));
  }
  if (job.id !== state.currentId) {
    actions.append(el("button", {
      type: "button", class: "link small",
      onclick: () => { state.currentId = job.id; localStorage.setItem(CURRENT_KEY, job.id); render(); },
    }, "Visa"));
  }
  const detail = job.status === "failed" && job.error ? job.error.message
    : job.total_items ? `${fmt(job.processed_items)} / ${fmt(job.total_items)} aktiviteter` : job.current_step;
  return el("li", { class: "job", dataset: { status: job.status, id: job.id } },
    el("div", { class: "job-head" },
      el("span", { class: "job-file" }, job.file_name),
      el("span", { class: `badge ${job.status}` }, STATUS_TEXT[job.status] || job.status)),
    el("div", { class: "bar-row" }, bar, el("span", { class: "percent" }, `${percent}%`)),
    el("div", { class: "job-meta" },
      el("span", { class: "muted" }, detail || ""),
      el("span", { class: "muted" }, timeText(job.created_at))),
    actions);
}

// ---------- wiring ----------

function init() {
  readFragment();
  $("signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const token = $("token-input").value.trim();
    if (!token) return;
    localStorage.setItem(TOKEN_KEY, token);
    $("token-input").value = "";
    signIn();
  });
  $("logout").addEventListener("click", () => signOut());
  $("new-wheel-toggle").addEventListener("click", () => toggleNewWheel());
  $("create-wheel").addEventListener("click", createWheel);
  $("upload-form").addEventListener("submit", submitImport);
  $("wheel-select").addEventListener("change", (e) => localStorage.setItem(WHEEL_KEY, e.target.value));
  $("cancel").addEventListener("click", () => jobAction(state.jobs.get(state.currentId), "cancel"));
  $("retry").addEventListener("click", () => jobAction(state.jobs.get(state.currentId), "retry"));
  $("errors").addEventListener("click", () => downloadErrors(state.jobs.get(state.currentId)));
  window.addEventListener("hashchange", () => { readFragment(); signIn(); });
  signIn();
}

init();
