// Hearth's behaviour on every page, no build step: logout, and the account page's
// password and two-factor forms. State-changing requests carry the page's CSRF
// token. Pages with more load their own module (camera.js, wall.js).

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export async function post(url, body) {
  return send("POST", url, body);
}

// Any state-changing request, with the token and a JSON body.
export async function send(method, url, body) {
  return fetch(url, {
    method,
    headers: { "content-type": "application/json", "x-csrf-token": csrf },
    body: method === "DELETE" ? undefined : JSON.stringify(body ?? {}),
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
