// The audit page, for admins: "Verify now" checks the whole hash chain again
// and shows what it found.

import { post } from "./app.js";

const button = document.getElementById("verify");
button?.addEventListener("click", async () => {
  button.disabled = true;
  const r = await post("/api/audit/verify");
  const v = await r.json().catch(() => ({}));
  const out = document.getElementById("audit-check");
  out.className = v.ok ? "muted" : "error";
  out.textContent = v.ok ? `Verified just now: ${v.entries} entries, chain intact` : `TAMPERED: ${v.error ?? r.status}`;
});
