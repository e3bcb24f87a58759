# SPDX-License-Identifier: GPL-2.0
# Shared settings for the lab scripts. Sourced, not run.

set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$LAB_DIR/../.." && pwd)
CACHE=${VIOMMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtio-iommu-rs}
mkdir -p "$CACHE"

# Debian's kernel source, pinned.
KSRC_PKG=linux-source-7.3
KSRC_VER=7.3.4-1~bpo13+1
KSRC_TAR=linux-source-7.3.tar.xz

# Serialises builders of one cache entry: with_lock NAME CMD...
with_lock() {
	local name=$1; shift
	mkdir -p "$CACHE/locks"
	(
		flock 9
		"$@"
	) 9>"$CACHE/locks/$name"
}

log() { printf '[lab] %s\n' "$*" >&2; }
die() { printf '[lab] error: %s\n' "$*" >&2; exit 1; }

# Short content hash of files and strings, used as cache keys.
key_of() {
	local f
	{
		for f in "$@"; do
			if [ -f "$f" ]; then cat "$f"; else printf '%s\n' "$f"; fi
		done
	} | sha256sum | cut -c1-16
}

# The Debian mirror the host already uses (its address is never written into the project).
debian_mirror() {
	if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
	local m
	m=$(sed -n 's/^URIs:[[:space:]]*\(\S*\/debian\)\/\?$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
	[ -n "$m" ] || m=$(awk '$1=="deb" && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
	[ -n "$m" ] || die "cannot find a Debian mirror in the host's apt sources; set DEBIAN_MIRROR"
	echo "${m%/}"
}
