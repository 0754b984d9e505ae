#!/usr/bin/env bash
# Alerts benchmark (tests/bench_alerts.rs): the time from a motion start in the
# picture to the MQTT motion ON, the webhook and the ntfy push (medians over 20
# events, about 7 minutes), and MQTT's CPU cost with 16 cameras (about 4 minutes),
# against Debian's mosquitto and an HTTP receiver on loopback.
#
#   scripts/bench-alerts.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh --test
cargo test --release --test bench_alerts -- --ignored --nocapture --test-threads 1 2>&1 |
  grep -Ev '^(running|test |$)'
