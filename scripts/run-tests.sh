#!/usr/bin/env bash
# Runs the built test binaries: unit tests first, then the end-to-end test files
# (tests/*.rs) JOBS at a time (default 3: they mostly wait on real-time cameras), longest first, each one's output kept in
# target/test-logs/NAME.log and printed when it finishes. Exits non-zero if any failed.
# The binaries are built first and then run directly, so editing sources meanwhile
# changes nothing in a run. Usage: scripts/run-tests.sh [NAME...]   (no names: all)
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-3}
logs=target/test-logs
mkdir -p "$logs"

# name -> executable, from cargo's build messages.
declare -A exe=()
while read -r n path; do exe[$n]=$path; done < <(
  cargo test --release --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        kind = m["target"]["kind"][0]
        print(m["target"]["name"] if kind == "test" else kind + ":" + m["target"]["name"], m["executable"])
')
[ ${#exe[@]} -gt 0 ] || { echo "cargo test --no-run built nothing"; exit 1; }

# Longest first, so the slow files do not start last; files not named here follow.
order=(faults recording motion_eval motion full_disk hostile_cameras encryption playback mqtt alerts_http browser
       corrupt_files hostile_http data_dir web audit_log revocation demo detect
       first_start config_errors)
if [ $# -gt 0 ]; then
  names=("$@")
else
  names=()
  for n in "${order[@]}"; do [ -f "tests/$n.rs" ] && names+=("$n"); done
  for f in tests/*.rs; do
    n=$(basename "$f" .rs)
    [[ " ${names[*]} " == *" $n "* ]] || names+=("$n")
  done
  for k in "${!exe[@]}"; do
    [[ $k == *:* ]] || continue
    echo "== unit tests ($k)"
    "${exe[$k]}" -q || exit 1
  done
fi

failed=()
declare -A started=()
finish() { # $1 = pid that ended, $2 = its status
  local n=${started[$1]}
  unset "started[$1]"
  echo "== $n ($(($(date +%s) - ${began[$n]})) s, exit $2)"
  if [ "$2" -ne 0 ]; then
    failed+=("$n")
    cat "$logs/$n.log"
  else
    grep -E '^test result:' "$logs/$n.log"
  fi
}
declare -A began=()
for n in "${names[@]}"; do
  while [ ${#started[@]} -ge "$jobs" ]; do
    wait -n -p done_pid; finish "$done_pid" $?
  done
  began[$n]=$(date +%s)
  [ -n "${exe[$n]:-}" ] || { echo "no test binary named $n"; exit 1; }
  "${exe[$n]}" -q >"$logs/$n.log" 2>&1 &
  started[$!]=$n
done
while [ ${#started[@]} -gt 0 ]; do
  wait -n -p done_pid; finish "$done_pid" $?
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all ${#names[@]} test files passed"
