// A camera's page: its day on a timeline that scrubs with stills and plays from
// where it is let go, continuing through the day's recordings; keys and speeds
// for playback; a range picked for download; live view. Every time shown is on
// the household's clock; times go to the API as RFC 3339.

import { Day, iso } from "./localtime.js";
import { playLive } from "./player.js";
import { Timeline } from "./timeline.js";
import { Exports } from "./exports.js";
import { post } from "./app.js";

const canvas = document.getElementById("timeline");
const player = document.getElementById("player");
const still = document.getElementById("scrub");
const position = document.getElementById("position");
const camera = player.dataset.camera;
const cam = encodeURIComponent(camera);
const day = new Day(+canvas.dataset.start, +canvas.dataset.end, JSON.parse(canvas.dataset.offsets));
const from = document.getElementById("from");
const to = document.getElementById("to");
const download = document.getElementById("download");
const size = document.getElementById("size");
const message = document.getElementById("message");
const speed = document.getElementById("speed");
const streamChoice = document.getElementById("stream");
const frameStep = 1 / (+player.dataset.fps || 15);
const say = (text) => {
  message.textContent = text;
};

// An admin switches recording off or on; the page then shows since when and by whom.
const recordingSwitch = document.getElementById("recording-switch");
recordingSwitch?.addEventListener("click", async () => {
  const on = recordingSwitch.dataset.to === "on";
  recordingSwitch.disabled = true;
  const r = await post(`/api/admin/cameras/${cam}/recording`, { on });
  if (r.ok) {
    location.reload();
    return;
  }
  recordingSwitch.disabled = false;
  say((await r.json().catch(() => ({}))).error ?? `Recording not switched (${r.status})`);
});

// Privacy mode: anyone who may view the camera turns it on; an admin ends it.
const privacySwitch = document.getElementById("privacy-switch");
privacySwitch?.addEventListener("click", async () => {
  const priv = privacySwitch.dataset.private === "true";
  privacySwitch.disabled = true;
  const r = await post(`/api/cameras/${cam}/privacy`, { private: priv });
  if (r.ok) {
    location.reload();
    return;
  }
  privacySwitch.disabled = false;
  say((await r.json().catch(() => ({}))).error ?? `Privacy mode not switched (${r.status})`);
});

// The browser's own zone, when its clock differs from the household's on this
// day ("UTC" and "Etc/UTC" are one clock).
const zoneNote = document.getElementById("zone");
const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const sameClock = [day.start, (day.start + day.end) / 2, day.end - 1].every(
  (ms) => -new Date(ms).getTimezoneOffset() * 60000 === day.offset(ms),
);
if (browserZone && !sameClock) {
  document.getElementById("browser-zone").textContent = ` (this browser is in ${browserZone})`;
}

const dayInput = document.getElementById("day");
dayInput.addEventListener("change", () => {
  if (dayInput.value) document.getElementById("daynav").requestSubmit();
});

const list = (id) => [...document.querySelectorAll(`#${id} li`)].map((s) => [+s.dataset.from / 1000, +s.dataset.to / 1000]);
const spans = list("span-data");
const events = list("event-data");
const privacy = list("privacy-data");

let stopLive = null;
let soundOn = false;
const endLive = () => {
  stopLive?.();
  stopLive = null;
};

// Playback: `first` is the wall time of the video's time 0 (the key frame the
// plan starts at); gaps keep their length in the video, so the wall time is
// first + currentTime and a gap is skipped by seeking past it.
let playing = null;
const WINDOW = 3600000;

const show = (ms) => {
  position.textContent = ms === null ? "" : day.time(ms);
  player.dataset.at = ms === null ? "" : String(Math.round(ms));
};

const playFrom = async (at, end = Math.min(at + WINDOW, day.end)) => {
  endLive();
  say("");
  const next = spans.find(([, b]) => b > at);
  if (!next) {
    say("Nothing was recorded after that moment on this day.");
    return;
  }
  if (next[0] > at) at = next[0];
  if (end <= at) end = Math.min(at + WINDOW, day.end);
  const q = `from=${iso(at)}&to=${iso(end)}`;
  const r = await fetch(`/api/cameras/${cam}/range?${q}`, { credentials: "same-origin" });
  if (!r.ok) {
    say(r.status === 404 ? "Nothing was recorded there." : `Playback failed: ${await r.text()}`);
    return;
  }
  const info = await r.json();
  playing = { first: Date.parse(info.first), at, end };
  player.src = `/api/cameras/${cam}/view.mp4?${q}`;
  player.playbackRate = +speed.value;
  player.addEventListener(
    "loadedmetadata",
    () => {
      player.currentTime = Math.max(0, (at - playing.first) / 1000);
      player.playbackRate = +speed.value;
    },
    { once: true },
  );
  player.play().catch(() => {});
  timeline.setHead(at);
  show(at);
};

player.addEventListener("timeupdate", () => {
  if (!playing) return;
  const wall = playing.first + player.currentTime * 1000;
  // In a gap between recordings: on to the next one.
  if (!spans.some(([a, b]) => wall >= a && wall < b)) {
    const next = spans.find(([a]) => a > wall);
    if (next && next[0] < playing.end) player.currentTime = (next[0] - playing.first) / 1000;
  }
  timeline.setHead(wall);
  show(wall);
});
// At the end of what was asked for: on through what has been recorded since
// (today the recording goes on), and once caught up with now, live.
player.addEventListener("ended", async () => {
  if (!playing) return;
  const wall = Math.max(playing.first + player.currentTime * 1000, playing.at);
  if (isToday()) await refreshSpans();
  if (spans.some(([, b]) => b > wall + 1000)) playFrom(Math.min(wall, playing.end));
  else if (isToday()) {
    watchLive(streamChoice.value || null);
    say("Caught up with the recording: this is live.");
  }
});

// Today's spans grow as the camera records: fetched again every 20 s while the
// page is shown (the API takes at most a day at once; a DST day is 25 hours,
// so in halves).
const isToday = () => Date.now() >= day.start && Date.now() < day.end;
const refreshSpans = async () => {
  const to = Math.min(Date.now(), day.end);
  const runs = [];
  for (let a = day.start; a < to; a += 12 * 3600000) {
    const b = Math.min(a + 12 * 3600000, to);
    const r = await fetch(`/api/cameras/${cam}/recordings?from=${iso(a)}&to=${iso(b)}`, {
      credentials: "same-origin",
    });
    if (!r.ok) return;
    for (const s of await r.json()) {
      const [from, until] = [s.start_us / 1000, s.end_us / 1000];
      const last = runs[runs.length - 1];
      if (last && from - last[1] < 1500) last[1] = Math.max(last[1], until);
      else runs.push([from, until]);
    }
  }
  spans.splice(0, spans.length, ...runs);
  timeline.draw();
};
setInterval(() => {
  if (isToday() && !document.hidden) refreshSpans();
}, 20000);

const wallNow = () => (playing ? playing.first + player.currentTime * 1000 : timeline.head);

// Stills while dragging: one request at a time, always for the latest moment.
let wanted = null;
let loading = false;
const fetchStill = () => {
  if (loading || wanted === null) return;
  const at = wanted;
  wanted = null;
  loading = true;
  still.src = `/api/cameras/${cam}/still.jpg?at=${iso(at)}`;
};
still.addEventListener("load", () => {
  loading = false;
  still.hidden = !scrubbing;
  fetchStill();
});
still.addEventListener("error", () => {
  loading = false;
  still.hidden = true;
  fetchStill();
});
let scrubbing = false;

const timeline = new Timeline(canvas, day, {
  spans,
  events,
  privacy,
  onScrub: (at) => {
    scrubbing = true;
    show(at);
    if (!spans.some(([a, b]) => at >= a && at < b)) return;
    wanted = at;
    fetchStill();
  },
  onPick: (at) => {
    scrubbing = false;
    still.hidden = true;
    wanted = null;
    playFrom(at);
  },
});
const zoomLabel = document.getElementById("zoom-level");
const zoomed = () => {
  zoomLabel.textContent = timeline.label();
};
zoomed();
document.getElementById("zoom-in").addEventListener("click", () => {
  timeline.zoom(1);
  zoomed();
});
document.getElementById("zoom-out").addEventListener("click", () => {
  timeline.zoom(-1);
  zoomed();
});
document.getElementById("pan-back").addEventListener("click", () => timeline.pan(-0.5));
document.getElementById("pan-on").addEventListener("click", () => timeline.pan(0.5));
canvas.addEventListener("wheel", zoomed);

fetch(`/api/cameras/${cam}/activity?from=${iso(day.start)}&to=${iso(day.end)}`, { credentials: "same-origin" })
  .then((r) => (r.ok ? r.json() : []))
  .then((l) => timeline.setLevels(l));

// Speed and keys.
speed.addEventListener("change", () => {
  player.playbackRate = +speed.value;
});
const seekBy = (s) => {
  if (playing) player.currentTime = Math.max(0, player.currentTime + s);
};
const toEvent = (dir) => {
  const now = wallNow() ?? (dir > 0 ? day.start : day.end);
  const e = dir > 0 ? events.find(([a]) => a > now + 1000) : events.findLast(([a]) => a < now - 1000);
  if (e) playFrom(e[0], e[1]);
};
document.getElementById("prev-event").addEventListener("click", () => toEvent(-1));
document.getElementById("next-event").addEventListener("click", () => toEvent(1));
document.addEventListener("keydown", (e) => {
  if (e.target.closest("input, select, textarea, button, a") || e.ctrlKey || e.metaKey || e.altKey) return;
  const act = {
    " ": () => (player.paused ? player.play().catch(() => {}) : player.pause()),
    k: () => (player.paused ? player.play().catch(() => {}) : player.pause()),
    ArrowLeft: () => seekBy(-10),
    ArrowRight: () => seekBy(10),
    ",": () => {
      player.pause();
      seekBy(-frameStep);
    },
    ".": () => {
      player.pause();
      seekBy(frameStep);
    },
    "[": () => toEvent(-1),
    "]": () => toEvent(1),
    "+": () => {
      timeline.zoom(1);
      zoomed();
    },
    "-": () => {
      timeline.zoom(-1);
      zoomed();
    },
  }[e.key];
  if (!act) return;
  e.preventDefault();
  act();
});

// A range for download: typed on the household's clock or taken from the
// playhead; its size comes from the index before anything is fetched.
const pickedRange = () => {
  const a = day.instant(from.value);
  let b = day.instant(to.value);
  if (a === null || b === null) return null;
  if (b <= a) b = Math.min(a + 300000, day.end);
  return [a, b];
};
const describe = async () => {
  const r = pickedRange();
  timeline.setRange(r);
  download.hidden = true;
  size.textContent = "";
  if (!r) return;
  const q = `from=${iso(r[0])}&to=${iso(r[1])}`;
  const res = await fetch(`/api/cameras/${cam}/range?${q}`, { credentials: "same-origin" });
  if (!res.ok) {
    size.textContent = res.status === 404 ? "nothing recorded in that range" : "";
    return;
  }
  const info = await res.json();
  size.textContent = `${(info.bytes / 1e6).toFixed(1)} MB`;
  download.href = `/api/cameras/${cam}/export.mp4?${q}`;
  download.hidden = false;
};
for (const [button, input] of [
  ["from-head", from],
  ["to-head", to],
]) {
  document.getElementById(button).addEventListener("click", () => {
    const now = wallNow();
    if (now === null) return;
    input.value = day.time(now);
    describe();
  });
}
const exportList = new Exports(document.getElementById("exports"), camera, zoneNote.dataset.zone, say);
document.getElementById("export").addEventListener("click", () => {
  const r = pickedRange();
  if (!r) {
    say("Pick a range that exists on this day first.");
    return;
  }
  say("");
  exportList.create(iso(r[0]), iso(r[1]), document.getElementById("bundle").checked);
});
from.addEventListener("change", describe);
to.addEventListener("change", describe);

const pick = (a, b) => {
  from.value = day.time(a);
  to.value = day.time(Math.min(b, day.end - 1000));
  describe();
  playFrom(a, b);
};
for (const b of document.querySelectorAll("button.play")) {
  b.addEventListener("click", () => pick(+b.dataset.from / 1000, +b.dataset.to / 1000));
}
document.getElementById("range").addEventListener("submit", (e) => {
  e.preventDefault();
  const r = pickedRange();
  if (!r) {
    say("That time does not exist on this day.");
    return;
  }
  describe();
  playFrom(r[0], r[1]);
});

// Live: the stream picked (the sub stream unless the main is asked for); when
// this browser cannot decode the main stream's codec (H.265 in many), the sub
// stream instead, saying why.
const watchLive = (stream) => {
  endLive();
  playing = null;
  timeline.setHead(null);
  show(null);
  player.muted = !soundOn;
  stopLive = playLive(player, camera, stream, (state, detail) => {
    if (state === "unsupported" && stream === "main" && streamChoice.options.length > 1) {
      streamChoice.value = "";
      watchLive("sub");
      say(`This browser cannot decode the main stream (${detail}), so this is the sub stream.`);
    } else if (state === "unsupported") {
      say(`This browser cannot play ${detail} live.`);
    } else if (state === "error") {
      say(`Live view failed: ${detail}`);
    }
  }, soundOn);
};
document.getElementById("live").addEventListener("click", () => {
  say("");
  watchLive(streamChoice.value || null);
});
streamChoice.addEventListener("change", () => {
  if (stopLive) watchLive(streamChoice.value || null);
});
// Sound, for a camera that sends it: off until asked for (a live view then
// starts again with it; a recording just stops being muted).
const sound = document.getElementById("sound");
sound?.addEventListener("click", () => {
  soundOn = !soundOn;
  sound.setAttribute("aria-pressed", String(soundOn));
  sound.textContent = soundOn ? "Sound on" : "Sound off";
  if (stopLive) watchLive(streamChoice.value || null);
  else player.muted = !soundOn;
});
window.addEventListener("pagehide", endLive);
// A link from an alert (`#t=MS`, ms since 1970, on the event's day) plays from then.
const linked = /^#t=(\d+)$/.exec(location.hash);
if (linked && +linked[1] >= day.start && +linked[1] < day.end) playFrom(+linked[1]);
