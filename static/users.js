// The users page: each form sends its fields as JSON to its `data-api` URL;
// buttons post to `data-post` or delete `data-delete` (after `data-confirm`).
// Success reloads the page, which shows the new state; a refusal is shown
// beside the form or button in words.

import { send } from "./app.js";

const fail = async (where, r) => {
  const out = where.querySelector(".error") ?? where.parentElement.querySelector(".error");
  if (out) out.textContent = (await r.json().catch(() => ({}))).error ?? `failed (${r.status})`;
};

for (const form of document.querySelectorAll("form[data-api]")) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const body = {};
    for (const [k, v] of f) {
      if (k === "cameras") (body.cameras ??= []).push(v);
      else body[k] = v;
    }
    if (form.querySelector("[name=cameras]")) body.cameras ??= [];
    const r = await send("POST", form.dataset.api, body);
    if (r.ok) location.reload();
    else fail(form, r);
  });
}

for (const b of document.querySelectorAll("button[data-post], button[data-delete]")) {
  b.addEventListener("click", async () => {
    if (b.dataset.confirm && !confirm(b.dataset.confirm)) return;
    const r = b.dataset.post ? await send("POST", b.dataset.post) : await send("DELETE", b.dataset.delete);
    if (r.ok) location.reload();
    else fail(b.closest("li, p, td") ?? b.parentElement, r);
  });
}
