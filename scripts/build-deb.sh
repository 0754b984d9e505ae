#!/usr/bin/env bash
# Builds the Debian package: target/deb/hearth_VERSION_ARCH.deb with the binary,
# /etc/hearth/hearth.toml (a conffile, from config.example.toml with Debian's
# paths), the hardened systemd unit, the docs, and the maintainer scripts of
# packaging/debian (a hearth system user, /var/lib/hearth at 0700, purge keeps
# the footage unless asked). Dependencies come from dpkg-shlibdeps. With
# BIN=path it packages that binary (a cross-built one, with ARCH=arm64).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
arch=${ARCH:-$(dpkg --print-architecture)}
bin=${BIN:-target/release/hearth}
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
fi
out=target/deb
root=$out/root
rm -rf "$root"
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/etc/hearth" "$root/lib/systemd/system" \
         "$root/usr/share/doc/hearth"
install -m 0755 "$bin" "$root/usr/bin/hearth"
# The example with Debian's data directory (the one the unit may write) and its
# sample camera commented out: a new installation connects to nothing until the
# owner adds a camera (Camera settings in the browser, or this file). The web
# stays on loopback until they change `listen`.
awk '
  /^\[\[cameras\]\]/ { cams = 1 }
  /^# MQTT and Home Assistant/ { cams = 0 }
  cams && /^[^#[:space:]]/ { print "# " $0; next }
  { print }
' config.example.toml | sed -e 's|^data_dir = .*|data_dir = "/var/lib/hearth"|' \
  > "$root/etc/hearth/hearth.toml"
chmod 0640 "$root/etc/hearth/hearth.toml"
install -m 0644 packaging/debian/hearth.service "$root/lib/systemd/system/hearth.service"
install -m 0644 README.md ARCHITECTURE.md "$root/usr/share/doc/hearth/"
cp -r docs "$root/usr/share/doc/hearth/docs"
for s in postinst prerm postrm; do
  install -m 0755 "packaging/debian/$s" "$root/DEBIAN/$s"
done
echo "/etc/hearth/hearth.toml" > "$root/DEBIAN/conffiles"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/debian"
printf 'Source: hearth\n\nPackage: hearth\nArchitecture: any\n' > "$tmp/debian/control"
abs_bin=$(realpath "$root/usr/bin/hearth")
depends=$(cd "$tmp" && dpkg-shlibdeps -O -e "$abs_bin" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
size=$(du -sk "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: hearth
Version: $version
Architecture: $arch
Maintainer: Hearth developers <hearth@localhost>
Installed-Size: $size
Depends: $depends, adduser
Section: video
Priority: optional
Homepage: https://hearth.invalid/
Description: self-hosted network video recorder
 Hearth records IP cameras over RTSP, detects motion and serves a web
 interface on the local network; footage never leaves the house. Every
 view of footage is in a tamper-evident audit log, access is per user and
 camera, recordings can be encrypted at rest.
CONTROL
deb="$out/hearth_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb"
