#!/usr/bin/env bash
# Encryption-at-rest benchmark (tests/bench_encryption.rs): recording CPU per
# stream with 8 simulated cameras, sealed against plain (alternated, two runs
# each), and playback seek latency on sealed footage against plain. About 5 minutes.
#
#   scripts/bench-encryption.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh --test
cargo test --release --test bench_encryption -- --ignored --nocapture --test-threads 1 2>&1 |
  grep -Ev '^(running|test |$)'
