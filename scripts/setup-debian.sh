#!/usr/bin/env bash
# Installs the Debian 12 packages Hearth needs to build (FFmpeg libraries, clang for
# bindgen) and, with --test, what the test suite needs too (ffprobe, GStreamer's
# RTSP server for the second real camera, VLC's RTSP server for a third, chromium
# and chromedriver for the UI, numpy and scikit-image for the motion evaluation
# scenes, g++ for libFuzzer, Mosquitto for the MQTT tests, iproute2 for the
# no-egress namespace, Prometheus and promtool for the metrics test) and, with --eval, Debian's `motion` daemon too, for the
# side-by-side comparisons; with --cross, the Raspberry Pi build's: Debian's
# aarch64 cross compiler, qemu-user-static and the arm64 FFmpeg libraries
# (multiarch, arm64 added). Skips apt when everything is present.
set -euo pipefail
# The FFmpeg libraries are named with this machine's architecture: the Raspberry
# Pi build (scripts/cross-test.sh) installs their arm64 twins beside them.
arch=$(dpkg --print-architecture)
pkgs=(libavcodec-dev:"$arch" libavformat-dev:"$arch" libavutil-dev:"$arch" libswscale-dev:"$arch"
      pkg-config clang libclang-dev)
if [ "${1:-}" = "--test" ] || [ "${1:-}" = "--eval" ]; then
  pkgs+=(ffmpeg curl strace python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp
         gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
         gstreamer1.0-plugins-ugly chromium chromium-driver python3-numpy python3-skimage
         vlc-bin vlc-plugin-base g++ mosquitto mosquitto-clients iproute2 prometheus)
fi
if [ "${1:-}" = "--eval" ]; then
  pkgs+=(motion)
fi
if [ "${1:-}" = "--cross" ]; then
  pkgs=(file gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static
        libavcodec-dev:arm64 libavformat-dev:arm64 libavutil-dev:arm64 libswscale-dev:arm64)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}"
  if [ "${1:-}" = "--cross" ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $sudo dpkg --add-architecture arm64
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Debian starts the Prometheus daemon it installs, on every interface; the
  # tests run their own on loopback.
  if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
    $sudo systemctl disable --now prometheus
  fi
fi
