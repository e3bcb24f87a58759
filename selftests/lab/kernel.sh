#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds (once per source + config + toolchain) the test kernel for ARCH and prints its build
# directory. Usage: kernel.sh x86_64|arm64 [VARIANT]
#   VARIANT is a dash-separated list of extra fragments, merged in order: each word W is
#   selftests/config.ARCH-W if that exists (e.g. arm64 64k), else selftests/config.W (e.g. debug).
#   VARIANT=64k-debug is the arm64 64K-page kernel with the debug options: one build for both.
. "$(dirname "$0")/common.sh"
ARCH=${1:?arch}; VARIANT=${2:-}
case $ARCH in
x86_64) KARCH=x86; IMAGE=arch/x86/boot/bzImage ;;
arm64) KARCH=arm64; IMAGE=arch/arm64/boot/Image ;;
*) die "unknown ARCH $ARCH" ;;
esac
KSRC=$("$LAB_DIR/ksrc.sh")
ROOT=$("$LAB_DIR/root.sh")
FRAGS=("$SRC_DIR/selftests/config" "$SRC_DIR/selftests/config.$ARCH")
for w in ${VARIANT//-/ }; do
	f=$SRC_DIR/selftests/config.$ARCH-$w
	[ -f "$f" ] || f=$SRC_DIR/selftests/config.$w
	[ -f "$f" ] || die "VARIANT $VARIANT: no selftests/config.$ARCH-$w or selftests/config.$w"
	FRAGS+=("$f")
done
# Bump RECIPE when the build steps below change.
RECIPE=1
# The root by its name (its own content key), not its path: a cache moved elsewhere stays warm.
KEY=$(key_of "$RECIPE" "$KSRC_VER" "${ROOT##*/}" "${FRAGS[@]}")
NAME=$ARCH${VARIANT:+-$VARIANT}
B=$CACHE/build/$NAME-$KEY
if [ -f "$B/.complete" ]; then echo "$B"; exit 0; fi
if [ -z "${LAB_LOCKED_KERNEL:-}" ]; then LAB_LOCKED_KERNEL=1 exec flock "$CACHE/.kernel-$NAME.lock" "$0" "$@"; fi
# Start from the newest earlier build of this kernel, if any: Kbuild then rebuilds only what
# the changed inputs touch.
# (Exactly NAME-KEY: x86_64-* would also match x86_64-debug-*.)
builds() { ls -dt "$CACHE/build/$NAME"-???????????????? 2>/dev/null || true; }
prev=$(builds | grep -vxF "$B" | head -n1 || true)
if [ -n "$prev" ] && [ ! -e "$B" ]; then
	log "reusing $prev for an incremental build"
	rm -f "$prev/.complete"
	mv "$prev" "$B"
fi
mkdir -p "$B" "$CACHE/ccache"
log "building the $NAME kernel in $B (several minutes; log: $B/build.log)"
J=${JOBS:-$(nproc)}
MK=(make -C "$KSRC" O="$B" ARCH="$KARCH" LLVM=1 -j"$J")
(
	cd "$B"
	"$LAB_DIR/inroot.sh" "${MK[@]}" tinyconfig
	"$LAB_DIR/inroot.sh" "$KSRC/scripts/kconfig/merge_config.sh" -m -O "$B" "$B/.config" "${FRAGS[@]}"
	"$LAB_DIR/inroot.sh" "${MK[@]}" olddefconfig
	# Every option a fragment asks for must have survived Kconfig, unless a later fragment (a
	# VARIANT, e.g. 64k pages over config.arm64's 4K) sets the same symbol again.
	bad=0
	for ((i = 0; i < ${#FRAGS[@]}; i++)); do
		while IFS= read -r line; do
			case $line in CONFIG_*=*) ;; *) continue ;; esac
			later=("${FRAGS[@]:i+1}")
			[ ${#later[@]} = 0 ] || ! grep -qE "^(# )?${line%%=*}[= ]" "${later[@]}" || continue
			grep -qxF "$line" "$B/.config" || { log "config: $line did not stick"; bad=1; }
		done <"${FRAGS[i]}"
	done
	[ $bad = 0 ] || die "kernel config incomplete"
	"$LAB_DIR/inroot.sh" "${MK[@]}" all
	"$LAB_DIR/inroot.sh" "${MK[@]}" headers_install INSTALL_HDR_PATH="$B/usr"
) >"$B/build.log" 2>&1 || { tail -n 40 "$B/build.log" >&2; die "kernel build failed (see $B/build.log)"; }
[ -f "$B/$IMAGE" ] || die "no $IMAGE after the build"
ln -sf "$IMAGE" "$B/kernel-image"
touch "$B/.complete"
for old in $(builds); do
	[ "$old" = "$B" ] || rm -rf "$old"
done
echo "$B"
