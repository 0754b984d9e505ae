#!/usr/bin/env bash
# Motion detection quality, side by side: renders the evaluation set from real
# photographs (bench/motion/scenes.py), then scores Hearth (`hearth detect`) and
# Debian's `motion` daemon on the same scenes in the same run
# (bench/motion/score.py) and prints the tables.
#
#   scripts/eval-motion.sh [OUT_DIR=target/motion-eval]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/motion-eval}
scripts/setup-debian.sh --eval >/dev/null
cargo build --release --quiet
/usr/bin/python3 bench/motion/scenes.py "$out"
/usr/bin/python3 bench/motion/score.py --hearth target/release/hearth --scenes "$out" \
  --json "$out/result.json"
