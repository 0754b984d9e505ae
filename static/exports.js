// A camera's exports kept on the server (the camera page's list): each with its
// range on the household's clock, its size, a progress bar while it is written
// and a button to cancel it, then a download link and a button to delete it.

import { send } from "./app.js";

export class Exports {
  constructor(list, camera, zone, say) {
    this.list = list;
    this.cam = encodeURIComponent(camera);
    this.camera = camera;
    this.say = say;
    this.timer = null;
    const opts = { timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
    this.time = new Intl.DateTimeFormat(undefined, opts);
    this.date = new Intl.DateTimeFormat(undefined, { timeZone: zone, day: "numeric", month: "short" });
    this.refresh();
  }

  async create(from, to, bundle) {
    const r = await send("POST", `/api/cameras/${this.cam}/exports`, { from, to, bundle });
    if (!r.ok) {
      this.say(`Export refused: ${(await r.json().catch(() => ({}))).error ?? r.status}`);
      return;
    }
    this.refresh();
  }

  async refresh() {
    clearTimeout(this.timer);
    const r = await fetch(`/api/exports?camera=${this.cam}`, { credentials: "same-origin" });
    if (!r.ok) return;
    const all = await r.json();
    this.list.replaceChildren(...all.map((e) => this.item(e)));
    document.getElementById("no-exports").hidden = all.length > 0;
    // While any is being written, its progress is fetched twice a second.
    if (all.some((e) => e.state === "writing")) this.timer = setTimeout(() => this.refresh(), 500);
  }

  item(e) {
    const li = document.createElement("li");
    li.className = `export ${e.state}`;
    li.dataset.id = e.id;
    const a = new Date(e.from);
    const b = new Date(e.to);
    const what = document.createElement("span");
    what.textContent = `${this.date.format(a)} ${this.time.format(a)} – ${this.time.format(b)} · ${(e.bytes / 1e6).toFixed(1)} MB`;
    li.append(what);
    if (e.state === "writing") {
      const p = document.createElement("progress");
      p.max = e.bytes;
      p.value = e.written;
      p.textContent = `${Math.round((100 * e.written) / Math.max(1, e.bytes))} %`;
      li.append(p);
    } else if (e.state === "ready") {
      const d = document.createElement("a");
      d.href = e.file;
      d.textContent = "Download";
      d.setAttribute("download", "");
      li.append(d);
    } else {
      const err = document.createElement("span");
      err.className = "error";
      err.textContent = e.error ?? "failed";
      li.append(err);
    }
    const del = document.createElement("button");
    del.type = "button";
    del.className = "secondary";
    del.textContent = e.state === "writing" ? "Cancel" : "Delete";
    del.addEventListener("click", async () => {
      const r = await send("DELETE", `/api/cameras/${this.cam}/exports/${e.id}`);
      if (!r.ok && r.status !== 404) this.say(`Could not delete the export (${r.status}).`);
      this.refresh();
    });
    li.append(del);
    return li;
  }
}
