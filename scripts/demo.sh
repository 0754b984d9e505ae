#!/usr/bin/env bash
# Quick start: installs what Hearth needs, builds it and runs the demo (simulated
# cameras recorded into a throwaway directory). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
exec cargo run --release -- demo "$@"
