#!/usr/bin/env bash
# Index benchmark (the ignored tests/bench_index.rs): 30 days of 60 s segments and
# motion events for 8 cameras, then Hearth's start, playback seek latency at random
# moments, and the timeline, events and activity queries over a day.
#
#   scripts/bench-index.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh --test >/dev/null
cargo test --release --test bench_index -- --ignored --nocapture --test-threads 1 2>&1 |
  grep -E '^(index|  )'
