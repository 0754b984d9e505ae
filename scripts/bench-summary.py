#!/usr/bin/python3
"""Adds the summary against issue 14's targets to BENCHMARKS.md, from the figures
scripts/bench.sh wrote into it (run by bench.sh; reads and rewrites the file)."""
import re
import statistics
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "BENCHMARKS.md"
text = open(path, encoding="utf-8").read()
text = re.sub(r"\n## Against the targets\n.*?(?=\n## )", "\n", text, flags=re.S)


def section(title):
    m = re.search(r"^## " + re.escape(title) + r"\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    return m.group(1) if m else ""


def num(pattern, body):
    m = re.search(pattern, body)
    return float(m.group(1)) if m else None


def median(pattern, body):
    """The median of every match in `body` (a section may hold several runs) and
    all of them as text, or (None, "") when none matched."""
    vals = sorted(float(v) for v in re.findall(pattern, body))
    if not vals:
        return None, ""
    return statistics.median(vals), ", ".join(f"{v:.2f}" for v in vals)


rows = []


def row(what, target, value, shown, ok):
    """A line of the table: `value` (None when not measured) shown with `shown`."""
    if value is None:
        rows.append(f"| {what} | {target} | not measured | n/a |")
    else:
        rows.append(f"| {what} | {target} | {shown.format(value)} | {'met' if ok(value) else '**missed**'} |")


for k in (1, 8, 32):
    cams = f"{k} camera" + ("" if k == 1 else "s")
    body = section(f"Recording, {cams}")
    # Each figure is the median of the section's runs, which are listed beside it.
    for what, pattern, limit in (
        ("CPU", r"hearth / ffmpeg\s+([0-9.]+)x", 0.35),
        ("memory", r"hearth / ffmpeg\s+[0-9.]+x\s+([0-9.]+)x", 0.05),
    ):
        value, runs = median(pattern, body)
        shown = "{:.2f}x" + (f" (median of {runs})" if "," in runs else "")
        row(f"recording {what} per stream, {cams}", f"≤ {limit}x ffmpeg", value, shown, lambda v, l=limit: v <= l)
    stops = [float(v) for v in re.findall(r"SIGTERM to exit[^:]*: ([0-9]+) ms", body)]
    row(f"clean stop on SIGTERM, {cams}", "≤ 10 s", max(stops, default=None), "{:.0f} ms (slowest)", lambda v: v <= 10000)
    if k == 32:
        runs = re.findall(r"(\d+) frames received, (\d+) recorded, (\d+) failed, (\d+) dropped", body)
        lost = sum(int(r) - int(w) + int(f) + int(d) for r, w, f, d in runs) if runs else None
        row("frames lost at 32 cameras", "none", lost, "{}", lambda v: v == 0)

body = section("Motion detection, 8 cameras")
floor = num(r"hearth / decoding floor\s+([0-9.]+)x", body)
row("detection CPU against the decoding floor", "≤ 1.25x", floor, "{:.2f}x", lambda v: v <= 1.25)

body = section("Live view and playback in a browser")
first = num(r"9 tiles: .*?, ([0-9]+) ms for the last tile", body)
row("first live picture, the last of 9 tiles", "≤ 300 ms", first, "{:.0f} ms", lambda v: v <= 300)

body = section("The index at a month's size")
seek = num(r"cold: median [0-9.]+ ms, p95 ([0-9.]+) ms", body)
row("seek at a random moment of a month (p95, cold)", "≤ 100 ms", seek, "{:.1f} ms", lambda v: v <= 100)
queries = [float(x) for x in re.findall(r"(?:timeline|events|activity)[^\n]*?p95 ([0-9.]+) ms", body)]
row("timeline and events queries over a day (worst p95)", "≤ 20 ms", max(queries, default=None), "{:.1f} ms", lambda v: v <= 20)

summary = "\n## Against the targets\n\n| what | target | measured | |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"
first_section = text.index("\n## ")
text = text[:first_section] + "\n" + summary + text[first_section:]
text = re.sub(r"\n{3,}", "\n\n", text)
open(path, "w", encoding="utf-8").write(text)
