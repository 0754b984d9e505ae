#!/usr/bin/env bash
# Web benchmark (tests/bench_web.rs): nine simulated cameras, Debian's chromium and
# real live clients. Prints the time from opening the live wall to each tile's
# first moving picture (4 and 9 tiles), from a click on a recording to its playing,
# the server's CPU per live viewer (WebSocket sub and main, HLS), and page weights.
#
#   scripts/bench-web.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh --test
cargo test --release --test bench_web -- --ignored --nocapture --test-threads 1 2>&1 |
  grep -Ev '^(running|test |$)| INFO |^ *(Compiling|Finished|Running) '
