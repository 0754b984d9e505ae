// A camera's page: the day's timeline, recorded ranges picked with time pickers
// on the household's clock, and the live view. Times go to the API as RFC 3339.

import { Day, iso } from "./localtime.js";
import { playLive } from "./player.js";

const timeline = document.getElementById("timeline");
const player = document.getElementById("player");
const camera = player.dataset.camera;
const cam = encodeURIComponent(camera);
const day = new Day(+timeline.dataset.start, +timeline.dataset.end, JSON.parse(timeline.dataset.offsets));
const from = document.getElementById("from");
const to = document.getElementById("to");
const download = document.getElementById("download");
const rangeError = document.getElementById("range-error");

// The browser's own zone, when it is not the household's.
const zoneNote = document.getElementById("zone");
const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (browserZone && browserZone !== zoneNote.dataset.zone) {
  document.getElementById("browser-zone").textContent = ` (this browser is in ${browserZone})`;
}

// A new day from the picker.
const dayInput = document.getElementById("day");
dayInput.addEventListener("change", () => {
  if (dayInput.value) document.getElementById("daynav").requestSubmit();
});

let stopLive = null;
const endLive = () => {
  stopLive?.();
  stopLive = null;
};

const play = (a, b) => {
  endLive();
  rangeError.textContent = "";
  const q = `from=${iso(a)}&to=${iso(b)}`;
  player.src = `/api/cameras/${cam}/view.mp4?${q}`;
  download.href = `/api/cameras/${cam}/export.mp4?${q}`;
  download.hidden = false;
  player.play().catch(() => {});
};

const pick = (a, b) => {
  from.value = day.time(a);
  to.value = day.time(Math.min(b, day.end - 1000));
  play(a, b);
};

for (const b of document.querySelectorAll("button.play")) {
  b.addEventListener("click", () => pick(+b.dataset.from / 1000, +b.dataset.to / 1000));
}

document.getElementById("range").addEventListener("submit", (e) => {
  e.preventDefault();
  const a = day.instant(from.value);
  let b = day.instant(to.value);
  if (a === null || b === null) {
    rangeError.textContent = "That time does not exist on this day.";
    return;
  }
  if (b <= a) b = Math.min(a + 300000, day.end);
  play(a, b);
});

document.getElementById("live").addEventListener("click", () => {
  endLive();
  download.hidden = true;
  stopLive = playLive(player, camera, null, (state, detail) => {
    if (state === "unsupported") rangeError.textContent = `This browser cannot play ${detail} live.`;
    if (state === "error") rangeError.textContent = `Live view failed: ${detail}`;
  });
});
window.addEventListener("pagehide", endLive);

// The day: hour marks on the household's clock, recordings in grey, motion in
// orange; a click plays five minutes from that moment. Drawn at the canvas's
// size on screen, again when that changes.
const ticks = [...document.querySelectorAll("#tick-data li")].map((t) => [+t.dataset.at / 1000, t.textContent]);
const spans = [...document.querySelectorAll("#span-data li")].map((s) => [+s.dataset.from / 1000, +s.dataset.to / 1000]);
let levels = [];
const draw = () => {
  const dpr = window.devicePixelRatio || 1;
  const W = timeline.clientWidth;
  const H = timeline.clientHeight;
  timeline.width = Math.round(W * dpr);
  timeline.height = Math.round(H * dpr);
  const ctx = timeline.getContext("2d");
  ctx.scale(dpr, dpr);
  const x = (ms) => ((ms - day.start) / (day.end - day.start)) * W;
  const css = getComputedStyle(document.documentElement);
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = css.getPropertyValue("--muted").trim() || "#6b6b70";
  // Labels as far apart as the width allows: every 1, 2, 3 or 6 hours.
  const every = [1, 2, 3, 6].find((n) => (W / ticks.length) * n >= 40) ?? 6;
  for (const [at, label] of ticks) {
    ctx.fillRect(x(at), 0, 1, 5);
    if (label.endsWith(":00") && +label.slice(0, 2) % every === 0) ctx.fillText(label, x(at) + 2, 14);
  }
  ctx.fillStyle = "#c9c6bd";
  for (const [a, b] of spans) ctx.fillRect(x(a), H - 14, Math.max(1, x(b) - x(a)), 14);
  ctx.fillStyle = "#b4471c";
  for (const [second, level] of levels) {
    const h = Math.max(2, Math.min(1, level * 10) * (H - 34));
    ctx.fillRect(x(second * 1000), H - 16 - h, Math.max(1, W / 86400), h);
  }
};
draw();
new ResizeObserver(draw).observe(timeline);
fetch(`/api/cameras/${cam}/activity?from=${iso(day.start)}&to=${iso(day.end)}`, { credentials: "same-origin" })
  .then((r) => (r.ok ? r.json() : []))
  .then((l) => {
    levels = l;
    draw();
  });
timeline.addEventListener("click", (e) => {
  const r = timeline.getBoundingClientRect();
  const at = day.start + ((e.clientX - r.left) / r.width) * (day.end - day.start);
  pick(at, Math.min(at + 300000, day.end));
});
