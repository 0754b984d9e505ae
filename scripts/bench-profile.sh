#!/usr/bin/env bash
# Where recording's CPU goes: K simulated 720p cameras recorded by Hearth (no
# detection), then for SECONDS each: `strace -c -f` on the running process
# (system calls per frame received, by call) and `perf record` of its CPU time
# (software clock, call graphs; the top functions by their own time).
#
#   scripts/bench-profile.sh [K=8] [SECONDS=20]
K=${1:-8}
SECS=${2:-20}
. "$(dirname "$0")/bench-lib.sh" --eval
command -v perf >/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends linux-perf >/dev/null; }

start_fake_camera
recording_config "$K"
start_hearth "$work/hearth.toml"
sleep 8

frames() { "$BIN" status --json --config "$work/hearth.toml" |
  python3 -c 'import json,sys; print(sum(s["frames"] for c in json.load(sys.stdin)["cameras"] for s in c["streams"]))'; }

f0=$(frames)
timeout -s INT "$SECS" strace -c -f -p "$hearth" -o "$work/strace.txt" >/dev/null 2>&1 || true
f1=$(frames)
n=$((f1 - f0))
echo "$K cameras, 1280x720 15 fps, $SECS s under strace -c: $n frames received"
# strace -c's table: % time, seconds, usecs/call, calls, [errors,] syscall.
awk -v n="$n" '$1 ~ /^[0-9.]+$/ && NF >= 5 {
    printf "  %-16s %8d calls  %6.2f per frame\n", ($NF == "total" ? "all" : $NF), $4, (n > 0 ? $4 / n : 0) }' \
  "$work/strace.txt" | sort -k2 -n -r | head -12

sleep 3
perf record -q -e cpu-clock -F 4999 -g -p "$hearth" -o "$work/perf.data" -- sleep "$SECS" >/dev/null 2>&1 || true
echo
echo "perf: the top functions by their own share of Hearth's CPU time ($SECS s, cpu-clock)"
perf report -q -i "$work/perf.data" --no-children --sort dso,symbol --percent-limit 1.5 2>/dev/null |
  grep -E '^ +[0-9.]+%' | awk 'NR <= 25' | sed -e 's/^ */  /' -e 's/[ -]*$//'
