#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs a command inside the toolchain root, in a private mount namespace, so no bind mount can
# outlive it. The project checkout and the cache appear at the same paths inside.
# Usage: inroot.sh CMD [ARGS...]   (runs in the current directory)
. "$(dirname "$0")/common.sh"
ROOT=$("$LAB_DIR/root.sh")
exec unshare --mount --propagation private -- bash -euc '
	root=$1; shift; cache=$1; shift; src=$1; shift; cwd=$1; shift
	for d in /proc /sys /dev /dev/pts /tmp "$cache" "$src" "$cwd"; do
		mkdir -p "$root$d"
		mount --rbind "$d" "$root$d"
	done
	mount -t tmpfs tmpfs "$root/dev/shm" 2>/dev/null || true
	exec chroot "$root" /usr/bin/env -i HOME=/root TERM=${TERM:-dumb} \
		PATH=/usr/lib/ccache:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		CCACHE_DIR="$cache/ccache" LANG=C.UTF-8 \
		bash -c "cd \"\$0\" && exec \"\$@\"" "$cwd" "$@"
' inroot "$ROOT" "$CACHE" "$SRC_DIR" "$PWD" "$@"
