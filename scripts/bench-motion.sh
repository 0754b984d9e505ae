#!/usr/bin/env bash
# Motion detection CPU benchmark: K cameras' 640x360 10 fps sub streams analysed at
# the same time by Hearth (`hearth run`, record = "off", motion detection at its
# defaults) and by Debian's `motion` daemon (one camera each, framerate 10, no
# pictures or movies saved), each from its own RTSP session on the same simulated
# camera server replaying the evaluation set's person_crossing scene (two people
# crossing every 36 s). Prints CPU % (of one core) and RSS per camera for both, the
# ratio, and the events each found; and beside them the decoding floor: FFmpeg
# decoding the same streams and nothing else (`ffmpeg -threads 1
# -skip_loop_filter all -f null`, as Hearth's decoder is set up), which no
# detector that looks at every frame can go below.
#
#   scripts/bench-motion.sh [K=8] [SECONDS=60]
K=${1:-8}
SECS=${2:-60}
WARMUP=10
. "$(dirname "$0")/bench-lib.sh" --eval

SCENES=person_crossing /usr/bin/python3 bench/motion/scenes.py "$work/scene" 2>/dev/null
start_fake_camera --file "$work/scene/person_crossing.mp4"

{
  printf '[storage]\ndata_dir = "%s/hearth"\nmin_free = "100MB"\n' "$work"
  for i in $(seq 1 "$K"); do
    printf '\n[[cameras]]\nname = "cam%d"\nurl = "rtsp://127.0.0.1:%d/h%d/sub"\nrecord = "off"\n' \
      "$i" "$port" "$i"
  done
} >"$work/hearth.toml"
start_hearth "$work/hearth.toml"

mkdir -p "$work/motion"
{
  printf 'daemon off\nsetup_mode off\nlog_file %s/motion.log\nlog_level 6\n' "$work"
  printf 'target_dir %s/motion\npicture_output off\nmovie_output off\n' "$work"
  printf 'webcontrol_port 0\nstream_port 0\nnative_language off\n'
  for i in $(seq 1 "$K"); do
    printf 'camera_name m%d\ncamera_id %d\nnetcam_url rtsp://127.0.0.1:%d/m%d/sub\n' "$i" "$i" "$port" "$i" \
      >"$work/motion/cam$i.conf"
    printf 'width 640\nheight 360\nframerate 10\nthreshold 1500\nnoise_tune on\n' >>"$work/motion/cam$i.conf"
    printf 'despeckle_filter EedDl\nlightswitch_percent 50\nminimum_motion_frames 2\nevent_gap 2\n' \
      >>"$work/motion/cam$i.conf"
    printf 'camera %s/motion/cam%d.conf\n' "$work" "$i"
  done
} >"$work/motion.conf"
motion -n -c "$work/motion.conf" >/dev/null 2>&1 &
mo=$!; keep

ff=()
for i in $(seq 1 "$K"); do
  ffmpeg -nostdin -loglevel error -threads 1 -skip_loop_filter all -rtsp_transport tcp \
    -i "rtsp://127.0.0.1:$port/d$i/sub" -an -f null - 2>>"$work/floor.log" &
  ff+=($!); keep
done
floor_ticks() { local t=0; for p in "${ff[@]}"; do t=$((t + $(ticks "$p"))); done; echo "$t"; }

sleep "$WARMUP"
h0=$(ticks "$hearth"); m0=$(ticks "$mo"); c0=$(ticks "$cam"); d0=$(floor_ticks)
sleep "$SECS"
h1=$(ticks "$hearth"); m1=$(ticks "$mo"); c1=$(ticks "$cam"); d1=$(floor_ticks)
hrss=$(rss_kib "$hearth"); mrss=$(rss_kib "$mo"); hpss=$(pss_kib "$hearth"); mpss=$(pss_kib "$mo")
kill -TERM "$hearth" "$mo"; wait "$hearth" "$mo" 2>/dev/null || true

hev=$(/usr/bin/python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from events").fetchone()[0])' "$work/hearth/hearth.db")
mev=$(grep -c "starting event" "$work/motion.log" || true)
awk -v k="$K" -v s="$SECS" -v hz="$hz" -v h="$((h1 - h0))" -v m="$((m1 - m0))" -v c="$((c1 - c0))" -v d="$((d1 - d0))" \
    -v hr="$hrss" -v mr="$mrss" -v hp="$hpss" -v mp="$mpss" -v he="$hev" -v me="$mev" -v w="$WARMUP" 'BEGIN {
  hc = h / hz / s * 100 / k; mc = m / hz / s * 100 / k; dc = d / hz / s * 100 / k
  printf "%d cameras, 640x360 10 fps H.264, %d s measured after %d s warm-up\n", k, s, w
  printf "%-34s %12s %10s %10s %8s\n", "per camera", "CPU % core", "RSS MiB", "PSS MiB", "events"
  printf "%-34s %12.2f %10.2f %10.2f %8d\n", "hearth (5 analysed fps)", hc, hr / 1024 / k, hp / 1024 / k, he
  printf "%-34s %12.2f %10.2f %10.2f %8d\n", "motion 4.5 (framerate 10)", mc, mr / 1024 / k, mp / 1024 / k, me
  printf "%-34s %12.2f\n", "decoding floor (ffmpeg -f null)", dc
  printf "%-34s %11.2fx %9.2fx %9.2fx\n", "hearth / motion", (mc > 0 ? hc / mc : 0), (mr > 0 ? hr / mr : 0), (mp > 0 ? hp / mp : 0)
  printf "%-34s %11.2fx\n", "hearth / decoding floor", (dc > 0 ? hc / dc : 0)
  printf "totals: hearth %.1f%% CPU, motion %.1f%% CPU, simulated camera server %.1f%% CPU\n", h / hz / s * 100, m / hz / s * 100, c / hz / s * 100
}'
grep -h "motion detection cannot\|stream failed" "$work/hearth.log" | head -5 || true
