// The system page: every few seconds, the figures again by their keys.

const refresh = async () => {
  if (document.hidden) return;
  const r = await fetch("/api/system", { credentials: "same-origin" });
  if (!r.ok) return;
  const cells = await r.json();
  for (const el of document.querySelectorAll("[data-k]")) {
    if (el.dataset.k in cells) el.textContent = cells[el.dataset.k];
  }
};
setInterval(refresh, 3000);
