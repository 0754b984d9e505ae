#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers that read untrusted bytes (`fuzz/`: segment
# files, the config, HTTP Range and times, H.264/H.265 parameter sets, RTSP requests)
# with libFuzzer on the stable toolchain: the instrumentation cargo-fuzz applies
# with `--sanitizer none`, set here by hand, so neither nightly nor cargo-fuzz is
# needed (libfuzzer-sys builds libFuzzer with the system's C++ compiler).
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (default: 60 s for each target)
#   JOBS=N runs N targets at a time (default 1).
# Corpora grow in target/fuzz/corpus/TARGET, seeded from fuzz/seeds/TARGET and from
# what the test suite recorded (target/fuzz-seeds/TARGET: real segment files and
# their sample entries). Every input kept in fuzz/regressions/TARGET runs first. A
# crash stops the run and leaves its input in target/fuzz/artifacts/TARGET/; once
# fixed, copy it into fuzz/regressions/TARGET, where `cargo test` runs it too.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
jobs=${JOBS:-1}
all=(mp4_file config http_range_time parameter_sets rtsp_request)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

host=$(rustc -vV | sed -n 's/^host: //p')
# An explicit --target keeps the flags off build scripts and proc macros.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
cargo build --release --manifest-path fuzz/Cargo.toml --target "$host" \
  --target-dir target/fuzz/build --bins

fuzz_one() {
  local t=$1 corpus=target/fuzz/corpus/$1 art=target/fuzz/artifacts/$1/
  local log=target/fuzz/$1.log
  mkdir -p "$corpus" "$art"
  local dirs=()
  for d in fuzz/seeds/$t target/fuzz-seeds/$t fuzz/regressions/$t; do
    [ -d "$d" ] && dirs+=("$d")
  done
  local status=0
  "target/fuzz/build/$host/release/$t" -max_total_time="$secs" -print_final_stats=1 \
    -artifact_prefix="$art" -timeout=10 -rss_limit_mb=2048 "$corpus" "${dirs[@]}" \
    >"$log" 2>&1 || status=$?
  local execs units
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  units=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -n 1)
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log"
    echo "fuzz $t: FAILED after ${execs:-?} runs; input kept in $art"
    return 1
  fi
  echo "fuzz $t: ${secs} s, ${execs:-?} runs, ${units:-0} new inputs, corpus $(ls "$corpus" | wc -l) files, no crash"
}

failed=0
running=0
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "no fuzz target $t (${all[*]})"; exit 1; }
  if [ "$running" -ge "$jobs" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
exit "$failed"
