// A camera's day on a canvas, on the household's clock: recorded spans (gaps
// left blank), motion activity, event marks, the playhead and a picked range.
// It zooms from the whole day down to a minute (the wheel or the page's buttons
// and keys, around the playhead or else the latest recording) and pans (a
// sideways or shifted wheel, the page's buttons; the view follows the playhead).
// A drag on it scrubs: `onScrub(ms)` hears every moment under the pointer and
// `onPick(ms)` the one it was let go at (a click is a drag that did not move).

const WIDTHS = [24, 12, 6, 3, 1, 0.5, 10 / 60, 5 / 60, 1 / 60].map((h) => h * 3600000);
const STEPS = [5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600].map((s) => s * 1000);

export class Timeline {
  constructor(canvas, day, { spans, events, privacy = [], onScrub, onPick }) {
    this.c = canvas;
    this.day = day;
    this.spans = spans;
    this.privacy = privacy;
    this.events = events;
    this.levels = [];
    this.onScrub = onScrub;
    this.onPick = onPick;
    this.zoomAt = 0;
    this.v0 = day.start;
    this.head = null;
    // Without a playhead, zooming keeps the latest recording in view.
    this.anchor = spans.length ? spans[spans.length - 1][1] : day.start + (day.end - day.start) / 2;
    this.range = null;
    this.drag = null;
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    canvas.addEventListener("pointerup", (e) => this.up(e));
    canvas.addEventListener("pointercancel", () => {
      this.drag = null;
    });
    canvas.addEventListener("wheel", (e) => this.wheel(e), { passive: false });
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  get span() {
    return Math.min(WIDTHS[this.zoomAt], this.day.end - this.day.start);
  }

  // The view starts at `v0`, kept inside the day.
  clamp() {
    this.v0 = Math.max(this.day.start, Math.min(this.v0, this.day.end - this.span));
  }

  at(clientX) {
    const r = this.c.getBoundingClientRect();
    const f = Math.max(0, Math.min(1, (clientX - r.left) / r.width));
    return this.v0 + f * this.span;
  }

  // What zooming keeps in place: the playhead, else the latest recording, when
  // in view; else the middle of the view.
  focus() {
    const seen = (t) => t !== null && t >= this.v0 && t <= this.v0 + this.span;
    return [this.head, this.anchor].find(seen) ?? this.v0 + this.span / 2;
  }

  // Zooms one step in (+1) or out (-1), keeping `around` where it is on screen.
  zoom(dir, around = this.focus()) {
    const next = Math.max(0, Math.min(WIDTHS.length - 1, this.zoomAt + dir));
    if (next === this.zoomAt) return;
    const f = (around - this.v0) / this.span;
    this.zoomAt = next;
    this.v0 = around - f * this.span;
    this.clamp();
    this.draw();
  }

  // Pans by a fraction of the view.
  pan(fraction) {
    this.v0 += fraction * this.span;
    this.clamp();
    this.draw();
  }

  // The moment playing; the view follows it when it leaves the view.
  setHead(ms) {
    this.head = ms;
    if (ms !== null && !this.drag && (ms < this.v0 || ms > this.v0 + this.span)) {
      this.v0 = ms - this.span * 0.1;
      this.clamp();
    }
    this.draw();
  }

  setRange(range) {
    this.range = range;
    this.draw();
  }

  setLevels(levels) {
    this.levels = levels;
    this.draw();
  }

  label() {
    const w = this.span / 60000;
    return w >= 60 ? `${+(w / 60).toFixed(1)} h` : `${Math.round(w)} min`;
  }

  down(e) {
    if (e.button !== 0) return;
    this.c.setPointerCapture(e.pointerId);
    this.drag = { x: e.clientX, moved: false };
    this.head = this.at(e.clientX);
    this.onScrub(this.head);
    this.draw();
  }

  move(e) {
    if (!this.drag) return;
    if (Math.abs(e.clientX - this.drag.x) > 3) this.drag.moved = true;
    this.head = this.at(e.clientX);
    this.onScrub(this.head);
    this.draw();
  }

  up(e) {
    if (!this.drag) return;
    this.drag = null;
    this.head = this.at(e.clientX);
    this.onPick(this.head);
    this.draw();
  }

  wheel(e) {
    e.preventDefault();
    if (Math.abs(e.deltaX) > Math.abs(e.deltaY) || e.shiftKey) {
      this.pan(Math.sign(e.deltaX || e.deltaY) * 0.2);
    } else if (e.deltaY) {
      this.zoom(e.deltaY < 0 ? 1 : -1, this.at(e.clientX));
    }
  }

  // Tick marks where the household's clock reads a whole step, labelled when
  // they are far enough apart; daylight-saving changes keep their local times.
  ticks(W) {
    const step = STEPS.find((s) => (s / this.span) * W >= 64) ?? STEPS[STEPS.length - 1];
    const out = [];
    const v1 = this.v0 + this.span;
    for (const [a, b, o] of this.day.offsets) {
      const from = Math.max(a, this.v0);
      const to = Math.min(b, v1);
      for (let local = Math.ceil((from + o) / step) * step; local - o < to; local += step) {
        out.push(local - o);
      }
    }
    return { step, at: out };
  }

  draw() {
    const dpr = window.devicePixelRatio || 1;
    const W = this.c.clientWidth;
    const H = this.c.clientHeight;
    if (!W || !H) return;
    this.c.width = Math.round(W * dpr);
    this.c.height = Math.round(H * dpr);
    // The view, for whoever needs to know where a moment is drawn.
    this.c.dataset.view = `${this.v0},${this.span}`;
    const ctx = this.c.getContext("2d");
    ctx.scale(dpr, dpr);
    const x = (ms) => ((ms - this.v0) / this.span) * W;
    const css = getComputedStyle(document.documentElement);
    const muted = css.getPropertyValue("--muted").trim() || "#6b6b70";
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = muted;
    const { step, at } = this.ticks(W);
    for (const t of at) {
      ctx.fillRect(x(t), 0, 1, 6);
      ctx.fillText(this.day.hm(t, step < 60000), x(t) + 3, 14);
    }
    // The range picked for export, under everything else.
    if (this.range) {
      ctx.fillStyle = "rgba(60, 110, 200, 0.25)";
      ctx.fillRect(x(this.range[0]), 18, Math.max(2, x(this.range[1]) - x(this.range[0])), H - 18);
    }
    // Privacy periods: hatched, so they read as "private", not as a gap.
    ctx.save();
    ctx.strokeStyle = "#5b6f8a";
    ctx.lineWidth = 1;
    for (const [a, b] of this.privacy) {
      if (b < this.v0 || a > this.v0 + this.span) continue;
      const [x0, x1] = [Math.max(0, x(a)), Math.min(W, Math.max(x(a) + 2, x(b)))];
      ctx.fillStyle = "rgba(91, 111, 138, 0.18)";
      ctx.fillRect(x0, 18, x1 - x0, H - 18);
      ctx.beginPath();
      ctx.rect(x0, 18, x1 - x0, H - 18);
      ctx.clip();
      for (let hx = x0 - H; hx < x1; hx += 6) {
        ctx.moveTo(hx, H);
        ctx.lineTo(hx + H - 18, 18);
      }
      ctx.stroke();
      ctx.restore();
      ctx.save();
      if (x1 - x0 > 50) {
        ctx.fillStyle = "#3d4d63";
        ctx.fillText("private", x0 + 4, 30);
      }
    }
    ctx.restore();
    ctx.fillStyle = "#c9c6bd";
    for (const [a, b] of this.spans) {
      if (b < this.v0 || a > this.v0 + this.span) continue;
      ctx.fillRect(x(a), H - 14, Math.max(1, x(b) - x(a)), 14);
    }
    ctx.fillStyle = "#b4471c";
    const sw = Math.max(1, (1000 / this.span) * W);
    for (const [second, level] of this.levels) {
      const ms = second * 1000;
      if (ms < this.v0 || ms > this.v0 + this.span) continue;
      const h = Math.max(2, Math.min(1, level * 10) * (H - 36));
      ctx.fillRect(x(ms), H - 16 - h, sw, h);
    }
    // Event marks: a small triangle at each start.
    ctx.fillStyle = "#7a2e10";
    for (const [a] of this.events) {
      if (a < this.v0 || a > this.v0 + this.span) continue;
      ctx.beginPath();
      ctx.moveTo(x(a) - 4, 18);
      ctx.lineTo(x(a) + 4, 18);
      ctx.lineTo(x(a), 25);
      ctx.fill();
    }
    if (this.head !== null) {
      ctx.fillStyle = css.getPropertyValue("--fg").trim() || "#111";
      ctx.fillRect(x(this.head) - 1, 16, 2, H - 16);
    }
  }
}
