// The camera settings page (admins): the cameras in the config file, a form
// to add or change one (URL recipes by brand, Test connection, masks and zones
// drawn on its picture, a live motion preview of unsaved settings) and removal
// keeping or deleting its recordings. Every change names the file's version it
// was made against; a file changed meanwhile is refused and the page says so.

import { send } from "./app.js";
import { ShapeEditor } from "./shapes.js";

const $ = (id) => document.getElementById(id);
const form = $("editor");
const list = $("camera-list");
const editable = list.dataset.editable === "true";
const recipes = JSON.parse(form.dataset.recipes);
const shapes = new ShapeEditor($("draw"), () => {
  refreshShapes();
  schedulePreview();
});

let version = null;
let cameras = [];
let blank = null;
let editing = null; // the camera's name, or null when adding
let shown = null; // the form as loaded, for what stays as it was

const errorOf = async (r) => (await r.json().catch(() => ({}))).error ?? `failed (${r.status})`;

async function load() {
  const r = await fetch("/api/admin/cameras", { credentials: "same-origin" });
  if (!r.ok) {
    $("page-error").textContent = await errorOf(r);
    return;
  }
  ({ version, cameras, new_camera: blank } = await r.json());
  $("page-error").textContent = "";
  list.replaceChildren(...cameras.map(card));
}

// A URL shown without its query (some cameras carry credentials there).
const shortUrl = (u) => u.split("?")[0];

function card(c) {
  const li = document.createElement("li");
  li.className = "card";
  li.dataset.camera = c.name;
  const h = document.createElement("h2");
  h.textContent = c.name;
  const p = document.createElement("p");
  p.className = "small";
  const rec = { continuous: "records continuously", motion: "records around motion", off: "live only" }[c.record];
  p.textContent = `${shortUrl(c.url)} · ${rec} · motion ${c.motion.enabled ? "on" : "off"}` +
    ` · ${c.motion.masks.length} masks, ${c.motion.zones.length} zones`;
  const controls = document.createElement("p");
  controls.className = "controls";
  const edit = button("Edit", () => open(c), "edit");
  const remove = button("Remove", () => askRemove(c.name), "remove");
  remove.className = "secondary";
  edit.disabled = remove.disabled = !editable;
  controls.append(edit, remove);
  li.append(h, p, controls);
  return li;
}

function button(text, onclick, role) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.dataset.role = role;
  b.addEventListener("click", onclick);
  return b;
}

// The form's fields by name: "motion.x" goes into the motion settings.
function fill(c) {
  for (const el of form.elements) {
    if (!el.name) continue;
    const [a, b] = el.name.split(".");
    let v = b ? c[a][b] : c[a];
    if (el.name === "password") v = "";
    if (el.dataset.percent !== undefined) v = Math.round(v * 100 * 10000) / 10000;
    if (Array.isArray(v)) v = v.join(el.dataset.lines !== undefined ? "\n" : ", ");
    if (el.type === "checkbox") el.checked = !!v;
    else el.value = v ?? "";
  }
  showRange();
}

function read() {
  const c = structuredClone(shown);
  for (const el of form.elements) {
    if (!el.name) continue;
    let v = el.type === "checkbox" ? el.checked : el.value;
    if (el.type === "number" || el.type === "range") v = Number(v);
    if (el.dataset.percent !== undefined) v /= 100;
    if (el.dataset.lines !== undefined || el.dataset.list !== undefined) {
      v = v.split(el.dataset.lines !== undefined ? "\n" : ",").map((x) => x.trim()).filter(Boolean);
    }
    const [a, b] = el.name.split(".");
    if (b) c[a][b] = v;
    else c[a] = v;
  }
  c.url = c.url.trim();
  c.sub_url = c.sub_url.trim();
  // Absent keeps the stored password, empty removes it.
  if (c.password === "") delete c.password;
  if ($("clear-password").checked) c.password = "";
  Object.assign(c.motion, shapes.get());
  return c;
}

function showRange() {
  const s = form.elements["motion.sensitivity"];
  form.querySelector("output[for='motion.sensitivity']").textContent = Number(s.value).toFixed(2);
}

async function open(c) {
  stopPreview();
  editing = c ? c.name : null;
  shown = structuredClone(c ?? blank);
  fill(shown);
  $("editor-title").textContent = c ? `Change ${c.name}` : "Add a camera";
  $("clear-password").checked = false;
  $("clear-password-label").hidden = !c?.has_password;
  form.elements.password.placeholder = c?.has_password ? "stored (leave empty to keep)" : "";
  $("test-result").textContent = "";
  $("editor-error").textContent = "";
  $("preview-result").textContent = "";
  $("preview").disabled = !c;
  $("preview").title = c ? "" : "Save the camera first; the preview watches it running.";
  shapes.image = null;
  shapes.showBlobs(null);
  shapes.set(shown.motion.masks, shown.motion.zones);
  refreshShapes();
  form.hidden = false;
  form.scrollIntoView({ block: "start" });
  if (c) await newStill();
}

async function newStill() {
  if (!editing) return;
  const r = await fetch(`/api/cameras/${encodeURIComponent(editing)}/live.jpg`, { credentials: "same-origin" });
  if (!r.ok) {
    $("test-result").textContent = `No picture: ${await errorOf(r)}`;
    return;
  }
  await shapes.background(URL.createObjectURL(await r.blob()));
}

function refreshShapes() {
  const sel = $("shape");
  sel.replaceChildren(
    ...shapes.shapes.map((_, i) => {
      const o = document.createElement("option");
      o.value = i;
      o.textContent = shapes.label(i);
      return o;
    }),
  );
  sel.value = shapes.sel;
}

// Brand recipes fill both URLs from the camera's address.
for (const r of recipes) {
  const o = document.createElement("option");
  o.value = r.brand;
  o.textContent = r.brand;
  $("brand").append(o);
}
function applyRecipe() {
  const r = recipes.find((x) => x.brand === $("brand").value);
  $("brand-note").textContent = r?.note ?? "";
  const host = $("host").value.trim();
  if (!r || !host) return;
  const base = `rtsp://${host}:${r.port}`;
  form.elements.url.value = base + r.main;
  form.elements.sub_url.value = r.sub ? base + r.sub : "";
}
$("brand").addEventListener("change", applyRecipe);
$("host").addEventListener("input", applyRecipe);

$("test").addEventListener("click", async () => {
  const c = read();
  const out = $("test-result");
  out.textContent = "Connecting…";
  $("test").disabled = true;
  try {
    const r = await send("POST", "/api/admin/camera-test", {
      camera: editing,
      url: c.url,
      username: c.username,
      password: c.password,
      transport: c.transport,
      audio: c.audio,
    });
    if (!r.ok) {
      out.textContent = await errorOf(r);
      return;
    }
    const t = await r.json();
    if (!t.ok) {
      out.textContent = `Failed: ${t.error}`;
      return;
    }
    const kbps = t.bitrate_kbps == null ? "" : `, ${t.bitrate_kbps} kbit/s`;
    const fps = t.fps == null ? "" : `, ${t.fps} frames/s`;
    out.textContent = `Connected: ${t.codec} ${t.width}×${t.height}${fps}${kbps}${t.audio ? `, sound ${t.audio}` : ""}`;
    if (t.still) await shapes.background(t.still);
  } finally {
    $("test").disabled = false;
  }
});

// ONVIF: devices that answer a probe on the local network; picking one asks it
// for its streams with the user name and password typed above.
$("discover").addEventListener("click", async () => {
  const out = $("discover-result");
  out.textContent = "Searching…";
  const r = await send("POST", "/api/admin/onvif/discover", { interface: "all" });
  if (!r.ok) {
    out.textContent = await errorOf(r);
    return;
  }
  const { devices } = await r.json();
  out.textContent = devices.length
    ? "Type the camera's user name and password above, then pick it:"
    : "No ONVIF camera answered. Some need ONVIF turned on in their settings.";
  $("found").replaceChildren(
    ...devices.map((d, i) => {
      const li = document.createElement("li");
      const b = button(`${d.name ?? "camera"} (${d.hardware ?? "ONVIF"}) at ${d.address}`, () => pick(i, d), "pick");
      b.className = "secondary";
      li.append(b);
      return li;
    }),
  );
});
async function pick(i, d) {
  const out = $("discover-result");
  out.textContent = `Asking ${d.address} for its streams…`;
  const r = await send("POST", "/api/admin/onvif/streams", {
    device: i,
    username: form.elements.username.value,
    password: form.elements.password.value,
  });
  if (!r.ok) {
    out.textContent = await errorOf(r);
    return;
  }
  const s = await r.json();
  if (!s.ok) {
    out.textContent = `Failed: ${s.error}`;
    return;
  }
  const [main, sub] = s.streams;
  form.elements.url.value = main?.url ?? "";
  form.elements.sub_url.value = sub?.url ?? "";
  if (!form.elements.name.value && d.name) form.elements.name.value = d.name.replace(/[^A-Za-z0-9_-]+/g, "-").slice(0, 64);
  const size = (x) => (x?.width ? ` ${x.width}×${x.height}` : "");
  out.textContent = `Streams filled in: ${main?.profile ?? "?"}${size(main)}` + (sub ? `, sub ${sub.profile}${size(sub)}` : "") + ". Test the connection next.";
}

$("add-mask").addEventListener("click", () => shapes.add("mask"));
$("add-zone").addEventListener("click", () => {
  const input = $("zone-name");
  const name = input.value.trim();
  if (!input.checkValidity() || !name) {
    $("editor-error").textContent = "A zone needs a name: letters, digits, - or _.";
    return;
  }
  if (shapes.shapes.some((s) => s.kind === "zone" && s.name === name)) {
    $("editor-error").textContent = `There is a zone named ${name} already.`;
    return;
  }
  $("editor-error").textContent = "";
  input.value = "";
  shapes.add("zone", name);
});
$("shape").addEventListener("change", (e) => shapes.select(Number(e.target.value)));
$("delete-point").addEventListener("click", () => shapes.deletePoint());
$("delete-shape").addEventListener("click", () => shapes.deleteShape());
$("new-still").addEventListener("click", newStill);
form.elements["motion.sensitivity"].addEventListener("input", showRange);

// The live preview: the camera's picture through the settings as they are in
// the form, asked again after each answer while it is on.
let previewing = false;
let again = false;
function stopPreview() {
  previewing = false;
  $("preview").checked = false;
  shapes.showBlobs(null);
}
function schedulePreview() {
  again = true;
}
for (const el of form.querySelectorAll("[name^='motion.']")) el.addEventListener("input", schedulePreview);
$("preview").addEventListener("change", async (e) => {
  previewing = e.target.checked;
  if (!previewing) return stopPreview();
  while (previewing && editing) {
    again = false;
    const r = await send("POST", `/api/admin/cameras/${encodeURIComponent(editing)}/motion-preview`, read().motion);
    if (!previewing) break;
    const out = $("preview-result");
    if (!r.ok) {
      out.textContent = `No preview: ${await errorOf(r)}`;
      if (r.status !== 429) break;
    } else {
      const p = await r.json();
      if (p.still) await shapes.background(p.still);
      const steps = p.steps;
      const last = steps[steps.length - 1];
      const peak = Math.max(0, ...steps.map((s) => s.score));
      const zones = [...new Set(steps.flatMap((s) => s.zones))];
      shapes.showBlobs({ boxes: last?.boxes ?? [], width: p.width, height: p.height });
      out.textContent =
        `${p.motion ? "Motion" : "No motion"} in the last ${steps.length ? steps[steps.length - 1].t.toFixed(1) : 0} s ` +
        `(${p.stream} stream): moving area now ${pct(last?.score ?? 0)}, at most ${pct(peak)}; ` +
        `it counts from ${pct(p.min_area)} for ${p.min_frames} pictures in a row` +
        (zones.length ? `; zones touched: ${zones.join(", ")}` : "");
      out.dataset.motion = p.motion;
    }
    if (!again) await new Promise((ok) => setTimeout(ok, 500));
  }
});
const pct = (x) => `${(x * 100).toFixed(2)}%`;

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const c = read();
  const url = editing ? `/api/admin/cameras/${encodeURIComponent(editing)}` : "/api/admin/cameras";
  $("save").disabled = true;
  try {
    if (editing && c.name !== editing &&
      !confirm(`Rename ${editing} to ${c.name}? Its recordings, events and viewers go with the new name.`)) return;
    const r = await send("POST", url, { version, camera: c });
    if (!r.ok) {
      $("editor-error").textContent = await errorOf(r);
      if (r.status === 409) await load();
      return;
    }
    const done = await r.json();
    stopPreview();
    form.hidden = true;
    await load();
    $("page-error").textContent = done.not_applied
      ? `Saved, but not applied: ${done.not_applied}`
      : done.needs_restart.length
        ? `Saved; these settings take effect after a restart: ${done.needs_restart.join(", ")}`
        : "";
  } finally {
    $("save").disabled = false;
  }
});
$("cancel").addEventListener("click", () => {
  stopPreview();
  form.hidden = true;
});
$("add-camera").addEventListener("click", () => open(null));

function askRemove(name) {
  const d = $("remove-dialog");
  $("remove-name").textContent = name;
  d.returnValue = "";
  d.onclose = async () => {
    if (d.returnValue !== "remove") return;
    const recordings = d.querySelector("input[name=recordings]:checked").value;
    const r = await send("POST", `/api/admin/cameras/${encodeURIComponent(name)}/remove`, { version, recordings });
    if (!r.ok) $("page-error").textContent = await errorOf(r);
    if (editing === name) form.hidden = true;
    await load();
  };
  d.showModal();
}

load();
