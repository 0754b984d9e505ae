// The live wall: every camera the user may see, playing live (the sub stream
// when there is one). Only tiles on screen in a visible tab stream; a browser
// that cannot play live gets a still refreshed every two seconds. Layout (1, 4
// or 9 tiles at once) and order are kept in this browser.

import { canPlayLive, playLive } from "./player.js";
import { post } from "./app.js";

const wall = document.getElementById("wall");
const tiles = () => [...wall.querySelectorAll(".tile")];
const store = {
  get: (k, d) => {
    try {
      return JSON.parse(localStorage.getItem(`hearth.wall.${k}`)) ?? d;
    } catch {
      return d;
    }
  },
  set: (k, v) => localStorage.setItem(`hearth.wall.${k}`, JSON.stringify(v)),
};

// Saved order first; cameras it does not name keep theirs, after.
const order = store.get("order", []);
for (const name of [...order].reverse()) {
  const t = tiles().find((t) => t.dataset.camera === name);
  if (t) wall.prepend(t);
}
const saveOrder = () => store.set("order", tiles().map((t) => t.dataset.camera));

// One tile's stream: started while it is shown, stopped when it is not.
const running = new Map();
const visible = new Set();
const note = (tile, text) => {
  const n = tile.querySelector(".tile-note");
  n.textContent = text ?? "";
  n.hidden = !text;
};

function stillLoop(tile, why) {
  const img = tile.querySelector(".still");
  const video = tile.querySelector("video");
  video.hidden = true;
  img.hidden = false;
  note(tile, why);
  const url = `/api/cameras/${encodeURIComponent(tile.dataset.camera)}/live.jpg`;
  const load = () => {
    img.src = `${url}?t=${Date.now()}`;
  };
  load();
  const timer = setInterval(load, 2000);
  return () => clearInterval(timer);
}

function start(tile) {
  // A private camera is not connected to: its tile says so and nothing plays.
  if (running.has(tile) || tile.dataset.private) return;
  const video = tile.querySelector("video");
  if (!canPlayLive()) {
    running.set(tile, stillLoop(tile, "This browser cannot play live video here: a still every 2 s."));
    return;
  }
  const stop = playLive(video, tile.dataset.camera, null, (state, detail) => {
    if (state === "playing") note(tile, null);
    if (state === "unsupported") {
      running.set(tile, stillLoop(tile, `This browser cannot decode ${detail}: a still every 2 s.`));
    }
    if (state === "ended" || state === "error") {
      note(tile, state === "ended" ? detail : `Live view failed: ${detail}`);
      running.delete(tile);
      // Try again while the tile is still shown.
      setTimeout(() => visible.has(tile) && !document.hidden && start(tile), 3000);
    }
  });
  running.set(tile, stop);
}

function stop(tile) {
  running.get(tile)?.();
  running.delete(tile);
}

const sync = () => {
  for (const t of tiles()) {
    if (visible.has(t) && !t.hidden && !document.hidden) start(t);
    else stop(t);
  }
};

const seen = new IntersectionObserver((entries) => {
  for (const e of entries) {
    if (e.isIntersecting) visible.add(e.target);
    else visible.delete(e.target);
  }
  sync();
});
for (const t of tiles()) seen.observe(t);
document.addEventListener("visibilitychange", sync);
window.addEventListener("pagehide", () => tiles().forEach(stop));

// Layout and paging.
// One camera fills the wall; more share it as last chosen here.
let layout = tiles().length === 1 ? 1 : store.get("layout", 4);
let page = 0;
const pager = document.getElementById("pager");
const show = () => {
  const all = tiles();
  const pages = Math.max(1, Math.ceil(all.length / layout));
  page = Math.min(page, pages - 1);
  wall.dataset.layout = String(layout);
  all.forEach((t, i) => {
    t.hidden = Math.floor(i / layout) !== page;
  });
  for (const b of document.querySelectorAll("[data-layout]")) {
    if (b !== wall) b.setAttribute("aria-pressed", String(+b.dataset.layout === layout));
  }
  if (pager) {
    pager.hidden = pages < 2;
    document.getElementById("page-label").textContent = `${page + 1} of ${pages}`;
  }
  sync();
};
for (const b of document.querySelectorAll("button[data-layout]")) {
  b.addEventListener("click", () => {
    layout = +b.dataset.layout;
    store.set("layout", layout);
    show();
  });
}
document.getElementById("page-prev")?.addEventListener("click", () => {
  page = Math.max(0, page - 1);
  show();
});
document.getElementById("page-next")?.addEventListener("click", () => {
  page += 1;
  show();
});

// Arranging: each tile moves earlier or later; the order is saved.
const arrange = document.getElementById("arrange");
arrange?.addEventListener("click", () => {
  const on = arrange.getAttribute("aria-pressed") !== "true";
  arrange.setAttribute("aria-pressed", String(on));
  wall.classList.toggle("arranging", on);
  for (const c of wall.querySelectorAll(".arrange-controls")) c.hidden = !on;
});
wall.addEventListener("click", (e) => {
  const tile = e.target.closest(".tile");
  if (!tile) return;
  if (e.target.closest(".earlier")) {
    tile.previousElementSibling?.before(tile);
    saveOrder();
    show();
  } else if (e.target.closest(".later")) {
    tile.nextElementSibling?.after(tile);
    saveOrder();
    show();
  } else if (!wall.classList.contains("arranging")) {
    location.href = `/cameras/${encodeURIComponent(tile.dataset.camera)}`;
  }
});
wall.addEventListener("keydown", (e) => {
  const tile = e.target.closest(".tile");
  if (tile && e.target === tile && (e.key === "Enter" || e.key === " ")) {
    e.preventDefault();
    location.href = `/cameras/${encodeURIComponent(tile.dataset.camera)}`;
  }
});

// Health badges, refreshed every five seconds.
const badge = (tile, cam) => {
  const s = cam.streams.find((s) => s.stream === "sub") ?? cam.streams[0];
  const b = tile.querySelector(".badge");
  if (!s || !b) return;
  b.className = `badge ${s.connected ? "ok" : "bad"}`;
  b.textContent = s.connected ? `live · ${s.fps} fps` : "offline";
  b.title = `${s.reconnects} reconnects`;
  let err = tile.querySelector(".tile-error");
  if (!s.connected && s.last_error) {
    if (!err) {
      err = document.createElement("p");
      err.className = "tile-error";
      tile.querySelector(".tile-bar").after(err);
    }
    err.textContent = s.last_error;
  } else {
    err?.remove();
  }
};
const refresh = async () => {
  if (document.hidden) return;
  const r = await fetch("/api/cameras", { credentials: "same-origin" }).catch(() => null);
  if (!r?.ok) return;
  for (const cam of await r.json()) {
    const t = tiles().find((t) => t.dataset.camera === cam.name);
    if (t) badge(t, cam);
  }
};
setInterval(refresh, 5000);
show();

// Privacy groups ("home mode"): every camera of the group at once.
const groupMessage = document.getElementById("group-message");
for (const b of document.querySelectorAll("button[data-group]")) {
  b.addEventListener("click", async () => {
    b.disabled = true;
    const r = await post(`/api/privacy/groups/${encodeURIComponent(b.dataset.group)}`, {
      private: b.dataset.private === "true",
    });
    if (r.ok) {
      location.reload();
      return;
    }
    b.disabled = false;
    groupMessage.textContent = (await r.json().catch(() => ({}))).error ?? `Not switched (${r.status})`;
  });
}
