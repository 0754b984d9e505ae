// Masks and zones drawn on a camera's picture: a canvas that shows the still,
// the polygons (points kept in 0..1 across and down, as the config keeps
// them) and, while the motion preview runs, the detector's moving blobs.
// Click adds a point to the chosen shape, dragging moves one, Delete removes
// the chosen point.

const HIT = 10; // CSS pixels within which a point is grabbed

export class ShapeEditor {
  constructor(canvas, onChange) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.onChange = onChange;
    this.shapes = []; // {kind: "mask"|"zone", name, points: [[x, y]]}
    this.sel = -1;
    this.pt = -1;
    this.drag = false;
    this.image = null;
    this.blobs = null; // {boxes: [[x0, y0, x1, y1]], width, height}
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    canvas.addEventListener("pointerup", () => this.up());
    canvas.addEventListener("keydown", (e) => {
      if (e.key === "Delete" || e.key === "Backspace") {
        e.preventDefault();
        this.deletePoint();
      }
    });
  }

  set(masks, zones) {
    this.shapes = [
      ...masks.map((p) => ({ kind: "mask", name: "", points: p.map((q) => [...q]) })),
      ...zones.map((z) => ({ kind: "zone", name: z.name, points: z.polygon.map((q) => [...q]) })),
    ];
    this.sel = this.shapes.length ? 0 : -1;
    this.pt = -1;
    this.changed(false);
  }

  // Shapes of three points or more, as the form sends them.
  get() {
    const done = this.shapes.filter((s) => s.points.length >= 3);
    return {
      masks: done.filter((s) => s.kind === "mask").map((s) => s.points),
      zones: done.filter((s) => s.kind === "zone").map((s) => ({ name: s.name, polygon: s.points })),
    };
  }

  label(i) {
    const s = this.shapes[i];
    const n = s.points.length;
    const what = s.kind === "mask" ? `mask ${this.shapes.slice(0, i + 1).filter((t) => t.kind === "mask").length}` : `zone ${s.name}`;
    return `${what} (${n} point${n === 1 ? "" : "s"}${n < 3 ? ", needs 3" : ""})`;
  }

  add(kind, name = "") {
    this.shapes.push({ kind, name, points: [] });
    this.sel = this.shapes.length - 1;
    this.pt = -1;
    this.changed();
    this.canvas.focus();
  }

  select(i) {
    this.sel = i;
    this.pt = -1;
    this.draw();
  }

  deleteShape() {
    if (this.sel < 0) return;
    this.shapes.splice(this.sel, 1);
    this.sel = Math.min(this.sel, this.shapes.length - 1);
    this.pt = -1;
    this.changed();
  }

  deletePoint() {
    const s = this.shapes[this.sel];
    if (!s || this.pt < 0) return;
    s.points.splice(this.pt, 1);
    this.pt = s.points.length ? Math.min(this.pt, s.points.length - 1) : -1;
    this.changed();
  }

  background(src) {
    return new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => {
        this.image = img;
        this.canvas.height = Math.round((this.canvas.width * img.naturalHeight) / img.naturalWidth);
        this.draw();
        resolve();
      };
      img.onerror = () => reject(new Error("the picture did not load"));
      img.src = src;
    });
  }

  showBlobs(blobs) {
    this.blobs = blobs;
    this.draw();
  }

  changed(notify = true) {
    this.draw();
    if (notify) this.onChange?.();
  }

  // The event's place in 0..1 of the picture, and the hit radius in those units.
  at(e) {
    const r = this.canvas.getBoundingClientRect();
    return { x: (e.clientX - r.left) / r.width, y: (e.clientY - r.top) / r.height, rx: HIT / r.width, ry: HIT / r.height };
  }

  hit(p) {
    for (let i = this.shapes.length - 1; i >= 0; i--) {
      const pts = this.shapes[i].points;
      for (let j = 0; j < pts.length; j++) {
        if (Math.abs(pts[j][0] - p.x) <= p.rx && Math.abs(pts[j][1] - p.y) <= p.ry) return [i, j];
      }
    }
    return null;
  }

  down(e) {
    this.canvas.focus();
    const p = this.at(e);
    const h = this.hit(p);
    if (h) {
      [this.sel, this.pt] = h;
      this.drag = true;
      this.canvas.setPointerCapture(e.pointerId);
    } else if (this.shapes[this.sel]) {
      const pts = this.shapes[this.sel].points;
      pts.push([clamp(p.x), clamp(p.y)]);
      this.pt = pts.length - 1;
      this.changed();
      return;
    }
    this.draw();
  }

  move(e) {
    if (!this.drag) return;
    const p = this.at(e);
    this.shapes[this.sel].points[this.pt] = [clamp(p.x), clamp(p.y)];
    this.draw();
  }

  up() {
    if (!this.drag) return;
    this.drag = false;
    this.changed();
  }

  draw() {
    const { ctx, canvas } = this;
    const w = canvas.width;
    const h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    if (this.image) ctx.drawImage(this.image, 0, 0, w, h);
    else {
      ctx.fillStyle = "#333";
      ctx.fillRect(0, 0, w, h);
      ctx.fillStyle = "#ccc";
      ctx.font = "16px sans-serif";
      ctx.fillText("No picture yet: test the connection, or save and reopen the camera.", 16, 28);
    }
    this.shapes.forEach((s, i) => {
      const mask = s.kind === "mask";
      ctx.beginPath();
      s.points.forEach(([x, y], j) => (j ? ctx.lineTo(x * w, y * h) : ctx.moveTo(x * w, y * h)));
      if (s.points.length >= 3) ctx.closePath();
      ctx.fillStyle = mask ? "rgba(0, 0, 0, 0.45)" : "rgba(40, 120, 255, 0.25)";
      if (s.points.length >= 3) ctx.fill();
      ctx.lineWidth = i === this.sel ? 3 : 1.5;
      ctx.strokeStyle = mask ? "#f4f4f4" : "#5aa0ff";
      ctx.stroke();
      s.points.forEach(([x, y], j) => {
        ctx.beginPath();
        ctx.arc(x * w, y * h, i === this.sel && j === this.pt ? 7 : 5, 0, 2 * Math.PI);
        ctx.fillStyle = i === this.sel && j === this.pt ? "#ffb000" : ctx.strokeStyle;
        ctx.fill();
      });
      if (!mask && s.points.length) {
        ctx.fillStyle = "#fff";
        ctx.font = "bold 15px sans-serif";
        ctx.fillText(s.name, s.points[0][0] * w + 8, s.points[0][1] * h - 8);
      }
    });
    if (this.blobs?.width) {
      const sx = w / this.blobs.width;
      const sy = h / this.blobs.height;
      ctx.lineWidth = 2;
      ctx.strokeStyle = "#ff5a1f";
      for (const [x0, y0, x1, y1] of this.blobs.boxes) ctx.strokeRect(x0 * sx, y0 * sy, (x1 - x0 + 1) * sx, (y1 - y0 + 1) * sy);
    }
  }
}

const clamp = (v) => Math.round(Math.min(1, Math.max(0, v)) * 1000) / 1000;
