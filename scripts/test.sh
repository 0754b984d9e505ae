#!/usr/bin/env bash
# The whole test suite: installs what the tests need, then formatting, lints,
# unit tests and the end-to-end tests against real RTSP servers (test files three at
# a time: scripts/run-tests.sh). Beside them, at low priority so that they take
# only the CPU the tests leave (the tests mostly wait on real-time cameras): the
# Raspberry Pi build, aarch64 cross-compiled with its unit tests under qemu
# (scripts/cross-test.sh), and a bounded run of each fuzz target (scripts/fuzz.sh,
# HEARTH_FUZZ_SECONDS each, default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
# Each step's time, so a slow CI run says where it went.
t0=$(date +%s)
step() {
  local t rc=0
  t=$(date +%s)
  "$@" || rc=$?
  echo "== step: $* ($(($(date +%s) - t)) s, $(($(date +%s) - t0)) s in all)"
  return "$rc"
}
step scripts/setup-debian.sh --test
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
step cargo clippy --all-targets -- -D warnings
step cargo test --release --no-run
mkdir -p target
nice -n 19 scripts/cross-test.sh >target/cross-test.log 2>&1 &
cross=$!
nice -n 19 env JOBS=2 scripts/fuzz.sh "${HEARTH_FUZZ_SECONDS:-60}" >target/fuzz.log 2>&1 &
fuzz=$!
status=0
step scripts/run-tests.sh || status=$?
if wait "$cross"; then
  grep '^cross-test: ' target/cross-test.log
else
  tail -n 60 target/cross-test.log
  status=1
fi
echo "== cross-test done: $(($(date +%s) - t0)) s in all"
if wait "$fuzz"; then
  grep '^fuzz ' target/fuzz.log
else
  tail -n 60 target/fuzz.log
  status=1
fi
echo "== suite: $(($(date +%s) - t0)) s"
exit "$status"
