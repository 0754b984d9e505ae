#!/usr/bin/env bash
# The Raspberry Pi build: cross-compiles Hearth for aarch64-unknown-linux-gnu with
# Debian's cross toolchain and arm64 FFmpeg libraries (multiarch), then runs the
# unit tests under Debian's qemu-user-static against that build. With --release it
# builds the release binary too (target/aarch64-unknown-linux-gnu/release/hearth),
# for scripts/build-deb.sh ARCH=arm64.
#
# Installs what it needs (apt, and the Rust target through rustup). When those
# cannot be installed it says why and exits 0 without testing, so that a machine
# without the archive or rustup's server skips this part of the suite; any failure
# after that is a failure.
#
#   scripts/cross-test.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
target=aarch64-unknown-linux-gnu
skip() { echo "cross-test: skipped: $*"; exit 0; }

mkdir -p target
scripts/setup-debian.sh --cross >target/cross-apt.log 2>&1 ||
  skip "the arm64 cross packages could not be installed (target/cross-apt.log)"
if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  rustup target add "$target" >/dev/null 2>&1 || skip "rustup could not add the $target target"
fi

# Linking: the cross gcc, and the arm64 libraries' own dependencies found where
# multiarch put them.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C link-arg=-Wl,-rpath-link,/usr/lib/aarch64-linux-gnu -C link-arg=-Wl,-rpath-link,/lib/aarch64-linux-gnu"
# Running: qemu with the arm64 loader and libraries multiarch installed under /.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64-static -L /"
# FFmpeg's headers and libraries for arm64, through pkg-config.
export PKG_CONFIG_ALLOW_CROSS=1
export PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar

profile=debug
if [ "${1:-}" = "--release" ]; then
  cargo build --release --target "$target" --bin hearth
  profile=release
fi
cargo test --target "$target" --lib --bins
# The binary itself, under qemu: it starts, links FFmpeg, and checks a config.
cargo build --target "$target" --bin hearth
bin=target/$target/$profile/hearth
file -b "$bin" | grep -q 'ARM aarch64' || { echo "cross-test: $bin is not an aarch64 executable"; exit 1; }
qemu-aarch64-static -L / "$bin" --version
qemu-aarch64-static -L / "$bin" check --config config.example.toml >/dev/null
echo "cross-test: the aarch64 build passed its unit tests and checked config.example.toml under qemu"
