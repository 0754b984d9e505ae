// Hearth's page behaviour, no build step: logout, password change, and the player
// on a camera page. State-changing requests carry the page's CSRF token.

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

async function post(url, body) {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: JSON.stringify(body ?? {}),
    credentials: "same-origin",
  });
}

document.getElementById("logout")?.addEventListener("click", async () => {
  await post("/api/logout");
  location.href = "/login";
});

const pw = document.getElementById("password");
pw?.addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(pw);
  const r = await post("/api/account/password", { current: f.get("current"), new: f.get("new") });
  const out = document.getElementById("password-result");
  if (r.ok) {
    location.href = "/login";
  } else {
    out.textContent = (await r.json().catch(() => ({}))).error ?? "failed";
  }
});

const player = document.getElementById("player");
if (player) {
  const camera = encodeURIComponent(player.dataset.camera);
  const from = document.getElementById("from");
  const to = document.getElementById("to");
  const download = document.getElementById("download");
  const query = () =>
    `from=${encodeURIComponent(from.value)}&to=${encodeURIComponent(to.value)}`;
  let live = null;
  const stopLive = () => {
    live?.close();
    live = null;
  };
  const play = () => {
    stopLive();
    player.src = `/api/cameras/${camera}/view.mp4?${query()}`;
    download.href = `/api/cameras/${camera}/export.mp4?${query()}`;
    player.play().catch(() => {});
  };
  for (const b of document.querySelectorAll("button.play")) {
    b.addEventListener("click", () => {
      from.value = b.dataset.from;
      to.value = b.dataset.to;
      play();
    });
  }
  // Live: fMP4 fragments over a WebSocket into Media Source Extensions.
  document.getElementById("live")?.addEventListener("click", () => {
    stopLive();
    const ms = new MediaSource();
    player.src = URL.createObjectURL(ms);
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/api/cameras/${camera}/live`);
    ws.binaryType = "arraybuffer";
    live = ws;
    let sb = null;
    const queue = [];
    const pump = () => {
      if (sb && !sb.updating && queue.length) sb.appendBuffer(queue.shift());
    };
    ws.onmessage = (m) => {
      if (typeof m.data === "string") {
        const d = JSON.parse(m.data);
        const open = () => {
          if (!sb) {
            sb = ms.addSourceBuffer(`video/mp4; codecs="${d.codec}"`);
            sb.mode = "sequence";
            sb.addEventListener("updateend", () => {
              // Keep the latency low: jump to the live edge when far behind.
              const b = player.buffered;
              if (b.length && b.end(b.length - 1) - player.currentTime > 3) {
                player.currentTime = b.end(b.length - 1) - 0.5;
              }
              pump();
            });
            pump();
          }
        };
        if (ms.readyState === "open") open();
        else ms.addEventListener("sourceopen", open, { once: true });
        return;
      }
      queue.push(m.data);
      pump();
    };
    player.play().catch(() => {});
  });
  window.addEventListener("pagehide", stopLive);
  document.getElementById("range").addEventListener("submit", (e) => {
    e.preventDefault();
    play();
  });
}

// Two-factor set-up on the account page.
const result = document.getElementById("totp-result");
const showError = async (r) => {
  result.textContent = (await r.json().catch(() => ({}))).error ?? "failed";
};
document.getElementById("totp-start")?.addEventListener("click", async () => {
  const r = await post("/api/account/totp/start");
  if (!r.ok) return showError(r);
  const t = await r.json();
  document.getElementById("totp-secret").textContent = t.secret;
  document.getElementById("totp-qr").src = "data:image/svg+xml;base64," + btoa(t.qr_svg);
  document.getElementById("totp-setup").hidden = false;
});
const confirmForm = document.getElementById("totp-confirm");
confirmForm?.addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(confirmForm);
  const r = await post("/api/account/totp/confirm", { code: f.get("code"), password: f.get("password") });
  if (!r.ok) return showError(r);
  const { recovery_codes } = await r.json();
  document.getElementById("totp-setup").hidden = true;
  result.textContent = "Two-factor login is on. Keep these recovery codes somewhere safe; each works once:";
  const list = document.getElementById("recovery-codes");
  for (const c of recovery_codes) {
    const li = document.createElement("li");
    li.textContent = c;
    list.append(li);
  }
});
const disableForm = document.getElementById("totp-disable");
disableForm?.addEventListener("submit", async (e) => {
  e.preventDefault();
  const r = await post("/api/account/totp/disable", { password: new FormData(disableForm).get("password") });
  if (!r.ok) return showError(r);
  location.reload();
});

// The day's timeline: recordings in grey, motion activity in orange; a click
// plays five minutes from that moment.
const timeline = document.getElementById("timeline");
if (timeline && player) {
  const day = timeline.dataset.day;
  const dayStart = Date.parse(`${day}T00:00:00Z`);
  const ctx = timeline.getContext("2d");
  const x = (ms) => ((ms - dayStart) / 86400000) * timeline.width;
  ctx.fillStyle = "#c9c6bd";
  for (const s of document.querySelectorAll("#span-data li")) {
    const a = x(Date.parse(s.dataset.from));
    ctx.fillRect(a, 24, Math.max(1, x(Date.parse(s.dataset.to)) - a), 16);
  }
  const camera = encodeURIComponent(player.dataset.camera);
  const from = new Date(dayStart).toISOString();
  const to = new Date(dayStart + 86400000).toISOString();
  fetch(`/api/cameras/${camera}/activity?from=${from}&to=${to}`, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : []))
    .then((levels) => {
      ctx.fillStyle = "#b4471c";
      for (const [second, level] of levels) {
        const h = Math.max(2, Math.min(1, level * 10) * 22);
        ctx.fillRect(x(second * 1000), 22 - h, Math.max(1, timeline.width / 86400), h);
      }
    });
  timeline.addEventListener("click", (e) => {
    const r = timeline.getBoundingClientRect();
    const at = dayStart + ((e.clientX - r.left) / r.width) * 86400000;
    document.getElementById("from").value = new Date(at).toISOString();
    document.getElementById("to").value = new Date(at + 300000).toISOString();
    document.getElementById("range").requestSubmit();
  });
}
