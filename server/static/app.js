// The import page: sign in with a token, upload a file, follow every job live over ONE EventSource,
// and see the wheel the import went into. Everything that comes from a file or the server is put
// into the DOM as text (textContent, text nodes, attribute values), never as markup.

import { WheelView } from "./wheel.js";

const TOKEN_KEY = "importer.token";
const WHEEL_KEY = "importer.wheel";
const CURRENT_KEY = "importer.current";
const ACTIVE = new Set(["pending", "processing", "cancelling"]);
const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const EVENT_TYPES = ["progress", "completed", "failed", "cancelled"];
const JOBS_PAGE = 20;
const ITEMS_PAGE = 10000;

const STATUS_TEXT = {
  pending: "Väntar",
  processing: "Importerar",
  cancelling: "Avbryter",
  completed: "Klar",
  failed: "Misslyckades",
  cancelled: "Avbruten",
};

const MODE_TEXT = { append: "Lägg till", replace: "Ersätt" };
const NOTHING_SAVED = "Ingenting sparades – hjulet är som före importen.";

const $ = (id) => document.getElementById(id);

const state = {
  token: null,
  jobs: new Map(), // id -> job object (the one with the highest seq wins)
  retries: new Map(), // id of a job -> id of its (newest known) retry
  wheels: new Map(), // id -> wheel
  currentId: null,
  source: null,
  list: { wheel: "", status: "", cursor: null, oldest: null, more: false, loading: false },
  wheelView: { id: null, load: 0 },
  openWheelOnSignIn: null,
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

// "✓ 3 nya ringar ✓ 39 nya grupper": only what the import created, only when there is some.
function structureText(job) {
  const c = job.counts || {};
  const parts = [];
  if (c.rings) parts.push(plural(c.rings, "ny ring", "nya ringar"));
  if (c.groups) parts.push(plural(c.groups, "ny grupp", "nya grupper"));
  if (c.labels) parts.push(plural(c.labels, "ny etikett", "nya etiketter"));
  if (c.pages) parts.push(plural(c.pages, "ny sida", "nya sidor"));
  return parts.map((p) => `✓ ${p}`).join(" ");
}

// The rows of a completed import, as a sum that holds: every row of the file is an activity or
// rejected; an activity across a year end becomes one item per year; an item the wheel already
// had is skipped. So rows = saved + skipped − extra pieces + rejected.
export function receiptOf(job) {
  const c = job.counts || {};
  const rows = job.processed_items ?? 0;
  const saved = c.items ?? 0;
  const skipped = c.skipped_duplicates ?? 0;
  const rejected = job.rejected_rows ?? 0;
  const pieces = saved + skipped + rejected - rows;
  return { rows, saved, skipped, rejected, pieces };
}

function timeText(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString("sv-SE", { dateStyle: "short", timeStyle: "short" });
}

function wheelName(id) {
  const wheel = state.wheels.get(id);
  return wheel ? `${wheel.title} (${wheel.year})` : "ett hjul som inte finns kvar";
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

// The upload (for the review) goes through XMLHttpRequest because fetch cannot report upload
// progress. The stored file is then imported from its preview, without a second upload.
function upload(wheelId, file) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/wheels/${encodeURIComponent(wheelId)}/previews`);
    xhr.setRequestHeader("Authorization", `Bearer ${state.token}`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) {
        // Once the bytes are up, the server reads and plans the file.
        setText($("review-busy"), e.loaded < e.total
          ? `Laddar upp ${Math.floor((100 * e.loaded) / e.total)} %…` : "Läser filen…");
      }
    });
    xhr.addEventListener("load", () => {
      const body = xhr.response;
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body);
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
  const job = params.get("job");
  if (token) localStorage.setItem(TOKEN_KEY, token);
  if (wheel) localStorage.setItem(WHEEL_KEY, wheel);
  if (job) {
    // The e-mail's "Försök igen" link: that job is the one to show.
    localStorage.setItem(CURRENT_KEY, job);
    state.currentId = job;
  }
  // The e-mail's "Öppna årshjulet" link (a wheel, no job) opens that wheel's view.
  state.openWheelOnSignIn = wheel && !job ? wheel : null;
  if (token || wheel || job) {
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
  state.retries.clear();
  state.currentId = null;
  closeWheel();
  leaveReview();
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
    await Promise.all([loadWheels(), loadRecent()]);
    await loadList({ reset: true });
    const wanted = state.openWheelOnSignIn;
    state.openWheelOnSignIn = null;
    if (wanted && state.wheels.has(wanted)) await openWheel(wanted);
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
  state.wheels = new Map(wheels.map((w) => [w.id, w]));
  if (wheels.length === 0) {
    select.append(el("option", { value: "", disabled: true, selected: true }, "Inga hjul – skapa ett"));
    toggleNewWheel(true);
  }
  for (const w of wheels) {
    select.append(el("option", { value: w.id }, `${w.title} (${w.year})`));
  }
  if (wanted && wheels.some((w) => w.id === wanted)) select.value = wanted;
  const filter = $("filter-wheel");
  const chosen = filter.value;
  filter.replaceChildren(el("option", { value: "" }, "Alla hjul"),
    ...wheels.map((w) => el("option", { value: w.id }, `${w.title} (${w.year})`)));
  filter.value = state.wheels.has(chosen) ? chosen : "";
  show($("show-wheel"), wheels.length > 0);
  render();
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

// ---------- the wheel view ----------

const wheelView = new WheelView($);

// Every item of the wheel, page after page of the items route (a server that answers all at
// once, without `next`, is read in one go).
async function fetchItems(wheelId) {
  const items = [];
  let after = null;
  do {
    const query = new URLSearchParams({ limit: String(ITEMS_PAGE) });
    if (after) query.set("after", after);
    const body = await api(`/api/wheels/${encodeURIComponent(wheelId)}/items?${query}`);
    for (const item of body.items || []) items.push(item);
    after = body.next || null;
  } while (after);
  return items;
}

async function openWheel(wheelId, { scroll = false } = {}) {
  const load = ++state.wheelView.load;
  const same = state.wheelView.id === wheelId;
  state.wheelView.id = wheelId;
  const section = $("wheel-view");
  show(section, true);
  $("wheel-heading").textContent = `Årshjulet ${wheelName(wheelId)}`;
  setText($("wheel-status"), "Hämtar hjulets aktiviteter...");
  if (!same) show($("wheel-panel"), false);
  if (scroll) section.scrollIntoView({ block: "start" });
  try {
    const started = performance.now();
    const [wheel, items] = await Promise.all([
      api(`/api/wheels/${encodeURIComponent(wheelId)}`), fetchItems(wheelId)]);
    if (load !== state.wheelView.load) return; // another wheel was asked for meanwhile
    section.dataset.fetchMs = (performance.now() - started).toFixed(1);
    section.dataset.wheel = wheelId;
    $("wheel-heading").textContent = `Årshjulet ${wheel.title} (${wheel.year})`;
    if (items.length === 0) {
      setText($("wheel-status"), "Hjulet har inga aktiviteter ännu. Importera en fil för att fylla det.");
      show($("wheel-tabs"), false);
      show($("wheel-panel"), false);
      return;
    }
    const pages = new Set(items.map((it) => it.page_year)).size;
    setText($("wheel-status"), `${items.length.toLocaleString("sv-SE")} ${items.length === 1 ? "aktivitet" : "aktiviteter"} `
      + `på ${plural(pages, "sida", "sidor")}. `
      + "Klicka i hjulet för att se vad en ring har en viss dag.");
    show($("wheel-panel"), true);
    wheelView.show(wheel, items);
  } catch (e) {
    if (load === state.wheelView.load && e.status !== 401) setText($("wheel-status"), e.message);
  }
}

function closeWheel() {
  state.wheelView.id = null;
  state.wheelView.load++;
  show($("wheel-view"), false);
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

// ---------- choosing a file: the picker or a drop ----------

function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} kB`;
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(".", ",")} MB`;
}

function fileChosen() {
  const file = $("file-input").files[0];
  setText($("file-chosen"), file ? `${file.name} (${sizeText(file.size)})` : "");
  $("drop-zone").classList.toggle("has-file", Boolean(file));
  if (file) startReview(file);
}

// Any dropped file is taken: the server reads the content, not the name, and says what it cannot read.
function dropFile(event) {
  event.preventDefault();
  $("drop-zone").classList.remove("over");
  const files = event.dataTransfer && event.dataTransfer.files;
  if (!files || files.length === 0) return;
  if (files.length > 1) {
    setText($("upload-error"), "Släpp en fil i taget.");
    return;
  }
  setText($("upload-error"), "");
  $("file-input").files = files;
  fileChosen();
}

// ---------- the review: what the import would do, before anything is saved ----------

const FIELDS = ["name", "start", "end", "ring", "group", "label", "description"];
const FIELD_TEXT = {
  name: "Namn (aktivitet)",
  start: "Startdatum",
  end: "Slutdatum",
  ring: "Ring",
  group: "Aktivitetsgrupp",
  label: "Etikett",
  description: "Beskrivning",
  ignore: "Ignorera (läses inte)",
  "": "Inget fält (i beskrivningen)",
  skip: "Läses inte",
};
const KIND_TEXT = { csv: "Text (CSV)", xlsx: "Excel (xlsx)", xls: "Excel 97–2003 (xls)", ods: "OpenDocument (ods)", json: "JSON" };
const DELIMITER_TEXT = { ",": "komma (,)", ";": "semikolon (;)", "\t": "tabb", "|": "lodstreck (|)" };
const ORDER_SOURCE_TEXT = {
  data: "Filens datum visar ordningen.",
  layout: "Filens format visar ordningen.",
  default: "Datumen kan läsas på två sätt; dagen först antogs.",
  request: "Du valde ordningen.",
};
const SHOWN_ITEMS = 100;

const review = {
  preview: null, // the last preview the server gave
  wheelId: null,
  busy: false,
  ask: 0, // the newest request; an older answer is dropped
};

const reviewWheel = new WheelView((name) => $(`review-${name}`), { prefix: "review-" });

const count = (n) => Number(n ?? 0).toLocaleString("sv-SE");
const words = (n, one, many) => `${count(n)} ${n === 1 ? one : many}`;

// "3 ringar (1 ny)", "39 nya grupper" (all new), "39 grupper" (all there already).
function structurePart(c, one, many, newOne, newMany) {
  const fresh = c ? c.new ?? 0 : 0;
  const total = fresh + (c ? c.existing ?? 0 : 0);
  if (!total) return null;
  if (fresh === total) return words(total, `${newOne} ${one}`, `${newMany} ${many}`);
  return words(total, one, many) + (fresh ? ` (${fresh} ${fresh === 1 ? newOne : newMany})` : "");
}

// The preview's counts in words, one part per fact:
// "3 ringar (1 ny) · 39 grupper · 1 929 aktiviteter, 38 delas vid årsskiftet · 6 rader avvisas · 25 finns redan och hoppas över".
export function reviewCountParts(counts, { skip = true } = {}) {
  const c = counts || {};
  const parts = [
    structurePart(c.rings, "ring", "ringar", "ny", "nya"),
    structurePart(c.groups, "grupp", "grupper", "ny", "nya"),
    structurePart(c.labels, "etikett", "etiketter", "ny", "nya"),
  ];
  // Kept, the duplicates are imported again: they count among the activities.
  const items = (c.items ?? 0) + (skip ? 0 : c.skipped_duplicates ?? 0);
  parts.push(words(items, "aktivitet", "aktiviteter")
    + (c.split_items && items ? `, ${count(c.split_items)} delas vid årsskiftet` : ""));
  if (c.rejected) parts.push(words(c.rejected, "rad avvisas", "rader avvisas"));
  if (c.skipped_duplicates) {
    parts.push(`${count(c.skipped_duplicates)} finns redan och ${skip ? "hoppas över" : "importeras igen"}`);
  }
  return parts.filter(Boolean);
}

// The mapping with every field said out loud (a field no column takes is null), so that the
// server detects nothing behind the person's back: what the table shows is what is sent.
function explicitMapping(preview) {
  const mapping = {};
  for (const field of FIELDS) mapping[field] = (preview.mapping && preview.mapping[field]) || null;
  mapping.ignore = [...((preview.mapping && preview.mapping.ignore) || [])];
  return mapping;
}

// What a column is: its field, "ignore", "" (no field: its cells go to the description, as
// the unmapped_column warning names them) or "skip" (no field and not in the description: an
// empty column, or one the reader leaves out, like a corrected errors.csv's Rad and Orsak).
function columnChoice(preview, column) {
  if (column.field) return column.field;
  const ignored = (preview.mapping && preview.mapping.ignore) || [];
  if (ignored.includes(column.header)) return "ignore";
  const unmapped = (preview.warnings || []).find((w) => w && w.code === "unmapped_column");
  const described = unmapped && unmapped.details && Array.isArray(unmapped.details.columns)
    ? unmapped.details.columns : [];
  return described.includes(column.header) ? "" : "skip";
}

function remap(column, choice) {
  const mapping = explicitMapping(review.preview);
  for (const field of FIELDS) if (mapping[field] === column.header) mapping[field] = null;
  mapping.ignore = mapping.ignore.filter((h) => h !== column.header);
  // A field takes one column: choosing it here takes it from the column that had it.
  if (FIELDS.includes(choice)) mapping[choice] = column.header;
  else if (choice === "ignore") mapping.ignore.push(column.header);
  changeReview({ mapping });
}

function setReviewBusy(busy, text = "") {
  review.busy = busy;
  const section = $("review");
  section.setAttribute("aria-busy", String(busy));
  section.classList.toggle("is-busy", busy);
  setText($("review-busy"), busy ? text || "Räknar om…" : "");
  for (const control of section.querySelectorAll("#review-body select, #review-body input[name=date-order], #review-skip, input[name=mode]")) {
    control.disabled = busy;
  }
  $("submit").disabled = busy || !review.preview;
}

async function startReview(file) {
  const wheelId = $("wheel-select").value;
  setText($("upload-error"), "");
  if (!wheelId) {
    setText($("upload-error"), "Välj eller skapa ett årshjul först.");
    return;
  }
  localStorage.setItem(WHEEL_KEY, wheelId);
  const ask = ++review.ask;
  review.preview = null;
  review.wheelId = wheelId;
  show($("review"), true);
  show($("upload-card"), false);
  show($("review-body"), false);
  setText($("review-error"), "");
  $("review-file").textContent = `${file.name} (${sizeText(file.size)})`;
  $("review-where").textContent = `Till ${wheelName(wheelId)}. Ingenting sparas förrän du trycker Importera.`;
  for (const radio of document.querySelectorAll("input[name=mode]")) radio.checked = radio.value === "append";
  $("review-skip").checked = true;
  setReviewBusy(true, "Läser filen…");
  $("review").scrollIntoView({ block: "start" });
  try {
    const preview = await upload(wheelId, file);
    if (ask !== review.ask) return;
    review.preview = preview;
    setReviewBusy(false);
    renderReview();
    // The picker (or the drop zone) is gone from sight: the keyboard goes on from the review.
    $("review-heading").focus({ preventScroll: true });
  } catch (e) {
    if (ask !== review.ask) return;
    // Nothing to review: back to choosing a file, with the server's reason.
    leaveReview();
    setText($("upload-error"), `${file.name}: ${e.message}`);
  }
}

// A change of mapping, date order or sheet: the server plans the stored file again. On a
// refusal the previous review stays as it was, with the reason above it.
async function changeReview(changes) {
  const preview = review.preview;
  if (!preview) return;
  const ask = ++review.ask;
  setText($("review-error"), "");
  setReviewBusy(true);
  try {
    const changed = await api(preview.links.self, { method: "PATCH", json: changes });
    if (ask !== review.ask) return;
    review.preview = changed;
  } catch (e) {
    if (ask !== review.ask) return;
    if (e.status !== 401) setText($("review-error"), `Ändringen gick inte: ${e.message}`);
  }
  setReviewBusy(false);
  renderReview();
}

function leaveReview() {
  review.ask++;
  review.preview = null;
  setReviewBusy(false);
  show($("review"), false);
  show($("upload-card"), true);
  $("upload-form").reset();
  if (review.wheelId && state.wheels.has(review.wheelId)) $("wheel-select").value = review.wheelId;
  setText($("file-chosen"), "");
  $("drop-zone").classList.remove("has-file");
}

const ORDER_TEXT = { day_first: "dagen före månaden", month_first: "månaden före dagen" };

// Whether the date order is the person's to choose: assumed, chosen, or read both ways.
function dateChoice(p) {
  if ((p.warnings || []).some((w) => w && w.code === "date_order_assumed")) return true;
  return Boolean(p.date_order) && !["data", "layout"].includes(p.date_order_source);
}

function fact(term, value) {
  return value ? [el("div", { class: "fact" }, el("dt", {}, term), el("dd", {}, String(value)))] : [];
}

function renderReview() {
  const p = review.preview;
  if (!p) return;
  show($("review-body"), true);
  $("review-file").textContent = `${p.file_name} (${sizeText(p.size_bytes ?? 0)})`;
  const f = p.format || {};
  const c = p.counts || {};
  $("review-facts").replaceChildren(
    ...fact("Format", KIND_TEXT[f.kind] || f.kind),
    ...fact("Teckenkodning", f.encoding ? f.encoding.toUpperCase() : ""),
    ...fact("Avgränsare", f.delimiter ? DELIMITER_TEXT[f.delimiter] || `"${f.delimiter}"` : ""),
    ...fact("Blad", f.sheet || ""),
    ...fact("Rubrikrad", f.header_row ? `rad ${f.header_row}` : ""),
    ...fact("Datumordning", p.date_order && !dateChoice(p) ? ORDER_TEXT[p.date_order] : ""),
    ...fact("Rader", p.sampled ? `${count(c.rows)} lästa (filen är stor: antalen gäller dem)` : count(c.rows)),
  );

  const sheets = f.sheets || [];
  show($("review-sheet-row"), sheets.length > 1);
  $("review-sheet").replaceChildren(...sheets.map((name) => el("option", { value: name }, name)));
  if (f.sheet) $("review-sheet").value = f.sheet;

  const skip = $("review-skip").checked;
  const parts = reviewCountParts(c, { skip });
  $("review-counts").replaceChildren(...parts.flatMap((part, i) => [
    i ? el("span", { class: "sep", "aria-hidden": "true" }, " · ") : null,
    el("span", { class: "count-part" }, part)].filter(Boolean)));
  const warnings = (p.warnings || []).filter((w) => w && w.message);
  $("review-warnings").replaceChildren(...warnings.map((w) => el("li", { dataset: { code: w.code || "" } }, w.message)));
  show($("review-warnings"), warnings.length > 0);
  show($("review-skip-row"), Boolean(c.skipped_duplicates));

  // The date order as a choice when the dates did not settle it (or the person chose it); a
  // fact above when they did. Marked when it was only assumed.
  const assumed = warnings.some((w) => w.code === "date_order_assumed");
  show($("review-dates"), dateChoice(p));
  $("review-dates").classList.toggle("assumed", assumed);
  $("review-dates-note").textContent = assumed
    ? "Alla datum kan läsas på två sätt. Kontrollera datumen nedan och byt om de blev fel."
    : ORDER_SOURCE_TEXT[p.date_order_source] || "";
  for (const radio of document.querySelectorAll("input[name=date-order]")) radio.checked = radio.value === p.date_order;

  renderColumns(p);
  renderPlannedWheel(p);
  renderRejected(p);
  setReviewBusy(review.busy);
}

function renderColumns(p) {
  $("review-columns-body").replaceChildren(...(p.columns || []).map((column) => {
    const chosen = columnChoice(p, column);
    const choices = [...FIELDS, "ignore", chosen === "skip" ? "skip" : ""];
    const select = el("select", {
      class: "field-select", "aria-label": `Fält för kolumnen ${column.header || column.index + 1}`,
      dataset: { header: column.header }, onchange: (e) => remap(column, e.target.value),
    }, ...choices.map((value) => el("option", { value, selected: value === chosen }, FIELD_TEXT[value])));
    select.value = chosen;
    // A column without a header cannot be named in a mapping.
    if (!column.header) select.disabled = true;
    const samples = (column.samples || []).filter(Boolean);
    return el("tr", { dataset: { field: chosen } },
      el("th", { scope: "row" },
        el("span", { class: "column-header" }, column.header || `(kolumn ${column.index + 1} utan rubrik)`),
        samples.length ? el("span", { class: "samples" }, ...samples.flatMap((sample, i) => [
          i ? " · " : null, el("span", { class: "sample" }, sample)]).filter(Boolean)) : null),
      el("td", { class: "field-cell" }, select));
  }));
}

function renderPlannedWheel(p) {
  const items = p.items || [];
  // The planned items include those the wheel already has (skipped by default).
  const c = p.counts || {};
  const total = c.items === undefined ? items.length : c.items + (c.skipped_duplicates || 0);
  const wheel = state.wheels.get(p.wheel_id) || { title: "", year: new Date().getFullYear() };
  show($("review-wheel-panel"), items.length > 0);
  show($("review-wheel-tabs"), items.length > 0);
  if (!items.length) {
    $("review-wheel-note").textContent = "Filen ger inga aktiviteter att rita.";
    return;
  }
  $("review-wheel-note").textContent = (total > items.length
    ? `Ritat med de första ${count(items.length)} av ${count(total)} aktiviteter, som de hamnar i hjulet.`
    : `${items.length === 1 ? "Aktiviteten" : `Alla ${count(items.length)} aktiviteterna`}, som de hamnar i hjulet.`)
    + (c.skipped_duplicates ? " De som redan finns i hjulet är med här men hoppas över om du inte väljer annat nedan." : "");
  $("review-wheel-table-caption").textContent = total > items.length
    ? `De första ${count(items.length)} aktiviteterna` : "Aktiviteterna";
  reviewWheel.show(wheel, items.map((it) => ({ ...it })));
}

function renderRejected(p) {
  const rejected = p.rejected || [];
  const total = p.counts ? p.counts.rejected ?? rejected.length : rejected.length;
  show($("review-rejected-box"), total > 0);
  // A few rejected rows are shown at once; many wait behind their summary.
  if (p.id !== renderRejected.shownFor) $("review-rejected-box").open = total > 0 && total <= 10;
  renderRejected.shownFor = p.id;
  $("review-rejected-summary").textContent = total > rejected.length
    ? `${words(total, "rad avvisas", "rader avvisas")} – de första ${count(rejected.length)} med orsak`
    : `${words(total, "rad avvisas", "rader avvisas")} – rad och orsak`;
  $("review-rejected-body").replaceChildren(...rejected.map((r) => el("tr", {},
    el("td", { class: "num" }, String(r.row)),
    el("td", {}, r.column || ""),
    el("td", {}, r.reason || ""),
    el("td", { class: "cells" }, (r.values || []).map((v) => (String(v ?? "").trim() ? v : "–")).join(" · ")))));
}

// ---------- importing the reviewed file ----------

async function submitImport(event) {
  if (event) event.preventDefault();
  const preview = review.preview;
  if (!preview || review.busy) return;
  setText($("review-error"), "");
  const mode = document.querySelector("input[name=mode]:checked").value;
  if (mode === "replace" && !(await confirmReplace())) return;
  const button = $("submit");
  button.disabled = true;
  try {
    const job = await api(preview.links.imports, {
      method: "POST", json: { mode, skip_duplicates: $("review-skip").checked },
    });
    leaveReview();
    makeCurrent(job.id);
    mergeJob(job, { started: true });
    $("current").scrollIntoView({ block: "start" });
  } catch (e) {
    if (e.status !== 401) setText($("review-error"), e.message);
  } finally {
    button.disabled = review.busy || !review.preview;
  }
}

function makeCurrent(id) {
  state.currentId = id;
  localStorage.setItem(CURRENT_KEY, id);
  render();
}

function reportError(job, message) {
  if (state.currentId === job.id) setText($("job-error"), message);
  else setText($("upload-error"), message);
}

async function cancelJob(job) {
  try {
    mergeJob(await api(`/api/imports/${encodeURIComponent(job.id)}/cancel`, { method: "POST" }));
  } catch (e) {
    reportError(job, e.message);
  }
}

// A retry is newer than its job and goes to the same wheel: reading that wheel's jobs newest
// first, down to the job itself, finds any retry another tab, the CLI or an earlier click made.
async function findRetry(job) {
  let before = null;
  for (let page = 0; page < 10; page++) {
    const query = new URLSearchParams({ wheel_id: job.wheel_id, limit: "100" });
    if (before) query.set("before", before);
    const body = await api(`/api/imports?${query}`);
    const jobs = body.jobs || [];
    for (const j of jobs) mergeJob(j);
    if (state.retries.has(job.id)) return state.retries.get(job.id);
    if (jobs.length < 100 || jobs.some((j) => j.id === job.id)) return null;
    before = jobs[jobs.length - 1].id;
  }
  return null;
}

async function retryJob(job) {
  try {
    const existing = state.retries.get(job.id) || await findRetry(job);
    if (existing) {
      // Pressing "Försök igen" twice must not start a second full import.
      makeCurrent(existing);
      return;
    }
    const result = await api(`/api/imports/${encodeURIComponent(job.id)}/retry`, { method: "POST" });
    makeCurrent(result.id);
    mergeJob(result, { started: true });
  } catch (e) {
    reportError(job, e.message);
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

// The newest jobs whatever the list's filters: the current job and the retries come from here.
async function loadRecent() {
  const body = await api(`/api/imports?limit=${JOBS_PAGE}`);
  for (const job of body.jobs || []) mergeJob(job);
  if (!state.currentId || !state.jobs.has(state.currentId)) {
    const stored = localStorage.getItem(CURRENT_KEY);
    const jobs = [...state.jobs.values()];
    const active = jobs.find((j) => ACTIVE.has(j.status));
    if (stored && !state.jobs.has(stored)) {
      // A job named by a link or kept from an earlier visit may be older than the first page.
      try { mergeJob(await api(`/api/imports/${encodeURIComponent(stored)}`)); } catch { /* gone */ }
    }
    state.currentId = (stored && state.jobs.has(stored)) ? stored : active ? active.id : null;
  }
  render();
}

// The job list: a page of jobs matching the filters, and "Visa fler" for the next (older) one.
async function loadList({ reset = false } = {}) {
  const list = state.list;
  if (reset) {
    list.cursor = null;
    list.oldest = null;
    list.more = false;
  }
  list.loading = true;
  render();
  try {
    const query = new URLSearchParams({ limit: String(JOBS_PAGE) });
    if (list.status) query.set("status", list.status);
    if (list.wheel) query.set("wheel_id", list.wheel);
    if (list.cursor) query.set("before", list.cursor);
    const body = await api(`/api/imports?${query}`);
    const jobs = body.jobs || [];
    for (const job of jobs) mergeJob(job);
    if (jobs.length) {
      const last = jobs[jobs.length - 1];
      list.cursor = last.id;
      list.oldest = last.created_at;
    }
    list.more = jobs.length === JOBS_PAGE;
  } finally {
    list.loading = false;
    render();
  }
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
  let opened = false;
  source.addEventListener("open", () => {
    $("live").classList.add("on");
    // Events sent while we were away are replayed from Last-Event-ID; a fresh list fills the
    // gap if the server could not. (The first open comes with the sign-in's own load.)
    if (opened) loadRecent().catch(() => {});
    opened = true;
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
  if (job.retry_of) {
    const other = state.retries.get(job.retry_of);
    const otherJob = other && state.jobs.get(other);
    if (!otherJob || (otherJob.created_at || "") <= (job.created_at || "")) state.retries.set(job.retry_of, job.id);
  }
  if (known && (known.seq ?? 0) > (job.seq ?? 0)) {
    // The stream got here first (a fast import can end before its 202 arrives): keep the newer
    // state, but still draw, since the caller may have just made this the current job.
    if (started) known._started = true;
  } else {
    // What the page knows of a job beyond the server's object stays with it.
    job = { ...job, _started: started || Boolean(known && known._started), _shown: Boolean(known && known._shown) };
    state.jobs.set(job.id, job);
  }
  // An import that ends while this page watches it (started here, or seen running) shows the
  // wheel it filled; a wheel on screen is drawn again when an import into it completes.
  const now = state.jobs.get(job.id);
  const watched = now._started || (known && known.status !== "completed");
  if (now.status === "completed" && watched && !now._shown) {
    now._shown = true;
    if (now.id === state.currentId || state.wheelView.id === now.wheel_id) openWheel(now.wheel_id);
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

function receiptRow(sign, value, text, kind) {
  return el("tr", { class: kind || "" },
    el("td", { class: "sign" }, sign),
    el("td", { class: "num" }, fmt(value)),
    el("th", { scope: "row" }, text));
}

function renderReceipt(job) {
  const r = receiptOf(job);
  const rows = [receiptRow(r.saved > 0 ? "✓" : "", r.saved, r.saved === 1 ? "aktivitet sparad i hjulet" : "aktiviteter sparade i hjulet", "ok")];
  // Only a sum that holds is shown as one; a server that counts differently gets plain lines.
  const adds = r.pieces >= 0;
  if (r.skipped) rows.push(receiptRow(adds ? "+" : "", r.skipped, "fanns redan i hjulet och hoppades över"));
  if (r.pieces > 0) rows.push(receiptRow("−", r.pieces, "extra delar: aktiviteter över ett årsskifte, en del per år"));
  if (r.rejected) rows.push(receiptRow(adds ? "+" : "", r.rejected, r.rejected === 1 ? "rad avvisades" : "rader avvisades", "bad"));
  if (adds) rows.push(receiptRow("=", r.rows, r.rows === 1 ? "rad i filen" : "rader i filen", "total"));
  $("receipt-body").replaceChildren(...rows);
  show($("split-note"), r.pieces > 0);
  const warnings = (job.warnings || []).filter((w) => w && w.message);
  $("warnings").replaceChildren(...warnings.map((w) => el("li", { dataset: { code: w.code || "" } }, w.message)));
  show($("warnings"), warnings.length > 0);
  $("rejected").textContent = r.rejected
    ? `${plural(r.rejected, "rad", "rader")} kunde inte importeras: se errors.csv för rad och orsak.`
    : "Alla rader i filen blev aktiviteter.";
}

function renderCurrent() {
  const job = state.currentId ? state.jobs.get(state.currentId) : null;
  show($("current"), Boolean(job));
  if (!job) return;
  const percent = Math.max(0, Math.min(100, job.progress | 0));
  const running = job.status === "pending" || job.status === "processing";
  const done = job.status === "completed";
  // A failed or cancelled import saved nothing: no bar stopped half-way, no "150000 / 300000"
  // that reads as half of it saved.
  const nothing = job.status === "failed" || job.status === "cancelled" || job.status === "cancelling";
  $("current").dataset.status = job.status;
  $("current-title").textContent = titleFor(job);
  $("current-file").textContent = job.file_name;
  $("current-where").textContent = `${MODE_TEXT[job.mode] || job.mode} · ${wheelName(job.wheel_id)}`;
  show($("bar-row"), running || done);
  $("bar").setAttribute("aria-valuenow", String(percent));
  $("bar").setAttribute("aria-valuetext", `${percent}%`);
  $("bar-fill").style.width = `${percent}%`;
  $("percent").textContent = `${percent}%`;
  setText($("step"), running || job.status === "cancelling" ? job.current_step : "");
  setText($("processed"), running && job.total_items
    ? `${fmt(job.processed_items)} / ${fmt(job.total_items)} rader` : "");
  setText($("counts"), running ? structureText(job) : done ? structureText(job) || "Inga nya ringar, grupper eller etiketter: filens fanns redan i hjulet." : "");
  setText($("eta"), running ? etaText(job.eta_seconds) : "");
  setText($("nothing-saved"), job.status === "cancelling" ? "Importen avbryts; ingenting av den sparas."
    : nothing ? NOTHING_SAVED : "");

  show($("result"), done);
  if (done) renderReceipt(job);
  setText($("job-error"), job.status === "failed"
    ? (job.error ? `${job.error.message} (${job.error.code})` : "Import misslyckades") : "");
  const retriedBy = state.retries.get(job.id);
  const retryable = job.status === "failed" || job.status === "cancelled";
  show($("cancel"), running);
  show($("retry"), retryable && !retriedBy);
  show($("show-retry"), retryable && Boolean(retriedBy));
  setText($("retried"), retryable && retriedBy ? "Importen har redan körts igen." : "");
  show($("open-wheel"), done && state.wheelView.id !== job.wheel_id);
  show($("errors"), job.rejected_rows > 0 && TERMINAL.has(job.status));
  show($("fix-hint"), done && job.rejected_rows > 0);
}

function matchesList(job) {
  const list = state.list;
  if (list.status && job.status !== list.status) return false;
  if (list.wheel && job.wheel_id !== list.wheel) return false;
  // Jobs older than the last page loaded wait for "Visa fler", so the list has no gaps.
  return !list.more || !list.oldest || (job.created_at || "") >= list.oldest;
}

function renderList() {
  const list = $("jobs");
  const jobs = [...state.jobs.values()].filter(matchesList).sort((a, b) =>
    (b.created_at || "").localeCompare(a.created_at || "") || b.id.localeCompare(a.id));
  const filtered = Boolean(state.list.status || state.list.wheel);
  $("jobs-empty").textContent = filtered ? "Inga importer matchar filtret." : "Inga importer ännu.";
  show($("jobs-empty"), jobs.length === 0 && !state.list.loading);
  list.replaceChildren(...jobs.map(jobItem));
  show($("jobs-more"), state.list.more);
  $("jobs-more").disabled = state.list.loading;
}

function jobDetail(job) {
  switch (job.status) {
    case "completed": {
      const r = receiptOf(job);
      return `${plural(r.saved, "aktivitet", "aktiviteter")} sparade`
        + (r.skipped ? `, ${fmt(r.skipped)} fanns redan` : "")
        + (r.rejected ? `, ${plural(r.rejected, "rad", "rader")} avvisade` : "");
    }
    case "failed": {
      const message = job.error ? job.error.message : "Misslyckades";
      return `${message}${/[.!?]$/.test(message) ? "" : "."} Ingenting sparades.`;
    }
    case "cancelled": return "Avbruten – ingenting sparades.";
    case "cancelling": return "Avbryts – ingenting sparas.";
    default: return job.total_items ? `${fmt(job.processed_items)} / ${fmt(job.total_items)} rader` : job.current_step;
  }
}

function jobItem(job) {
  const active = job.status === "pending" || job.status === "processing";
  let bar = null;
  if (active) {
    const percent = Math.max(0, Math.min(100, job.progress | 0));
    const fill = el("div", { class: "bar-fill" });
    fill.style.width = `${percent}%`;
    bar = el("div", { class: "bar-row" }, el("div", {
      class: "bar small", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": String(percent), "aria-label": `Förlopp för ${job.file_name}`,
    }, fill), el("span", { class: "percent" }, `${percent}%`));
  }
  const actions = el("div", { class: "actions" });
  if (active) {
    actions.append(el("button", { type: "button", class: "danger small", onclick: () => cancelJob(job) }, "Avbryt import"));
  }
  const retriedBy = state.retries.get(job.id);
  if ((job.status === "failed" || job.status === "cancelled") && !retriedBy) {
    actions.append(el("button", { type: "button", class: "secondary small", onclick: () => retryJob(job) }, "Försök igen"));
  }
  if (job.status === "completed") {
    actions.append(el("button", {
      type: "button", class: "secondary small", onclick: () => openWheel(job.wheel_id, { scroll: true }),
    }, "Öppna hjulet"));
  }
  if (job.rejected_rows > 0 && TERMINAL.has(job.status)) {
    actions.append(el("button", { type: "button", class: "secondary small", onclick: () => downloadErrors(job) }, "errors.csv"));
  }
  if (job.id !== state.currentId) {
    actions.append(el("button", { type: "button", class: "link small", onclick: () => makeCurrent(job.id) }, "Visa"));
  }
  return el("li", { class: "job", dataset: { status: job.status, id: job.id, wheel: job.wheel_id || "" } },
    el("div", { class: "job-head" },
      el("span", { class: "job-file" }, job.file_name),
      el("span", { class: `badge ${job.status}` }, STATUS_TEXT[job.status] || job.status)),
    el("div", { class: "job-where" },
      el("span", { class: "job-wheel" }, wheelName(job.wheel_id)),
      el("span", { class: "job-mode" }, MODE_TEXT[job.mode] || job.mode)),
    bar,
    el("div", { class: "job-meta" },
      el("span", { class: "muted job-detail" }, jobDetail(job) || ""),
      el("span", { class: "muted" }, timeText(job.created_at))),
    retriedBy ? el("p", { class: "muted job-retried" }, "Har körts igen.") : null,
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
  $("upload-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const file = $("file-input").files[0];
    if (file) startReview(file);
  });
  $("submit").addEventListener("click", submitImport);
  $("review-cancel").addEventListener("click", () => { leaveReview(); $("upload-card").scrollIntoView({ block: "nearest" }); });
  $("review-sheet").addEventListener("change", (e) => changeReview({ sheet: e.target.value, mapping: null }));
  for (const radio of document.querySelectorAll("input[name=date-order]")) {
    radio.addEventListener("change", (e) => changeReview({ date_order: e.target.value }));
  }
  $("review-skip").addEventListener("change", renderReview);
  $("wheel-select").addEventListener("change", (e) => localStorage.setItem(WHEEL_KEY, e.target.value));
  $("show-wheel").addEventListener("click", () => {
    if ($("wheel-select").value) openWheel($("wheel-select").value, { scroll: true });
  });
  $("wheel-close").addEventListener("click", () => { closeWheel(); render(); });
  $("file-input").addEventListener("change", fileChosen);
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", dropFile);
  $("cancel").addEventListener("click", () => cancelJob(state.jobs.get(state.currentId)));
  $("retry").addEventListener("click", () => retryJob(state.jobs.get(state.currentId)));
  $("show-retry").addEventListener("click", () => makeCurrent(state.retries.get(state.currentId)));
  $("open-wheel").addEventListener("click", () => {
    const job = state.jobs.get(state.currentId);
    if (job) openWheel(job.wheel_id, { scroll: true });
  });
  $("errors").addEventListener("click", () => downloadErrors(state.jobs.get(state.currentId)));
  for (const [id, key] of [["filter-wheel", "wheel"], ["filter-status", "status"]]) {
    $(id).addEventListener("change", (e) => {
      state.list[key] = e.target.value;
      loadList({ reset: true }).catch((err) => setText($("upload-error"), err.message));
    });
  }
  $("jobs-more").addEventListener("click", () => loadList().catch((err) => setText($("upload-error"), err.message)));
  window.addEventListener("hashchange", () => { readFragment(); signIn(); });
  signIn();
}

init();
