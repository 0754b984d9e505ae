#!/usr/bin/env bash
# The whole test suite: installs what the tests need, then formatting, lints,
# unit tests and the end-to-end tests against real RTSP servers (test files two at
# a time: scripts/run-tests.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh --test
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo test --release --no-run
scripts/run-tests.sh
