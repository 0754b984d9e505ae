#!/usr/bin/env bash
# The whole test suite: installs what the tests need, then formatting, lints,
# unit tests and the end-to-end tests against real RTSP servers (test files two at
# a time: scripts/run-tests.sh), with a bounded run of each fuzz target
# (scripts/fuzz.sh, HEARTH_FUZZ_SECONDS each, default 60) at low priority beside them;
# first the Raspberry Pi build: aarch64 cross-compiled, unit tests under qemu
# (scripts/cross-test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh --test
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
cargo clippy --all-targets -- -D warnings
scripts/cross-test.sh
cargo test --release --no-run
mkdir -p target
nice -n 19 env JOBS=2 scripts/fuzz.sh "${HEARTH_FUZZ_SECONDS:-60}" >target/fuzz.log 2>&1 &
fuzz=$!
status=0
scripts/run-tests.sh || status=$?
if wait "$fuzz"; then
  grep '^fuzz ' target/fuzz.log
else
  tail -n 60 target/fuzz.log
  status=1
fi
exit "$status"
