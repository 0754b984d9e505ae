// The events page: new events arrive over Server-Sent Events (a running one
// grows until it ends and gets its thumbnail), a click or Enter plays one with
// its pre-roll, and each can be marked reviewed. Keys: j/k or arrows, Enter, r.

import { post } from "./app.js";
import { iso } from "./localtime.js";

const list = document.getElementById("events");
const player = document.getElementById("player");
const empty = document.getElementById("no-events");
const when = new Intl.DateTimeFormat("en-GB", {
  timeZone: list.dataset.zone,
  weekday: "short",
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});
const length = (us) => (us < 60e6 ? `${Math.ceil(us / 1e6)} s` : `${Math.ceil(us / 60e6)} min`);
const items = () => [...list.querySelectorAll(".event")];

const play = (li) => {
  for (const o of items()) o.classList.toggle("playing", o === li);
  const cam = encodeURIComponent(li.dataset.camera);
  player.hidden = false;
  player.src = `/api/cameras/${cam}/view.mp4?from=${iso(+li.dataset.from / 1000)}&to=${iso(+li.dataset.to / 1000)}`;
  player.play().catch(() => {});
};

const review = async (li) => {
  if (!li.dataset.id) return;
  const b = li.querySelector(".review");
  const on = b.getAttribute("aria-pressed") !== "true";
  const r = await post(`/api/cameras/${encodeURIComponent(li.dataset.camera)}/events/${li.dataset.id}/reviewed`, {
    reviewed: on,
  });
  if (r.ok) {
    b.setAttribute("aria-pressed", String(on));
    li.classList.toggle("reviewed", on);
  }
};

list.addEventListener("click", (e) => {
  const li = e.target.closest(".event");
  if (!li) return;
  if (e.target.closest(".review")) review(li);
  else play(li);
});
list.addEventListener("keydown", (e) => {
  const li = e.target.closest(".event");
  if (!li || e.target.closest("button")) return;
  const all = items();
  const i = all.indexOf(li);
  if (e.key === "j" || e.key === "ArrowDown") all[i + 1]?.focus();
  else if (e.key === "k" || e.key === "ArrowUp") all[i - 1]?.focus();
  else if (e.key === "Enter") play(li);
  else if (e.key === "r") review(li);
  else return;
  e.preventDefault();
});

// A card for an event that arrived over the stream.
const card = (n) => {
  const li = document.createElement("li");
  li.className = "event running";
  li.tabIndex = 0;
  li.dataset.camera = n.camera;
  li.dataset.start = n.start_us;
  const img = document.createElement("img");
  img.alt = "";
  img.width = 160;
  img.height = 90;
  const what = document.createElement("div");
  what.className = "what";
  const name = document.createElement("strong");
  const zones = document.createElement("span");
  const meta = document.createElement("span");
  meta.className = "muted small";
  what.append(name, zones, meta);
  const b = document.createElement("button");
  b.type = "button";
  b.className = "quiet review";
  b.setAttribute("aria-pressed", "false");
  b.textContent = "Reviewed";
  b.hidden = true;
  li.append(img, what, b);
  return li;
};

const show = (li, n) => {
  li.dataset.from = n.play_from_us;
  li.dataset.to = n.play_to_us;
  const [name, zones, meta] = li.querySelector(".what").children;
  name.textContent = n.camera;
  zones.textContent = n.zones.length ? ` · ${n.zones.join(", ")}` : "";
  const running = n.phase !== "ended";
  meta.textContent = ` ${when.format(new Date(n.start_us / 1000))} · ${length(n.end_us - n.start_us)}${running ? " so far" : ""} · peak ${Math.round(n.peak * 100)} %`;
  if (!running) {
    li.classList.remove("running");
    li.dataset.id = n.id;
    li.querySelector("img").src = `/api/cameras/${encodeURIComponent(n.camera)}/events/${n.id}/thumb.jpg`;
    li.querySelector(".review").hidden = false;
  }
};

// New events only on the first page of an open-ended list; within its filters.
if (list.dataset.live === "yes") {
  const events = new EventSource("/api/events/stream");
  events.addEventListener("motion", (m) => {
    const n = JSON.parse(m.data);
    if (list.dataset.camera && n.camera !== list.dataset.camera) return;
    const zf = list.dataset.zoneFilter;
    if (zf && !n.zones.includes(zf) && n.phase === "ended") return;
    let li = items().find((o) => o.dataset.camera === n.camera && o.dataset.start === String(n.start_us));
    if (!li) {
      li = card(n);
      list.prepend(li);
      empty.hidden = true;
    }
    show(li, n);
    if (zf && !n.zones.includes(zf) && n.phase !== "ended") li.hidden = true;
    else li.hidden = false;
  });
  window.addEventListener("pagehide", () => events.close());
}
