// The year wheel: an SVG drawing of one page (year) of a wheel, its legend, and a searchable,
// paged table of the same items (the accessible alternative to the drawing).
//
// Speed: the drawing makes one <path> per ring × activity group, whose `d` holds every arc of
// that pair, so 20,000 items cost about a hundred DOM nodes; the table shows one page of rows.
// Everything from the data is put in as text or as an attribute value, never as markup.

const SVG_NS = "http://www.w3.org/2000/svg";
// Rows per page of the table: a phone shows fewer, so that the page below stays within reach.
const PAGE_SIZE = () => (window.matchMedia("(min-width: 40rem)").matches ? 25 : 10);

// Geometry in viewBox units (the viewBox is -500..500 both ways).
const R_OUT = 430; // outer edge of the outermost ring
const R_IN = 118; // the hole in the middle, where the year is written
const R_LABEL = 464; // month names
const LANE_MIN = 4; // the thinnest lane an item may get; with more overlap, lanes are shared
const LANE_MAX = 16; // the thickest: a ring with few items keeps thin arcs at its outer edge
const LONG_DAYS = 60; // an item at least this long is "long": laid out after the short ones

// ---------- pure helpers (exported for the tests' sake and for app.js) ----------

// FNV-1a over the UTF-16 code units: the same name gives the same number in every browser.
function hash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// A stable colour for an activity group, derived from its name alone: the items route gives
// names, not the stored colours, and a group must keep its colour across imports and pages.
// Lightness stays in a band where white and black text both read and the arcs stand out
// from the light background.
export function groupColor(name) {
  const h = hash(String(name ?? ""));
  const hue = h % 360;
  const saturation = 55 + ((h >>> 12) % 3) * 12; // 55, 67, 79 %
  const lightness = 36 + ((h >>> 16) % 3) * 9; // 36, 45, 54 %
  return `hsl(${hue} ${saturation}% ${lightness}%)`;
}

function isLeap(year) {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

// Day of the year, 0-based, for "YYYY-MM-DD"; dates outside `year` are clamped to it (a
// piece of a split item never is, but a clamped day draws better than a wild angle).
function dayIndex(iso, year, offsets, days) {
  const y = +iso.slice(0, 4);
  if (y < year) return 0;
  if (y > year) return days - 1;
  return offsets[+iso.slice(5, 7) - 1] + +iso.slice(8, 10) - 1;
}

function monthOffsets(year) {
  const lengths = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  const offsets = [];
  let sum = 0;
  for (const n of lengths) {
    offsets.push(sum);
    sum += n;
  }
  return { offsets, lengths, days: sum };
}

const r1 = (x) => Math.round(x * 10) / 10;

// An annulus sector from angle a0 to a1 (radians, clockwise from 12 o'clock) between radii
// rIn and rOut, as path commands.
function sector(a0, a1, rIn, rOut) {
  const s0 = Math.sin(a0), c0 = Math.cos(a0), s1 = Math.sin(a1), c1 = Math.cos(a1);
  const large = a1 - a0 > Math.PI ? 1 : 0;
  return `M${r1(rOut * s0)} ${r1(-rOut * c0)}A${rOut} ${rOut} 0 ${large} 1 ${r1(rOut * s1)} ${r1(-rOut * c1)}`
    + `L${r1(rIn * s1)} ${r1(-rIn * c1)}A${rIn} ${rIn} 0 ${large} 0 ${r1(rIn * s0)} ${r1(-rIn * c0)}Z`;
}

const byName = (a, b) => a.localeCompare(b, "sv");

// Everything the drawing needs for one page: ring order, lanes, one path per ring × group.
// `items` are the page's items in start-date order (as the API gives them).
export function layoutYear(items, year) {
  const { offsets, days } = monthOffsets(year);
  const ringNames = [...new Set(items.map((it) => it.ring))].sort(byName);
  const ringIndex = new Map(ringNames.map((name, i) => [name, i]));
  const rings = ringNames.length || 1;
  const band = (R_OUT - R_IN) / rings;
  const maxLanes = Math.max(1, Math.floor((band - 4) / LANE_MIN));

  // First pass: days and lanes. A lane takes an item when its last item ended before this one
  // starts; with every lane busy and no room for another, the lane that frees up first is
  // shared (arcs overlap there, the table still lists each item). Short items are laid out
  // first, so that long ones (a fiscal year, a whole-year project), which would each hold a
  // lane for months, cannot take every lane and push the short ones on top of each other:
  // they get the inner lanes that are left.
  const placed = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    const start = dayIndex(it.start_date, year, offsets, days);
    const end = Math.max(start, dayIndex(it.end_date || it.start_date, year, offsets, days));
    placed[i] = { ring: ringIndex.get(it.ring), lane: 0, start, end };
  }
  const laneEnds = ringNames.map(() => []);
  const assign = (p) => {
    const ends = laneEnds[p.ring];
    let lane = -1;
    for (let l = 0; l < ends.length; l++) {
      if (ends[l] < p.start) { lane = l; break; }
    }
    if (lane < 0 && ends.length < maxLanes) {
      lane = ends.length;
      ends.push(-1);
    }
    if (lane < 0) {
      lane = 0;
      for (let l = 1; l < ends.length; l++) if (ends[l] < ends[lane]) lane = l;
    }
    ends[lane] = Math.max(ends[lane], p.end);
    p.lane = lane;
  };
  // Both passes keep the items' start-date order, which is what makes the greedy lanes tight.
  for (const p of placed) if (p.end - p.start < LONG_DAYS) assign(p);
  for (const p of placed) if (p.end - p.start >= LONG_DAYS) assign(p);

  // Second pass: geometry, gathered per ring × group.
  const groups = new Map(); // key -> { ring, group, parts: [], count }
  const counts = new Map(); // group -> items on this page
  const turn = (2 * Math.PI) / days;
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    const { ring, lane, start, end } = placed[i];
    const lanes = laneEnds[ring].length;
    const outer = R_OUT - ring * band - 2;
    const height = Math.min(LANE_MAX, (band - 4) / lanes);
    const rOut = outer - lane * height;
    const rIn = rOut - height + Math.min(1, height * 0.2);
    // A whole-year item would start and end on the same point: keep a hair's breadth open.
    const a1 = Math.min((end + 1) * turn, 2 * Math.PI - 1e-4);
    const key = `${ring}\u0000${it.group}`;
    let entry = groups.get(key);
    if (!entry) {
      entry = { ring, group: it.group, parts: [], count: 0 };
      groups.set(key, entry);
    }
    entry.parts.push(sector(start * turn, a1, r1(rIn), r1(rOut)));
    entry.count++;
    counts.set(it.group, (counts.get(it.group) || 0) + 1);
  }
  return { year, days, offsets, ringNames, band, groups: [...groups.values()], counts };
}

// ---------- DOM helpers ----------

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
  }
  return node;
}

function swatch(group) {
  const node = el("span", { class: "swatch", "aria-hidden": "true" });
  node.style.backgroundColor = groupColor(group); // CSSOM, which the page's CSP allows
  return node;
}

// "3 mar" or "3 mar–5 apr" (sv), "Mar 3–Apr 5" (en): the year is the tab's.
function rangeText(item, dayText) {
  const start = dayText(item.start_date);
  return !item.end_date || item.end_date === item.start_date ? start : `${start}–${dayText(item.end_date)}`;
}

// ---------- the view ----------

export class WheelView {
  // `find` gives the view's elements by their names in index.html's #wheel-view section
  // ("wheel-svg", …); another view (the review's) finds its own. `prefix` keeps the ids the
  // view makes itself (its tabs') apart from another view's.
  // `texts` is the page's { t, tn, count, dayMonth, lang } (app.js).
  constructor(find, { prefix = "", texts }) {
    this.$ = find;
    this.prefix = prefix;
    this.texts = texts;
    this.months = texts.t("wheel.months");
    this.wheel = null;
    this.items = [];
    this.byYear = new Map();
    this.year = null;
    this.layout = null;
    this.query = "";
    this.group = null; // legend filter
    this.spot = null; // { day, ring } clicked on the drawing
    this.page = 0;
    this.lastDraw = null;
    this.searchTimer = 0;
    this.$("wheel-search").addEventListener("input", () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => {
        this.query = this.$("wheel-search").value.trim().toLocaleLowerCase("sv");
        this.page = 0;
        this.renderTable();
      }, 120);
    });
    this.$("wheel-prev").addEventListener("click", () => { this.page--; this.renderTable(); });
    this.$("wheel-next").addEventListener("click", () => { this.page++; this.renderTable(); });
    this.$("wheel-filter-clear").addEventListener("click", () => this.setFilter(null, null));
    this.$("wheel-svg").addEventListener("click", (e) => this.pick(e));
    this.$("wheel-tabs").addEventListener("keydown", (e) => this.tabKey(e));
    // Forty groups make a long legend: open beside the wheel on a wide screen, folded on a phone.
    this.$("wheel-legend").closest("details").open = window.matchMedia("(min-width: 62rem)").matches;
  }

  // A new wheel (or the same one after an import): `items` are all of its items.
  show(wheel, items, { year } = {}) {
    this.wheel = wheel;
    this.items = items;
    this.byYear = new Map();
    for (const it of items) {
      let list = this.byYear.get(it.page_year);
      if (!list) this.byYear.set(it.page_year, (list = []));
      list.push(it);
    }
    for (const list of this.byYear.values()) {
      // The API pages in (start date, id) order; the drawing's lanes and the table read the
      // items of one day by name, whatever order their ids give them.
      list.sort((a, b) => (a.start_date < b.start_date ? -1 : a.start_date > b.start_date ? 1 : byName(a.name, b.name)));
      // Lower-cased once, so that a search over 20,000 items is a plain substring test.
      for (const it of list) {
        it._text = [it.name, it.group, it.ring, it.label, it.description, it.start_date, it.end_date]
          .filter(Boolean).join("\n").toLocaleLowerCase("sv");
      }
    }
    const years = [...this.byYear.keys()].sort((a, b) => a - b);
    const wanted = year ?? this.year;
    this.year = years.includes(wanted) ? wanted : years.includes(wheel.year) ? wheel.year : years[0] ?? null;
    this.renderTabs(years);
    this.selectYear(this.year, { focus: false });
  }

  renderTabs(years) {
    const tabs = this.$("wheel-tabs");
    tabs.replaceChildren(...years.map((y) => {
      const count = this.byYear.get(y).length;
      return el("button", {
        type: "button", role: "tab", id: `${this.prefix}wheel-tab-${y}`, "aria-controls": this.$("wheel-panel").id,
        "data-year": String(y), onclick: () => this.selectYear(y, { focus: true }),
      }, String(y), el("span", { class: "tab-count" }, this.texts.count(count)));
    }));
    tabs.hidden = years.length === 0;
  }

  selectYear(year, { focus }) {
    this.year = year;
    this.group = null;
    this.spot = null;
    this.page = 0;
    for (const tab of this.$("wheel-tabs").children) {
      const selected = Number(tab.dataset.year) === year;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      if (selected && focus) tab.focus();
    }
    if (year !== null) this.$("wheel-panel").setAttribute("aria-labelledby", `${this.prefix}wheel-tab-${year}`);
    this.draw();
    this.renderLegend();
    this.renderTable();
  }

  // Arrow keys move between the tabs, as the ARIA tabs pattern has it.
  tabKey(event) {
    const years = [...this.byYear.keys()].sort((a, b) => a - b);
    const at = years.indexOf(this.year);
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (step === undefined || at < 0) return;
    event.preventDefault();
    this.selectYear(years[(at + step + years.length) % years.length], { focus: true });
  }

  draw() {
    const started = performance.now();
    const items = this.year === null ? [] : this.byYear.get(this.year);
    const year = this.year ?? this.wheel.year;
    const layout = layoutYear(items, year);
    this.layout = layout;
    const root = this.$("wheel-svg");
    const title = root.querySelector("title");
    const { t, tn } = this.texts;
    title.textContent = t("wheel.drawing", {
      year: String(year), items: tn("count.items", items.length), rings: tn("count.rings", layout.ringNames.length),
      groups: tn("count.groups", layout.counts.size),
    });

    const frame = svg("g", { class: "frame" });
    const { offsets, days } = layout;
    const turn = (2 * Math.PI) / days;
    // Months: alternating shading behind the rings, a spoke at each start, the name outside.
    for (let m = 0; m < 12; m++) {
      const a0 = offsets[m] * turn;
      const a1 = (m === 11 ? days : offsets[m + 1]) * turn;
      frame.append(svg("path", { d: sector(a0, a1, R_IN, R_OUT), class: m % 2 ? "month odd" : "month" }));
    }
    for (let m = 0; m < 12; m++) {
      const a = offsets[m] * turn;
      frame.append(svg("line", {
        x1: r1(R_IN * Math.sin(a)), y1: r1(-R_IN * Math.cos(a)),
        x2: r1((R_OUT + 10) * Math.sin(a)), y2: r1(-(R_OUT + 10) * Math.cos(a)), class: "spoke",
      }));
      const mid = (offsets[m] + (m === 11 ? days - offsets[m] : offsets[m + 1] - offsets[m]) / 2) * turn;
      frame.append(svg("text", {
        x: r1(R_LABEL * Math.sin(mid)), y: r1(-R_LABEL * Math.cos(mid)), class: "month-name",
      }, this.months[m]));
    }
    layout.ringNames.forEach((name, i) => {
      const outer = R_OUT - i * layout.band;
      const ring = svg("circle", { r: r1(outer), class: "ring-edge" });
      ring.append(svg("title", {}, name));
      frame.append(ring);
    });

    const arcs = svg("g", { class: "arcs" });
    for (const entry of layout.groups) {
      const path = svg("path", {
        d: entry.parts.join(""), fill: groupColor(entry.group), "data-arcs": entry.count,
        "data-ring": layout.ringNames[entry.ring], "data-group": entry.group,
      });
      path.append(svg("title", {}, t("wheel.arcTitle", { group: entry.group, ring: layout.ringNames[entry.ring], n: entry.count })));
      arcs.append(path);
    }

    // Ring numbers at 12 o'clock, matched to names in the list under the drawing.
    const marks = svg("g", { class: "ring-marks", "aria-hidden": "true" });
    layout.ringNames.forEach((_, i) => {
      const mid = R_OUT - (i + 0.5) * layout.band;
      marks.append(svg("circle", { cx: 0, cy: r1(-mid), r: 13, class: "ring-mark" }));
      marks.append(svg("text", { x: 0, y: r1(-mid), class: "ring-mark-text" }, String(i + 1)));
    });

    const centre = svg("g", { class: "centre" });
    centre.append(svg("circle", { r: R_IN - 6, class: "hole" }));
    centre.append(svg("text", { x: 0, y: -8, class: "centre-year" }, String(year)));
    const name = this.wheel.title.length > 22 ? `${this.wheel.title.slice(0, 21)}…` : this.wheel.title;
    centre.append(svg("text", { x: 0, y: 34, class: "centre-title" }, name));

    root.replaceChildren(title, frame, arcs, marks, centre);
    root.dataset.items = String(items.length);

    const rings = this.$("wheel-rings");
    rings.replaceChildren(el("span", { class: "rings-head" }, t("wheel.rings")),
      ...layout.ringNames.map((n, i) => el("span", { class: "ring-name" }, `${i + 1} ${n}`)));

    // The figure: JavaScript and DOM work now, and until the drawing is on screen (the next
    // frame, after style, layout and paint).
    const built = performance.now();
    this.lastDraw = { items: items.length, buildMs: built - started, paintedMs: null };
    root.dataset.buildMs = (built - started).toFixed(1);
    delete root.dataset.paintedMs;
    requestAnimationFrame(() => setTimeout(() => {
      const painted = performance.now() - started;
      this.lastDraw.paintedMs = painted;
      root.dataset.paintedMs = painted.toFixed(1);
      performance.measure("wheel-draw", { start: started, duration: painted });
    }, 0));
    this.applyDim();
  }

  renderLegend() {
    const layout = this.layout;
    const entries = [...layout.counts.entries()].sort((a, b) => b[1] - a[1] || byName(a[0], b[0]));
    const list = this.$("wheel-legend");
    list.replaceChildren(...entries.map(([group, count]) => el("li", {},
      el("button", {
        type: "button", class: "legend-item", "aria-pressed": String(this.group === group),
        onclick: () => this.setFilter(this.group === group ? null : group, null),
      }, swatch(group), el("span", { class: "legend-name" }, group), el("span", { class: "legend-count" }, this.texts.count(count))))));
    this.$("wheel-legend-count").textContent = String(entries.length);
  }

  setFilter(group, spot) {
    this.group = group;
    this.spot = spot;
    this.page = 0;
    for (const button of this.$("wheel-legend").querySelectorAll("button")) {
      const name = button.querySelector(".legend-name").textContent;
      button.setAttribute("aria-pressed", String(name === group));
    }
    this.applyDim();
    this.renderTable();
  }

  applyDim() {
    for (const path of this.$("wheel-svg").querySelectorAll(".arcs path")) {
      const off = (this.group !== null && path.dataset.group !== this.group)
        || (this.spot !== null && path.dataset.ring !== this.layout.ringNames[this.spot.ring]);
      path.classList.toggle("dim", off);
    }
  }

  // A click on the drawing lists what that ring holds on that day.
  pick(event) {
    const root = this.$("wheel-svg");
    const matrix = root.getScreenCTM();
    if (!matrix || !this.layout) return;
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    const r = Math.hypot(point.x, point.y);
    if (r < R_IN || r > R_OUT || this.layout.ringNames.length === 0) return;
    let angle = Math.atan2(point.x, -point.y);
    if (angle < 0) angle += 2 * Math.PI;
    const day = Math.min(this.layout.days - 1, Math.floor((angle / (2 * Math.PI)) * this.layout.days));
    const ring = Math.min(this.layout.ringNames.length - 1, Math.floor((R_OUT - r) / this.layout.band));
    this.setFilter(this.group, { day, ring });
  }

  visibleItems() {
    const items = this.year === null ? [] : this.byYear.get(this.year);
    const { query, group, spot, layout } = this;
    if (!query && group === null && spot === null) return items;
    let day = null;
    if (spot) {
      // The clicked day as "YYYY-MM-DD", compared as text with the items' dates.
      const month = layout.offsets.findLastIndex((o) => o <= spot.day);
      const date = `${layout.year}-${String(month + 1).padStart(2, "0")}-${String(spot.day - layout.offsets[month] + 1).padStart(2, "0")}`;
      day = { date, ring: layout.ringNames[spot.ring] };
    }
    return items.filter((it) => (group === null || it.group === group)
      && (day === null || (it.ring === day.ring && it.start_date <= day.date && (it.end_date || it.start_date) >= day.date))
      && (!query || it._text.includes(query)));
  }

  renderTable() {
    const all = this.year === null ? [] : this.byYear.get(this.year);
    const rows = this.visibleItems();
    const size = PAGE_SIZE();
    const pages = Math.max(1, Math.ceil(rows.length / size));
    this.page = Math.min(Math.max(0, this.page), pages - 1);
    const first = this.page * size;
    const shown = rows.slice(first, first + size);
    this.$("wheel-tbody").replaceChildren(...shown.map((it) => el("tr", {},
      el("td", { class: "item-name" }, it.name,
        it.description ? el("span", { class: "item-description", title: it.description }, it.description) : null),
      el("td", { class: "nowrap" }, rangeText(it, this.texts.dayMonth)),
      el("td", {}, el("span", { class: "item-group" }, swatch(it.group), el("span", {}, it.group)),
        el("span", { class: "item-ring" }, it.ring)),
      el("td", {}, it.label || ""))));
    const filtered = rows.length !== all.length;
    const { t } = this.texts;
    this.$("wheel-count").textContent = rows.length === 0
      ? (filtered ? t("wheel.noMatch") : t("wheel.noItems"))
      : t("wheel.range", { first: first + 1, last: first + shown.length, total: rows.length })
        + (filtered ? t("wheel.ofYear", { all: all.length }) : "");
    this.$("wheel-prev").disabled = this.page === 0;
    this.$("wheel-next").disabled = this.page >= pages - 1;
    this.$("wheel-pager").hidden = pages <= 1;

    const chip = this.$("wheel-filter");
    const parts = [];
    if (this.group !== null) parts.push(t("wheel.filterGroup", { group: this.group }));
    if (this.spot !== null) {
      const month = this.layout.offsets.findLastIndex((o) => o <= this.spot.day);
      const iso = `${this.layout.year}-${String(month + 1).padStart(2, "0")}-${String(this.spot.day - this.layout.offsets[month] + 1).padStart(2, "0")}`;
      parts.push(t("wheel.filterSpot", { date: this.texts.dayMonth(iso), ring: this.layout.ringNames[this.spot.ring] }));
    }
    chip.hidden = parts.length === 0;
    this.$("wheel-filter-text").textContent = parts.length ? t("wheel.filter", { parts: parts.join(", ") }) : "";
  }
}
