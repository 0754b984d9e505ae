// Live view in a <video>: fMP4 fragments over the camera's WebSocket into Media
// Source Extensions (ManagedMediaSource where the browser has it, as Safari on
// iOS does). Keeps near the live edge and trims what was played, so a tile can
// stay open for days. A browser with neither that plays HLS itself (Safari on
// older iPhones) gets the same stream as HLS.

const Source = window.ManagedMediaSource ?? window.MediaSource;
const hls = () => !Source && document.createElement("video").canPlayType("application/vnd.apple.mpegurl") !== "";

// Whether this browser can play live at all.
export const canPlayLive = () => Boolean(Source) || hls();

// Whether it can decode a codec ("avc1.64001f", "hvc1.1.6.L93.B0").
export const canDecode = (codec) =>
  Boolean(Source) && Source.isTypeSupported(`video/mp4; codecs="${codec}"`);

// Plays `camera`'s live `stream` ("main" or "sub", or the server's choice when
// omitted), with its sound when `audio` and the camera sends any.
// `onState(state, detail)` hears "playing", "unsupported" (with the codec),
// "ended" (with the reason) and "error". Returns a function that stops.
export function playLive(video, camera, stream, onState = () => {}, audio = false) {
  if (!Source) return playHls(video, camera, stream, onState);
  const ms = new Source();
  video.disableRemotePlayback = true; // ManagedMediaSource wants it
  video.src = URL.createObjectURL(ms);
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const params = new URLSearchParams();
  if (stream) params.set("stream", stream);
  if (audio) params.set("audio", "true");
  const q = params.size ? `?${params}` : "";
  const ws = new WebSocket(`${proto}//${location.host}/api/cameras/${encodeURIComponent(camera)}/live${q}`);
  ws.binaryType = "arraybuffer";
  let sb = null;
  let stopped = false;
  const queue = [];
  const pump = () => {
    if (!sb || sb.updating || !queue.length) return;
    try {
      sb.appendBuffer(queue.shift());
    } catch (e) {
      if (e.name === "QuotaExceededError") trim(true);
      else fail(e);
    }
  };
  // Played media is dropped: 20 s kept behind the playhead (5 s when full).
  const trim = (full) => {
    const keep = full ? 5 : 20;
    if (sb && !sb.updating && sb.buffered.length && video.currentTime - sb.buffered.start(0) > keep + 10) {
      sb.remove(0, video.currentTime - keep);
    }
  };
  const fail = (e) => {
    if (stopped) return;
    onState("error", String(e?.message ?? e));
    stop();
  };
  const open = (desc) => {
    if (sb) return;
    const codecs = desc.audio ? `${desc.codec},${desc.audio}` : desc.codec;
    const type = `video/mp4; codecs="${codecs}"`;
    if (!Source.isTypeSupported(type)) {
      onState("unsupported", codecs);
      stop();
      return;
    }
    sb = ms.addSourceBuffer(type);
    // Sound and pictures come in separate fragments on one clock: they go by
    // their own times. Pictures alone are simply played one after another.
    sb.mode = desc.audio ? "segments" : "sequence";
    sb.addEventListener("updateend", () => {
      // A viewer that fell behind (a slow device, a tab in the background)
      // jumps to the live edge instead of drifting ever later.
      const b = video.buffered;
      if (b.length && b.end(b.length - 1) - video.currentTime > 3) {
        video.currentTime = b.end(b.length - 1) - 0.3;
      }
      trim(false);
      pump();
    });
    pump();
  };
  ws.onmessage = (m) => {
    if (typeof m.data === "string") {
      const desc = JSON.parse(m.data);
      if (ms.readyState === "open") open(desc);
      else ms.addEventListener("sourceopen", () => open(desc), { once: true });
      return;
    }
    queue.push(m.data);
    pump();
  };
  ws.onclose = (e) => {
    if (!stopped) onState("ended", e.reason || "the live stream ended");
  };
  video.addEventListener("playing", () => onState("playing"), { once: true });
  video.play().catch(() => {});
  const stop = () => {
    if (stopped) return;
    stopped = true;
    ws.close();
    if (video.src.startsWith("blob:")) URL.revokeObjectURL(video.src);
    video.removeAttribute("src");
    video.load();
  };
  return stop;
}

// The same, as HLS the browser plays itself; it says "playing", "error".
function playHls(video, camera, stream, onState) {
  const q = stream ? `?stream=${stream}` : "";
  let stopped = false;
  video.addEventListener("playing", () => onState("playing"), { once: true });
  video.addEventListener(
    "error",
    () => stopped || onState("error", video.error?.message || "the live stream failed"),
    { once: true },
  );
  video.src = `/api/cameras/${encodeURIComponent(camera)}/live.m3u8${q}`;
  video.play().catch(() => {});
  return () => {
    stopped = true;
    video.removeAttribute("src");
    video.load();
  };
}
