#!/usr/bin/python3
"""Scores motion detection on the evaluation set: Hearth and Debian's `motion` daemon.

    score.py --hearth BIN --scenes DIR [--json OUT] [--no-motion-daemon]

Hearth: `hearth detect --config --camera` on every scene file (the scene's masks in
the camera's [cameras.motion] table, everything else at its defaults).

Motion (4.5, Debian's package): one daemon watching every scene at once, each
served over RTSP by `hearth fake-camera --file` in real time. Motion runs a hook on
every frame it counts as motion (`on_motion_detected`); the hook's clock minus the
time the fake camera began playing the clip to Motion gives the time in the file,
less Motion's lag: the seconds Motion's FFmpeg spends probing a new stream stay
as a backlog that Motion works off slowly (about 0.1 s a second). The lag is
measured in the same run on a calibration camera whose picture changes abruptly
at known times, and interpolated between them.
Those frames are joined into events the way Hearth joins its own (a gap of less
than 2 s continues an event). Motion runs twice over, in the same daemon: with
Debian's shipped settings (threshold 1500, despeckle EedDl, noise_tune on, one frame
to trigger) and tuned for these hazards (its light-switch filter on, two frames to
trigger like Hearth); both get the same masks as a mask file.

Scoring, per scene and in total, against the labelled intervals of real motion:
- events found: labelled intervals overlapped by a detected event;
- false events: detected events that overlap no labelled interval;
- time F1: over 0.1 s steps, detected vs labelled, leaving out 0.5 s either side
  of each labelled start and end (where the truth itself is a matter of pixels).
Standard library only.
"""

import argparse
import datetime
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

MERGE_GAP = 2.0
COLLAR = 0.5
STEP = 0.1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hearth_config(path, masks):
    lines = ["[storage]", "data_dir = \"unused\"", "", "[[cameras]]", 'name = "eval"',
             'url = "rtsp://127.0.0.1:1/main"', "", "[cameras.motion]"]
    if masks:
        lines.append("masks = " + json.dumps(masks))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def run_hearth(hearth, scenes, root, work):
    out = {}
    for s in scenes:
        cfg = os.path.join(work, f"hearth-{s['name']}.toml")
        hearth_config(cfg, s["masks"])
        r = subprocess.run([hearth, "detect", "--input", os.path.join(root, s["file"]),
                            "--config", cfg, "--camera", "eval"],
                           capture_output=True, text=True, check=False)
        if r.returncode != 0:
            sys.exit(f"hearth detect failed on {s['name']}: {r.stderr.strip()}")
        out[s["name"]] = [(e["start"], e["end"]) for e in json.loads(r.stdout)["events"]]
    return out


def mask_pgm(path, masks, w, h):
    """Motion's mask file: 0 where motion is ignored, 255 elsewhere."""
    pix = bytearray([255]) * (w * h)
    for poly in masks:
        for y in range(h):
            py = (y + 0.5) / h
            xs = []
            for (x0, y0), (x1, y1) in zip(poly, poly[1:] + poly[:1]):
                if (y0 <= py < y1) or (y1 <= py < y0):
                    xs.append(x0 + (py - y0) * (x1 - x0) / (y1 - y0))
            xs.sort()
            for a, b in zip(xs[::2], xs[1::2]):
                for x in range(w):
                    if a <= (x + 0.5) / w < b:
                        pix[y * w + x] = 0
    with open(path, "wb") as f:
        f.write(f"P5\n{w} {h}\n255\n".encode() + bytes(pix))


PLAY = re.compile(r"^(\S+Z)\s+\w+.*playing from the start.*url=(\S+)")

MOTION_VARIANTS = {
    "Motion 4.5": ["lightswitch_percent 50", "lightswitch_frames 5",
                   "minimum_motion_frames 2"],
    "Motion 4.5 (Debian's settings)": ["lightswitch_percent 0", "minimum_motion_frames 1"],
}


def play_times(log, path):
    """Times (UNIX seconds) at which the fake camera began playing the clip on path."""
    times = []
    with open(log, errors="replace") as f:
        for line in f:
            m = PLAY.match(re.sub(r"\x1b\[[0-9;]*m", "", line))
            if m and f"{path}/" in m.group(2):
                ts = m.group(1).replace("Z", "+00:00")
                times.append(datetime.datetime.fromisoformat(ts).timestamp())
    return times


CAL_ONSETS = [4, 10, 16, 22, 28, 34, 40]


def calibration_clip(work, fps, w, h):
    """Grey noise with a white box flashed for 1 s at each onset."""
    path = os.path.join(work, "calibration.mp4")
    on = "+".join(f"between(t,{o},{o + 0.95})" for o in CAL_ONSETS)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"color=c=gray:s={w}x{h}:r={fps}:d={CAL_ONSETS[-1] + 4},noise=alls=6:allf=t,"
                    f"drawbox=x=200:y=100:w=160:h=120:c=white:t=fill:enable='{on}'",
                    "-c:v", "libx264", "-bf", "0", "-g", str(2 * fps), "-pix_fmt", "yuv420p",
                    path], check=True)
    return {"name": "calibration", "file": path, "duration": CAL_ONSETS[-1] + 4,
            "truth": [], "masks": []}


def run_motion(hearth, scenes, root, work, fps, w, h):
    scenes = scenes + [calibration_clip(work, fps, w, h)]
    hook = os.path.join(work, "hook.sh")
    with open(hook, "w") as f:
        f.write('#!/bin/sh\necho "$(date +%s.%N) $1" >> "$2"\n')
    os.chmod(hook, 0o755)
    hits = os.path.join(work, "motion-hits.txt")
    open(hits, "w").close()
    cams, procs = [], []
    try:
        conf = [f"daemon off", "setup_mode off", f"log_file {work}/motion.log", "log_level 6",
                f"target_dir {work}/motion-out", "picture_output off", "movie_output off",
                "webcontrol_port 0", "stream_port 0", "native_language off"]
        for i, s in enumerate(scenes):
            port = free_port()
            log = os.path.join(work, f"fakecam-{s['name']}.log")
            procs.append(subprocess.Popen(
                [hearth, "fake-camera", "--listen", f"127.0.0.1:{port}",
                 "--file", os.path.join(root, s["file"])],
                stdout=subprocess.DEVNULL, stderr=open(log, "w"),
                env=dict(os.environ, RUST_LOG="info,hearth::fakecam=debug")))
            for j, settings in enumerate(MOTION_VARIANTS.values()):
                if s["name"] == "calibration" and j > 0:
                    break
                key = f"v{j}-{s['name']}"
                cam = [f"camera_name {key}", f"camera_id {len(cams) + 1}",
                       f"netcam_url rtsp://127.0.0.1:{port}/v{j}/main", f"width {w}",
                       f"height {h}", f"framerate {fps}", "threshold 1500", "noise_tune on",
                       "despeckle_filter EedDl", "event_gap 2", "pre_capture 0",
                       "post_capture 0", f"on_motion_detected {hook} {key} {hits}", *settings]
                if s["masks"]:
                    pgm = os.path.join(work, f"mask-{s['name']}.pgm")
                    mask_pgm(pgm, s["masks"], w, h)
                    cam.append(f"mask_file {pgm}")
                camf = os.path.join(work, f"motion-{key}.conf")
                with open(camf, "w") as f:
                    f.write("\n".join(cam) + "\n")
                conf.append(f"camera {camf}")
                cams.append((s, key, log, f"/v{j}"))
        mconf = os.path.join(work, "motion.conf")
        with open(mconf, "w") as f:
            f.write("\n".join(conf) + "\n")
        time.sleep(1.0)  # the fake cameras encode nothing (files) but must be listening
        motion = subprocess.Popen(["motion", "-n", "-c", mconf], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        procs.append(motion)
        # Motion opens each camera once to probe it, then again to watch it; the last
        # start of play is the one whose timeline the hook sees. Wait for every
        # camera's watching session to cover its whole scene.
        deadline = time.time() + 120
        while True:
            time.sleep(1.0)
            starts = [play_times(log, path) for _, _, log, path in cams]
            ready = all(len(v) >= 2 for v in starts)
            if ready and time.time() > max(v[-1] + s["duration"] + 1.5
                                           for (s, *_), v in zip(cams, starts)):
                break
            if time.time() > deadline + max(s["duration"] for s in scenes):
                sys.exit(f"motion did not watch every scene; see {work}/motion.log")
            if motion.poll() is not None:
                sys.exit(f"motion stopped; see {work}/motion.log")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    notes = []
    lines = [ln.split() for ln in open(hits)]
    hit_times = {}
    for s, key, log, path in cams:
        starts = play_times(log, path)
        if len(starts) != 2:
            notes.append(f"{key}: Motion started the clip {len(starts)} times")
        hit_times[key] = sorted(float(t) - starts[-1] for t, n in lines if n == key)
    # The first frame counted is the second with the box (two frames to trigger).
    cal = hit_times.pop("v0-calibration")
    lags = []  # (seconds after play began, lag then)
    for o in CAL_ONSETS:
        first = [t for t in cal if t >= o]
        if first and (not lags or first[0] > lags[-1][0]):
            lags.append((first[0], first[0] - o - 1.0 / fps))
    if len(lags) < len(CAL_ONSETS) - 1:
        sys.exit(f"Motion missed the calibration flashes ({len(lags)} seen); see {work}")
    notes.append("Motion's lag behind the stream, measured at "
                 + ", ".join(f"{h:.0f} s: {lag:.2f} s" for h, lag in lags))
    out = {}
    for j, variant in enumerate(MOTION_VARIANTS):
        out[variant] = {}
        for s in scenes[:-1]:
            ts = [t - interpolate(lags, t) for t in hit_times[f"v{j}-{s['name']}"]]
            out[variant][s["name"]] = join([t for t in ts if 0 <= t < s["duration"]], 1.0 / fps)
    return out, notes


def interpolate(points, x):
    """Piecewise-linear through (x, y) points, flat beyond the ends."""
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


def join(times, frame):
    events = []
    for t in times:
        if events and t - events[-1][1] < MERGE_GAP:
            events[-1][1] = t + frame
        else:
            events.append([t, t + frame])
    return [(round(a, 2), round(b, 2)) for a, b in events]


def overlaps(a, b, pad=0.0):
    return a[0] < b[1] + pad and b[0] - pad < a[1]


def score(events, truth, duration):
    found = sum(1 for t in truth if any(overlaps(e, t, COLLAR) for e in events))
    false = sum(1 for e in events if not any(overlaps(e, t, COLLAR) for t in truth))
    tp = fp = fn = 0
    for i in range(int(round(duration / STEP))):
        t = (i + 0.5) * STEP
        if any(abs(t - b) < COLLAR for iv in truth for b in iv):
            continue
        real = any(a <= t < b for a, b in truth)
        said = any(a <= t < b for a, b in events)
        tp += real and said
        fp += said and not real
        fn += real and not said
    return {"found": found, "false": false, "tp": tp, "fp": fp, "fn": fn}


def f1(tp, fp, fn):
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0


def fmt_events(evs):
    return " ".join(f"{a:g}–{b:g}" for a, b in evs) or "–"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hearth", required=True)
    ap.add_argument("--scenes", required=True)
    ap.add_argument("--json")
    ap.add_argument("--no-motion-daemon", action="store_true")
    a = ap.parse_args()
    meta = json.load(open(os.path.join(a.scenes, "scenes.json")))
    scenes = meta["scenes"]
    work = tempfile.mkdtemp(prefix="hearth-eval-")
    results = {"Hearth": run_hearth(a.hearth, scenes, a.scenes, work)}
    notes = []
    if not a.no_motion_daemon:
        motion, notes = run_motion(a.hearth, scenes, a.scenes, work, meta["fps"],
                                   meta["width"], meta["height"])
        results.update(motion)
    tools = list(results)
    print("| scene | labelled motion | " + " | ".join(f"{t} events | {t} F1" for t in tools)
          + " |")
    print("|---|---|" + "---|---|" * len(tools))
    totals = {t: {"found": 0, "false": 0, "false_still": 0, "tp": 0, "fp": 0, "fn": 0}
              for t in tools}
    per_scene = {}
    for s in scenes:
        truth = [tuple(iv) for iv in s["truth"]]
        row = [s["name"], fmt_events(truth)]
        for t in tools:
            ev = results[t][s["name"]]
            sc = score(ev, truth, s["duration"])
            per_scene.setdefault(s["name"], {})[t] = {"events": ev, **sc}
            for k in ("found", "false", "tp", "fp", "fn"):
                totals[t][k] += sc[k]
            if not truth:
                totals[t]["false_still"] += sc["false"]
            mark = f" ({sc['false']} false)" if sc["false"] else ""
            row += [fmt_events(ev) + mark,
                    f"{f1(sc['tp'], sc['fp'], sc['fn']):.2f}" if truth else
                    f"{sc['fp'] * STEP:g} s flagged"]
        print("| " + " | ".join(row) + " |")
    n_truth = sum(len(s["truth"]) for s in scenes)
    print()
    print("| | " + " | ".join(tools) + " |")
    print("|---|" + "---|" * len(tools))
    rows = [("labelled events found", lambda x: f"{x['found']} / {n_truth}"),
            ("false events (all scenes)", lambda x: str(x["false"])),
            ("false events on scenes without motion", lambda x: str(x["false_still"])),
            ("time precision", lambda x: f"{x['tp'] / max(x['tp'] + x['fp'], 1):.3f}"),
            ("time recall", lambda x: f"{x['tp'] / max(x['tp'] + x['fn'], 1):.3f}"),
            ("time F1", lambda x: f"{f1(x['tp'], x['fp'], x['fn']):.3f}")]
    for name, fn_ in rows:
        print(f"| {name} | " + " | ".join(fn_(totals[t]) for t in tools) + " |")
    for n in notes:
        print(f"\nnote: {n}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"scenes": per_scene, "totals": totals, "notes": notes}, f, indent=1)


if __name__ == "__main__":
    main()
