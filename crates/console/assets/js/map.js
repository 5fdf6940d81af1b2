// The notices map: a Natural Earth basemap (world-atlas TopoJSON, shipped in assets/vendor),
// drawn as SVG with d3-geo's Mercator projection; both sides' notices in two styles,
// conflicts highlighted; a tool to draw a polygon or a circle for a new notice.
//
// A notice here is {id, side: "ours"|"theirs", kind, title, area, altitude, start, end,
// state}, with `area` as in PRODUCT.md: a GeoJSON Polygon/MultiPolygon, or a Point with
// `radius_m`. A conflict is {id, notices: [idA, idB], state}.

const { geoMercator, geoPath, geoGraticule10, geoCircle, geoDistance, geoArea } = globalThis.d3;
const topojson = globalThis.topojson;
const SVG = "http://www.w3.org/2000/svg";
const earthRadiusM = 6371008.8;

function el(name, attrs = {}, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.append(e);
  return e;
}

/** The GeoJSON geometry d3 should draw for a notice area (a circle becomes a polygon). */
export function drawable(area) {
  if (area.type === "Point") {
    const deg = ((area.radius_m || 0) / earthRadiusM) * (180 / Math.PI);
    return geoCircle().center(area.coordinates).radius(deg).precision(2)();
  }
  // d3 treats rings on the sphere: a ring enclosing more than a hemisphere is its
  // complement, so rewind rings given in the GeoJSON (counter-clockwise) order.
  const g = structuredClone(area);
  const polys = g.type === "Polygon" ? [g.coordinates] : g.coordinates;
  for (const poly of polys) {
    for (let i = 0; i < poly.length; i++) {
      if (geoArea({ type: "Polygon", coordinates: [poly[i]] }) > 2 * Math.PI) poly[i].reverse();
    }
  }
  return g;
}

/** A ring in RFC 7946 order (exterior counter-clockwise), closed. */
function rfc7946Ring(points) {
  const ring = points.map(([x, y]) => [round6(x), round6(y)]);
  let sum = 0;
  for (let i = 0; i < ring.length; i++) {
    const [x1, y1] = ring[i], [x2, y2] = ring[(i + 1) % ring.length];
    sum += (x2 - x1) * (y2 + y1);
  }
  if (sum > 0) ring.reverse();
  ring.push([...ring[0]]);
  return ring;
}

const round6 = (x) => Math.round(x * 1e6) / 1e6;

export class NoticeMap {
  constructor(svg, { onDraft, onMode, label }) {
    this.svg = svg;
    this.onDraft = onDraft;
    this.onMode = onMode;
    this.label = label;
    this.notices = [];
    this.conflicts = [];
    this.mode = null;
    this.points = [];
    this.draft = null;
    this.hover = null;
    this.projection = geoMercator();
    this.world = null;
    this.resize = new ResizeObserver(() => this.fit(false));
    this.resize.observe(svg);
    this.bindInput();
  }

  async load() {
    const res = await fetch("/vendor/countries-110m.json");
    const topo = await res.json();
    const countries = topo.objects.countries;
    this.world = {
      land: topojson.feature(topo, countries),
      borders: topojson.mesh(topo, countries, (a, b) => a !== b),
      coast: topojson.mesh(topo, countries, (a, b) => a === b),
    };
    this.fit(true);
  }

  size() {
    const r = this.svg.getBoundingClientRect();
    return [Math.max(r.width, 100), Math.max(r.height, 100)];
  }

  /** Fits the view to the notices (or the inhabited world) when asked or on first layout. */
  fit(reset) {
    const [w, h] = this.size();
    if (!reset && this.sized && this.sized[0] === w && this.sized[1] === h) return;
    const first = !this.sized;
    // Until the operator pans or zooms, the view follows the panel's size.
    if (this.auto) reset = true;
    if (this.sized && !reset) {
      // Keep the same place in the middle when the panel changes size.
      const [tx, ty] = this.projection.translate();
      this.projection.translate([tx + (w - this.sized[0]) / 2, ty + (h - this.sized[1]) / 2]);
    }
    this.sized = [w, h];
    if (reset || first) {
      this.auto = true;
      const target = this.notices.length
        ? { type: "GeometryCollection", geometries: this.notices.map((n) => drawable(n.area)) }
        : { type: "MultiPoint", coordinates: [[-25, 30], [60, 72]] };
      this.projection.fitExtent([[20, 20], [w - 20, h - 20]], target);
      if (this.notices.length && this.projection.scale() > 20000) this.projection.scale(20000);
    }
    this.render();
  }

  setData(notices, conflicts) {
    const firstNotices = !this.notices.length && notices.length;
    this.notices = notices;
    this.conflicts = conflicts;
    if (firstNotices) this.fit(true);
    else this.render();
  }

  zoom(factor, at) {
    this.auto = false;
    const [w, h] = this.size();
    const [px, py] = at || [w / 2, h / 2];
    const [tx, ty] = this.projection.translate();
    const s = this.projection.scale();
    const ns = Math.min(Math.max(s * factor, 50), 200000);
    const f = ns / s;
    this.projection.scale(ns).translate([px - (px - tx) * f, py - (py - ty) * f]);
    this.render();
  }

  pan(dx, dy) {
    this.auto = false;
    const [tx, ty] = this.projection.translate();
    this.projection.translate([tx + dx, ty + dy]);
    this.render();
  }

  setMode(mode) {
    this.mode = mode;
    this.points = [];
    this.hover = null;
    this.svg.classList.toggle("drawing", !!mode);
    this.onMode(mode);
    this.render();
  }

  cancel() {
    this.setMode(null);
  }

  finishPolygon() {
    if (this.mode !== "polygon" || this.points.length < 3) return;
    const area = { type: "Polygon", coordinates: [rfc7946Ring(this.points)] };
    this.setMode(null);
    this.setDraft(area);
  }

  setDraft(area) {
    this.draft = area;
    this.render();
    this.onDraft(area);
  }

  clearDraft() {
    this.draft = null;
    this.render();
  }

  eventLonLat(ev) {
    const r = this.svg.getBoundingClientRect();
    const xy = [ev.clientX - r.left, ev.clientY - r.top];
    return [this.projection.invert(xy), xy];
  }

  click(ev) {
    const [ll] = this.eventLonLat(ev);
    if (!ll || !this.mode) return;
    if (this.mode === "polygon") {
      this.points.push(ll);
      this.render();
    } else if (this.mode === "circle") {
      if (!this.points.length) {
        this.points.push(ll);
        this.render();
      } else {
        const center = this.points[0];
        const radius = Math.round(geoDistance(center, ll) * earthRadiusM);
        this.setMode(null);
        this.setDraft({ type: "Point", coordinates: [round6(center[0]), round6(center[1])], radius_m: radius });
      }
    }
  }

  bindInput() {
    const svg = this.svg;
    let down = null;
    svg.addEventListener("pointerdown", (ev) => {
      down = { x: ev.clientX, y: ev.clientY, moved: false };
      svg.setPointerCapture(ev.pointerId);
    });
    svg.addEventListener("pointermove", (ev) => {
      if (down) {
        const dx = ev.clientX - down.x, dy = ev.clientY - down.y;
        if (down.moved || Math.hypot(dx, dy) > 4) {
          down.moved = true;
          down.x = ev.clientX;
          down.y = ev.clientY;
          this.pan(dx, dy);
        }
      } else if (this.mode && this.points.length) {
        this.hover = this.eventLonLat(ev)[0];
        this.render();
      }
    });
    svg.addEventListener("pointerup", (ev) => {
      const wasClick = down && !down.moved;
      down = null;
      if (wasClick) this.click(ev);
    });
    svg.addEventListener("dblclick", (ev) => {
      ev.preventDefault();
      if (this.mode === "polygon") {
        // The double click's second click added a duplicate corner.
        if (this.points.length > 3) this.points.pop();
        this.finishPolygon();
      }
    });
    svg.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const r = svg.getBoundingClientRect();
      this.zoom(ev.deltaY < 0 ? 1.25 : 0.8, [ev.clientX - r.left, ev.clientY - r.top]);
    }, { passive: false });
    svg.addEventListener("keydown", (ev) => {
      const step = 60;
      const keys = {
        ArrowLeft: () => this.pan(step, 0), ArrowRight: () => this.pan(-step, 0),
        ArrowUp: () => this.pan(0, step), ArrowDown: () => this.pan(0, -step),
        "+": () => this.zoom(1.25), "=": () => this.zoom(1.25), "-": () => this.zoom(0.8),
        Enter: () => this.finishPolygon(), Escape: () => this.cancel(),
        // Keyboard drawing: pan the map under the crosshair, Space places a point there.
        " ": () => {
          const [w, h] = this.size();
          const r = svg.getBoundingClientRect();
          if (this.mode) this.click({ clientX: r.left + w / 2, clientY: r.top + h / 2 });
        },
      };
      if (keys[ev.key]) {
        ev.preventDefault();
        keys[ev.key]();
      }
    });
  }

  render() {
    const svg = this.svg;
    const [w, h] = this.size();
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    svg.replaceChildren();
    const path = geoPath(this.projection);
    el("rect", { class: "sea", x: 0, y: 0, width: w, height: h }, svg);
    const defs = el("defs", {}, svg);
    const hatch = el("pattern", { id: "hatch-theirs", width: 8, height: 8, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, defs);
    el("rect", { width: 8, height: 8, class: "hatch-bg" }, hatch);
    el("line", { x1: 0, y1: 0, x2: 0, y2: 8, class: "hatch-line" }, hatch);
    el("path", { class: "graticule", d: path(geoGraticule10()) }, svg);
    if (this.world) {
      el("path", { class: "land", d: path(this.world.land) }, svg);
      el("path", { class: "border", d: path(this.world.borders) }, svg);
      el("path", { class: "coast", d: path(this.world.coast) }, svg);
    }
    const inConflict = new Set(this.conflicts.filter((c) => c.state !== "acknowledged").flatMap((c) => c.notices));
    const layer = el("g", { class: "notices" }, svg);
    const order = [...this.notices].sort((a, b) => (a.side === "theirs" ? -1 : 1) - (b.side === "theirs" ? -1 : 1));
    for (const n of order) {
      const d = path(drawable(n.area));
      if (!d) continue;
      const p = el("path", { class: `notice ${n.side}`, d, "data-id": n.id }, layer);
      el("title", {}, p).textContent = n.title || n.id;
      if (inConflict.has(n.id)) el("path", { class: "conflict-ring", d, "data-conflict": n.id }, layer);
    }
    for (const n of this.notices) {
      const c = path.centroid(drawable(n.area));
      if (!Number.isFinite(c[0])) continue;
      const txt = el("text", { class: `notice-label ${n.side}`, x: c[0], y: c[1] }, layer);
      txt.textContent = n.title || "";
    }
    if (this.draft) el("path", { class: "notice draft", d: path(drawable(this.draft)) }, svg);
    if (this.mode) {
      const g = el("g", { class: "crosshair" }, svg);
      el("line", { x1: w / 2 - 10, y1: h / 2, x2: w / 2 + 10, y2: h / 2 }, g);
      el("line", { x1: w / 2, y1: h / 2 - 10, x2: w / 2, y2: h / 2 + 10 }, g);
    }
    if (this.mode && this.points.length) {
      const g = el("g", { class: "drawing-layer" }, svg);
      if (this.mode === "polygon") {
        const line = [...this.points, ...(this.hover ? [this.hover] : [])].map((p) => this.projection(p));
        el("polyline", { class: "draft-line", points: line.map((p) => p.join(",")).join(" ") }, g);
        for (const p of this.points) {
          const [x, y] = this.projection(p);
          el("circle", { class: "draft-vertex", cx: x, cy: y, r: 4 }, g);
        }
      } else if (this.hover) {
        const r = geoDistance(this.points[0], this.hover) * earthRadiusM;
        el("path", { class: "notice draft", d: path(drawable({ type: "Point", coordinates: this.points[0], radius_m: r })) }, g);
      } else {
        const [x, y] = this.projection(this.points[0]);
        el("circle", { class: "draft-vertex", cx: x, cy: y, r: 4 }, g);
      }
    }
  }
}
