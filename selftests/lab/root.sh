#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds (once) the Debian trixie toolchain root under the cache and prints its path.
# Nothing from trixie is installed on the host: the host only gets mmdebstrap.
. "$(dirname "$0")/common.sh"

PKGS=(
	# Rust-for-Linux toolchain
	rustc rust-src rustfmt rust-clippy bindgen clang lld llvm libclang-dev
	# kernel build
	gcc libc6-dev make flex bison bc libelf-dev libssl-dev cpio kmod xz-utils zstd perl
	rsync file ccache procps time dwarves python3 ca-certificates
	# cross and guest userspace
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross busybox-static uuid-dev
	# QEMU and firmware
	qemu-system-x86 qemu-system-arm qemu-utils seabios ipxe-qemu qemu-efi-aarch64
)
# Downloaded as .debs into the root, not installed (other architectures).
EXTRA_DEBS=(busybox-static:arm64 uuid-dev:arm64 libuuid1:arm64)

# Bump RECIPE when the steps below change in a way that needs a new root.
RECIPE=1
KEY=$(key_of "$RECIPE" "${PKGS[*]}" "${EXTRA_DEBS[*]}")
ROOT=$CACHE/root-$KEY
if [ -f "$ROOT/.complete" ]; then echo "$ROOT"; exit 0; fi
if [ -z "${LAB_LOCKED_ROOT:-}" ]; then LAB_LOCKED_ROOT=1 exec flock "$CACHE/.root.lock" "$0" "$@"; fi

if ! command -v mmdebstrap >/dev/null; then
	[ "$(id -u)" = 0 ] || die "mmdebstrap missing; install it from your distribution (root needed)"
	log "installing mmdebstrap from the host's own distribution"
	apt-get update -qq && apt-get install -y -qq mmdebstrap >&2
fi
[ "$(id -u)" = 0 ] || die "building the toolchain root needs root (or pass KDIR= your own kernel tree)"

MIRROR=$(debian_mirror)
TMP=$CACHE/.root-$KEY.tmp
rm -rf --one-file-system "$TMP"
log "creating trixie root $ROOT (a few minutes)"
mmdebstrap --variant=apt --mode=root \
	--aptopt='Acquire::Retries "5"' \
	--include="$(IFS=,; echo "${PKGS[*]}")" \
	trixie "$TMP" \
	"deb $MIRROR trixie main" \
	"deb $MIRROR trixie-backports main" >&2

# Foreign-architecture packages: extract them under /opt/arm64 in the root.
mkdir -p "$TMP/opt/debs"
chroot "$TMP" sh -c "dpkg --add-architecture arm64 && apt-get update -qq && cd /opt/debs && apt-get download ${EXTRA_DEBS[*]}" >&2
for d in "$TMP"/opt/debs/*.deb; do dpkg-deb -x "$d" "$TMP/opt/arm64"; done
rm -rf "$TMP/opt/debs"
chroot "$TMP" apt-get clean
touch "$TMP/.complete"
mv "$TMP" "$ROOT"
# Older roots are garbage now.
for old in "$CACHE"/root-*; do
	[ "$old" = "$ROOT" ] || rm -rf --one-file-system "$old"
done
echo "$ROOT"
