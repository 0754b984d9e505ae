# Shared by the benchmark scripts (sourced, not run): builds Hearth, makes a work
# directory removed on exit with every process started through `keep`, starts the
# simulated camera server and Hearth, and reads a process's CPU ticks, RSS and PSS.
#
#   . scripts/bench-lib.sh --test|--eval      (the setup-debian.sh flag)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup-debian.sh "$1" >/dev/null
cargo build --release --quiet
BIN=$PWD/target/release/hearth
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
hz=$(getconf CLK_TCK)

# Remembers the last background process, to be stopped on exit.
keep() { pids+=("$!"); }

# Starts `hearth fake-camera` on a free port (extra arguments go to it); sets $port
# and $cam.
start_fake_camera() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$BIN" fake-camera --listen "127.0.0.1:$port" "$@" >"$work/fakecam.out" 2>/dev/null &
  cam=$!; keep
  until grep -q serving "$work/fakecam.out" 2>/dev/null; do sleep 0.2; done
}

# Writes $work/hearth.toml: $1 simulated 720p cameras (/hN/main), recorded with
# motion detection off, so that recording alone is measured.
recording_config() {
  {
    printf '[storage]\ndata_dir = "%s/hearth"\nmin_free = "100MB"\n' "$work"
    for i in $(seq 1 "$1"); do
      printf '\n[[cameras]]\nname = "cam%d"\nurl = "rtsp://127.0.0.1:%d/h%d/main"\n[cameras.motion]\nenabled = false\n' "$i" "$port" "$i"
    done
  } >"$work/hearth.toml"
}

# Makes the data directory of config $1 (`hearth init`) and starts `hearth run` on
# it, logging to $work/hearth.log; sets $hearth.
start_hearth() {
  "$BIN" init --config "$1" >/dev/null
  RUST_LOG=info "$BIN" run --config "$1" 2>"$work/hearth.log" &
  hearth=$!; keep
}

ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
rss_kib() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
# PSS shares pages of common libraries among the processes using them: fairer to
# many processes than RSS, which counts each shared library once per process.
pss_kib() { awk '/^Pss:/{print $2}' "/proc/$1/smaps_rollup"; }
