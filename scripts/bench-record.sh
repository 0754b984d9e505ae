#!/usr/bin/env bash
# Recording benchmark: K simulated 720p cameras (15 fps, ~1.4 Mbit/s) recorded at
# the same time by Hearth and by `ffmpeg -c copy -f segment`, each from its own
# RTSP session on the same simulated camera server. Prints CPU % (of one core) and
# RSS per stream for both, the ratios, whether Hearth recorded every frame, and
# how long Hearth takes to stop on SIGTERM (systemd's stop).
#
#   scripts/bench-record.sh [K=8] [SECONDS=60]
K=${1:-8}
SECS=${2:-60}
WARMUP=8
. "$(dirname "$0")/bench-lib.sh" --test

start_fake_camera

recording_config "$K"
start_hearth "$work/hearth.toml"

ff=()
mkdir -p "$work/ffmpeg"
for i in $(seq 1 "$K"); do
  ffmpeg -nostdin -loglevel error -rtsp_transport tcp -i "rtsp://127.0.0.1:$port/f$i/main" \
    -c copy -f segment -segment_time 60 -reset_timestamps 1 "$work/ffmpeg/f${i}_%03d.mp4" \
    2>>"$work/ffmpeg.log" &
  ff+=($!); keep
done

sleep "$WARMUP"
h0=$(ticks "$hearth"); f0=0; for p in "${ff[@]}"; do f0=$((f0 + $(ticks "$p"))); done
c0=$(ticks "$cam")
sleep "$SECS"
h1=$(ticks "$hearth"); f1=0; for p in "${ff[@]}"; do f1=$((f1 + $(ticks "$p"))); done
c1=$(ticks "$cam")
hrss=$(rss_kib "$hearth"); frss=0; for p in "${ff[@]}"; do frss=$((frss + $(rss_kib "$p"))); done
hpss=$(pss_kib "$hearth"); fpss=0; for p in "${ff[@]}"; do fpss=$((fpss + $(pss_kib "$p"))); done

t0=$(date +%s%N)
kill -TERM "$hearth"; wait "$hearth" || true
stop_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
"$BIN" verify --config "$work/hearth.toml" >"$work/verify.out" || { cat "$work/verify.out"; echo "VERIFY FAILED"; }

awk -v k="$K" -v s="$SECS" -v hz="$hz" -v h="$((h1 - h0))" -v f="$((f1 - f0))" \
    -v c="$((c1 - c0))" -v hr="$hrss" -v fr="$frss" -v hp="$hpss" -v fp="$fpss" 'BEGIN {
  hc = h / hz / s * 100 / k; fc = f / hz / s * 100 / k
  hm = hr / 1024 / k; fm = fr / 1024 / k; hq = hp / 1024 / k; fq = fp / 1024 / k
  printf "%d cameras, 1280x720 15 fps, %d s measured after %d s warm-up\n", k, s, 8
  printf "%-28s %12s %10s %10s\n", "per stream", "CPU % core", "RSS MiB", "PSS MiB"
  printf "%-28s %12.2f %10.2f %10.2f\n", "hearth (one process)", hc, hm, hq
  printf "%-28s %12.2f %10.2f %10.2f\n", "ffmpeg -c copy -f segment", fc, fm, fq
  printf "%-28s %11.2fx %9.2fx %9.2fx\n", "hearth / ffmpeg", (fc > 0 ? hc / fc : 0), (fm > 0 ? hm / fm : 0), (fq > 0 ? hq / fq : 0)
  printf "hearth total: %.1f%% CPU, %.1f MiB RSS; simulated camera server: %.1f%% CPU\n", h / hz / s * 100, hr / 1024, c / hz / s * 100
}'
# Every frame Hearth received is recorded, and no consumer queue overflowed.
awk '/stopped: frames received/ {
       n++; for (i = 1; i <= NF; i++) { if ($i == "received") r += $(i+1); if ($i == "recorded") w += $(i+1); if ($i == "failed") f += $(i+1); if ($i == "dropped") d += $(i+1)
       if ($i == "key" && $(i+1) == "frame") k += $(i+2); if ($i == "idle") z += $(i+1) }
     }
     /stream failed/ { bad++ }
     END { printf "hearth: %d streams, %d frames received, %d recorded, %d failed, %d dropped, %d stream errors\n", n, r, w, f, d, bad
           printf "hearth: not recorded by design: %d before a stream'"'"'s first key frame, %d while recording was off\n", k, z }' \
  <(sed 's/,//g' "$work/hearth.log")
echo "hearth: SIGTERM to exit (every segment finished and indexed): $stop_ms ms"
