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
  const play = () => {
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
  document.getElementById("range").addEventListener("submit", (e) => {
    e.preventDefault();
    play();
  });
}
