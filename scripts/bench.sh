#!/usr/bin/env bash
# Every performance comparison in one go, written to BENCHMARKS.md with the
# machine, the date and the versions: recording against `ffmpeg -c copy` at 1, 8
# and 32 cameras (with the stop on SIGTERM), detection against Debian's `motion`
# and the decoding floor, the browser's first live picture and click to play,
# the index at a month's size (start, seek, queries), and where recording's CPU
# goes (strace -c, perf). Takes about 20 minutes; nothing else should run.
#
#   scripts/bench.sh [SECONDS=60] [RUNS=3]   (seconds measured per comparison;
#   runs of each recording comparison, whose medians the summary shows)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
RUNS=${2:-3}
out=BENCHMARKS.md
scripts/setup-debian.sh --eval >/dev/null
cargo build --release --quiet
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
failed=()

section() { printf '\n## %s\n\n%s\n\n```\n' "$1" "$2"; }
# Runs one comparison into the file; one that fails is shown with the end of its
# output, and the others still run.
run() {
  if "$@" >"$tmp" 2>&1; then
    cat "$tmp"
  else
    echo "FAILED: $*"
    grep -v ' INFO ' "$tmp" | tail -n 15
    failed+=("$*")
  fi
  printf '```\n'
  cat "$tmp" >&2
}

{
  echo "# Benchmarks"
  echo
  echo "Written by \`scripts/bench.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'). Run it again to"
  echo "replace these figures with your machine's."
  echo
  echo "- machine: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores," \
       "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)," \
       "$(uname -sr), $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "- hearth $(target/release/hearth --version | cut -d' ' -f2) ($(git rev-parse --short HEAD 2>/dev/null || echo unknown))," \
       "$(rustc --version | cut -d' ' -f1-2)"
  echo "- $(ffmpeg -version | head -1 | cut -d' ' -f1-3), motion $(dpkg-query -W -f='${Version}' motion)," \
       "$(chromium --version 2>/dev/null | head -1)"
  echo "- CPU % is of one core; RSS and PSS are resident memory (PSS shares libraries"
  echo "  among the processes using them). The simulated cameras are Hearth's own"
  echo "  (\`hearth fake-camera\`), on the same machine."
  echo
  echo "Targets (issue 14): recording at most 0.35x ffmpeg's CPU per stream and 0.05x"
  echo "its memory; 32 cameras with no dropped frame; detection at most 1.25x the"
  echo "decoding floor; first live picture within 300 ms; seek within 100 ms; queries"
  echo "within 20 ms; a clean stop within 10 s."

  for k in 1 8 32; do
    section "Recording, $k camera$([ "$k" = 1 ] || echo s)" \
      "Hearth and \`ffmpeg -c copy -f segment\` each record every camera from its own RTSP session (\`scripts/bench-record.sh $k $SECS\`, $RUNS runs)."
    for r in $(seq 1 "$RUNS"); do
      [ "$r" = 1 ] || printf '\n```\n'
      run scripts/bench-record.sh "$k" "$SECS"
    done
  done

  section "Motion detection, 8 cameras" \
    "Hearth (5 analysed pictures a second, at its defaults), Debian's \`motion\` and FFmpeg decoding alone, on the same 640x360 10 fps streams of a person-crossing scene (\`scripts/bench-motion.sh 8 $SECS\`)."
  run scripts/bench-motion.sh 8 "$SECS"

  section "Live view and playback in a browser" \
    "Debian's chromium against nine simulated cameras (\`scripts/bench-web.sh\`)."
  run scripts/bench-web.sh

  section "The index at a month's size" \
    "30 days of 60 s segments and 40 motion events a day for 8 cameras (\`scripts/bench-index.sh\`)."
  run scripts/bench-index.sh

  section "Where recording's CPU goes, 8 cameras" \
    "System calls per frame and the top functions in a CPU profile (\`scripts/bench-profile.sh 8 20\`)."
  run scripts/bench-profile.sh 8 20
} >"$out"
scripts/bench-summary.py "$out"
echo "wrote $out"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'failed: %s\n' "${failed[@]}"
  exit 1
fi
