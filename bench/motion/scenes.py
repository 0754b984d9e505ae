#!/usr/bin/python3
"""The motion evaluation set: renders labelled test scenes from real photographs.

Backgrounds and moving objects are cut from scikit-image's sample photographs
(Debian's python3-skimage), so the textures are those of real scenes; motion,
light, weather and sensor noise are added frame by frame with a seeded random
generator and the result is encoded with libx264 on one thread, so the same
script gives the same files on every machine with the same packages.

    scenes.py OUT_DIR

writes OUT_DIR/<scene>.mp4 (640x360, 10 fps, H.264 without B-frames, like a
camera's sub stream) and OUT_DIR/scenes.json: for each scene its file, length,
labelled intervals of real motion [start, end) in seconds, masks (polygons in
0..1 coordinates, for both detectors) and what it tests.
"""

import json
import os
import subprocess
import sys

import numpy as np
from skimage import data, transform

W, H, FPS = 640, 360, 10


def fit(img, w=W, h=H):
    """Crops a photograph to the w:h aspect ratio and scales it to w x h, RGB float."""
    img = np.asarray(img, dtype=np.float32)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    img = img[..., :3]
    ih, iw = img.shape[:2]
    if iw / ih > w / h:
        cw = int(ih * w / h)
        x0 = (iw - cw) // 2
        img = img[:, x0 : x0 + cw]
    else:
        ch = int(iw * h / w)
        y0 = (ih - ch) // 2
        img = img[y0 : y0 + ch]
    return transform.resize(img, (h, w), order=1, anti_aliasing=True, preserve_range=True).astype(
        np.float32
    )


def person(height):
    """A person-sized cut-out: the astronaut photograph's texture in a head-and-body
    silhouette with soft edges. Returns (rgb, alpha)."""
    width = max(4, int(height * 0.42))
    tex = fit(data.astronaut()[20:500, 120:400], width, height)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cx = (width - 1) / 2
    head_r = width * 0.32
    head = ((xx - cx) ** 2 + (yy - head_r) ** 2) <= head_r**2
    body = (yy >= head_r * 1.7) & (np.abs(xx - cx) <= width * 0.48 - (yy > height * 0.6) * width * 0.12)
    alpha = (head | body).astype(np.float32)
    # Soften the edge a little, as a lens would.
    k = np.array([0.25, 0.5, 0.25], dtype=np.float32)
    alpha = np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 1, alpha)
    alpha = np.apply_along_axis(lambda c: np.convolve(c, k, mode="same"), 0, alpha)
    return tex, alpha[..., None]


def paste(frame, sprite, x, y):
    """Alpha-blends sprite = (rgb, alpha) onto frame with its top-left corner at (x, y)."""
    rgb, alpha = sprite
    h, w = alpha.shape[:2]
    x, y = int(round(x)), int(round(y))
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x0 >= x1 or y0 >= y1:
        return
    sx, sy = x0 - x, y0 - y
    a = alpha[sy : sy + y1 - y0, sx : sx + x1 - x0]
    s = rgb[sy : sy + y1 - y0, sx : sx + x1 - x0]
    region = frame[y0:y1, x0:x1]
    region[:] = region * (1 - a) + s * a


def crossing(t, t0, t1, w, leftward=False):
    """x of an object of width w crossing the whole picture between t0 and t1."""
    if t < t0 or t >= t1:
        return None
    f = (t - t0) / (t1 - t0)
    if leftward:
        f = 1 - f
    return -w + f * (W + w)


class Scene:
    def __init__(self, name, what, duration, truth, masks=(), bitrate="800k", seed=0):
        self.name, self.what, self.duration = name, what, duration
        self.truth, self.masks, self.bitrate = list(truth), list(masks), bitrate
        self.rng = np.random.default_rng(seed)

    def noise(self, frame, sigma):
        """Sensor noise: mostly in luma, a little in colour."""
        n = self.rng.standard_normal((H, W, 1), dtype=np.float32) * sigma
        c = self.rng.standard_normal((H, W, 3), dtype=np.float32) * (sigma * 0.3)
        frame += n + c

    def render(self, t):
        """The picture at t seconds, RGB float; each kind of scene draws its own."""
        raise NotImplementedError


class Walkers(Scene):
    """A background, sensor noise and people crossing at labelled times; optional
    light changes (gain, offset, grey IR) as functions of time."""

    def __init__(self, name, what, duration, bg, walks, sigma=3.0, light=None, height=170, **kw):
        super().__init__(name, what, duration, [(a, b) for a, b, *_ in walks], **kw)
        self.bg, self.walks, self.sigma, self.light = bg, walks, sigma, light
        self.sprite = person(height)
        self.height = height

    def base(self, t):
        return self.bg.copy()

    def render(self, t):
        f = self.base(t)
        w = self.sprite[1].shape[1]
        for t0, t1, y, *rest in self.walks:
            x = crossing(t, t0, t1, w, leftward=bool(rest and rest[0]))
            if x is not None:
                bob = 3 * np.sin(2 * np.pi * 1.8 * t)
                paste(f, self.sprite, x, y + bob)
        if self.light:
            gain, offset, grey = self.light(t)
            if grey:
                f[:] = (f @ np.array([0.299, 0.587, 0.114], dtype=np.float32))[..., None]
            f *= gain
            f += offset
        self.noise(f, self.sigma)
        return f


class Stops(Walkers):
    """Someone walks in and stands still until the end."""

    def render(self, t):
        f = self.base(t)
        (t0, t1, y), = self.walks
        w = self.sprite[1].shape[1]
        x_end = W * 0.45
        x = -w + min(max((t - t0) / (t1 - t0), 0), 1) * (x_end + w) if t >= t0 else None
        if x is not None:
            bob = 3 * np.sin(2 * np.pi * 1.8 * t) if t < t1 else 0.0
            paste(f, self.sprite, x, y + bob)
        self.noise(f, self.sigma)
        return f


class Foliage(Walkers):
    """A bush swaying in the wind in the top right corner, masked."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.leaves = fit(data.grass(), 260, 170) * np.array([0.6, 1.0, 0.5], dtype=np.float32)
        self.box = (W - 260, 0)

    def base(self, t):
        f = self.bg.copy()
        x0, y0 = self.box
        h, w = self.leaves.shape[:2]
        rows = np.arange(h)
        # Gusts: each row sways by a different amount, more at the top.
        shift = (14 * (1 - rows / h) * np.sin(2 * np.pi * 0.7 * t + rows / 9.0)
                 + 4 * np.sin(2 * np.pi * 2.3 * t + rows / 3.0)).astype(int)
        cols = (np.arange(w)[None, :] + shift[:, None]) % w
        f[y0 : y0 + h, x0 : x0 + w] = self.leaves[rows[:, None], cols]
        return f


class Rain(Walkers):
    """Rain streaks and snowflakes all the way through, someone crossing in between."""

    def render(self, t):
        f = Walkers.render(self, t)
        n = 500
        xs = self.rng.uniform(0, W, n)
        ys = self.rng.uniform(0, H, n)
        length = self.rng.integers(6, 16, n)
        for k in range(16):
            on = k < length
            px = (xs + k * 0.35).astype(int)[on] % W
            py = (ys + k).astype(int)[on] % H
            f[py, px] += 45
        # Snowflakes: 2x2 bright specks.
        sx = self.rng.integers(0, W - 2, 150)
        sy = self.rng.integers(0, H - 2, 150)
        for dy in (0, 1):
            for dx in (0, 1):
                f[sy + dy, sx + dx] = np.maximum(f[sy + dy, sx + dx], 225)
        return f


class IrSwitch(Walkers):
    """The day-to-night switch as cameras make it: over a few frames (the IR-cut
    filter moving, the gain settling) the picture turns grey with infrared's own
    brightness per material (green things light up, red and blue ones less),
    brighter overall, and its noise rises with the gain."""

    def __init__(self, *a, at=12.0, settle=0.3, night_sigma=7.0, **kw):
        super().__init__(*a, **kw)
        self.at, self.settle, self.night_sigma = at, settle, night_sigma
        ir = self.bg @ np.array([0.15, 0.75, 0.10], dtype=np.float32)
        self.ir = (ir * 1.4 + 28.0)[..., None]

    def render(self, t):
        p = min(max((t - self.at) / self.settle, 0.0), 1.0)
        f = self.bg * (1.0 - p) + self.ir * p
        self.noise(f, self.sigma + p * (self.night_sigma - self.sigma))
        return f


def scenes():
    coffee = fit(data.coffee())
    rocket = fit(data.rocket())
    chelsea = fit(data.chelsea())
    motorbike = fit(data.stereo_motorcycle()[0])
    brick = fit(data.brick())
    cameraman = fit(data.camera())
    gravel = fit(data.gravel())

    def switch(times, low=0.45):
        def light(t):
            off = sum(1 for s in times if t >= s) % 2 == 1
            return (low, 0.0, False) if off else (1.0, 0.0, False)

        return light

    def ir_flip(t):
        if 10 <= t < 20:
            return 0.55, 8.0, False  # dusk: the lights dim
        if t >= 20:
            return 1.25, 25.0, True  # IR night mode: grey, brighter, flatter
        return 1.0, 0.0, False

    def ramp(t):
        return 1.0 - 0.6 * min(t / 40.0, 1.0), 0.0, False

    night = coffee * 0.16 + 6
    return [
        Walkers("person_crossing", "a person crosses, twice", 36, coffee,
                [(6, 12, 170), (22, 28, 150, True)], seed=1),
        Walkers("small_distant", "a distant person (24x56 px) crosses", 36, rocket,
                [(10, 22, 200)], height=56, seed=2),
        Walkers("noise_only", "nothing moves; sensor noise only", 30, chelsea, [], sigma=4.0,
                seed=3),
        Walkers("slow_ramp", "nothing moves; the light fades to 40 % over 40 s", 40, motorbike, [],
                light=ramp, seed=4),
        Walkers("light_switch", "nothing moves; lights off, on, dusk, then IR night mode", 34,
                brick, [], light=lambda t: ir_flip(t) if t >= 10 else switch([4, 7])(t), seed=5),
        Walkers("switch_during_motion", "a person crosses; the light goes off mid-way", 30,
                coffee, [(8, 16, 160)], light=switch([12]), seed=6),
        Foliage("masked_foliage", "a bush sways all the time (masked); a person crosses", 34,
                cameraman, [(14, 20, 185)],
                masks=[[[0.56, 0.0], [1.0, 0.0], [1.0, 0.5], [0.56, 0.5]]], seed=7),
        Rain("rain_snow", "rain and snow all the time; a person crosses", 34, rocket,
             [(16, 22, 170)], seed=8),
        Stops("object_stops", "someone walks in and stands still", 40, chelsea,
              [(5, 9, 170)], seed=9),
        Walkers("night", "a dark, noisy night; a dim person crosses", 34, night,
                [(12, 19, 170)], sigma=7.0, seed=10),
        IrSwitch("ir_switch", "nothing moves; day to IR night mode over 0.3 s, noise rising", 30,
                 chelsea, [], seed=12),
        Walkers("low_bitrate_detail", "gravel texture at 150 kbit/s; a person crosses", 34,
                gravel, [(14, 20, 180)], bitrate="150k", seed=11),
    ]


def encode(scene, path):
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{W}x{H}", "-r", str(FPS), "-i", "-",
           "-c:v", "libx264", "-threads", "1", "-preset", "veryfast", "-bf", "0",
           "-g", str(2 * FPS), "-b:v", scene.bitrate, "-maxrate", scene.bitrate,
           "-bufsize", scene.bitrate, "-pix_fmt", "yuv420p", "-movflags", "+faststart", path]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    for i in range(scene.duration * FPS):
        f = scene.render(i / FPS)
        p.stdin.write(np.clip(f, 0, 255).astype(np.uint8).tobytes())
    p.stdin.close()
    if p.wait() != 0:
        sys.exit(f"ffmpeg failed on {scene.name}")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: scenes.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    listing = []
    only = os.environ.get("SCENES", "").split(",") if os.environ.get("SCENES") else None
    for s in scenes():
        if only and s.name not in only:
            continue
        path = os.path.join(out, s.name + ".mp4")
        encode(s, path)
        listing.append({"name": s.name, "file": s.name + ".mp4", "duration": s.duration,
                        "truth": s.truth, "masks": s.masks, "what": s.what})
        print(f"{s.name}: {s.duration} s, motion {s.truth or 'none'}", file=sys.stderr)
    with open(os.path.join(out, "scenes.json"), "w") as f:
        json.dump({"fps": FPS, "width": W, "height": H, "scenes": listing}, f, indent=1)


if __name__ == "__main__":
    main()
