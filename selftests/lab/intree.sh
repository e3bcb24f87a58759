#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# 'make intree': turns this checkout into a patch series that adds the driver to a kernel tree
# under drivers/iommu/virtio-iommu-rs/ and its selftests under
# tools/testing/selftests/drivers/iommu/virtio/, then checks the series: it applies to the
# pristine tree (git am), checkpatch.pl --strict, the tree's rustfmtcheck, and x86_64 builds
# (LLVM=1, O=) with CONFIG_VIRTIO_IOMMU_RS=y and =m. See Documentation/intree.rst.
# Environment: KSRC (kernel source, default the lab's), OUT (patch directory, default
# out/intree-patches), AUTHOR ("Name <email>", default git config), TAG (work dir name),
# CONFIG (.config to start from, default the newest lab x86_64 build's), BUILD=0 (no builds),
# JOBS (default 2).
. "$(dirname "$0")/common.sh"
KSRC=${KSRC:-$("$LAB_DIR/ksrc.sh")}
[ -f "$KSRC/Makefile" ] && [ -d "$KSRC/drivers/iommu" ] || die "KSRC=$KSRC is not a kernel source tree"
KSRC=$(cd "$KSRC" && pwd)
OUT=$(mkdir -p "${OUT:-$SRC_DIR/out/intree-patches}" && cd "${OUT:-$SRC_DIR/out/intree-patches}" && pwd)
AUTHOR=${AUTHOR:-$(git -C "$SRC_DIR" config user.name || echo "Your Name") <$(git -C "$SRC_DIR" config user.email || echo you@example.org)>}
NAME=${AUTHOR% <*} EMAIL=${AUTHOR##*<} EMAIL=${EMAIL%>}
g() { git -c user.name="$NAME" -c user.email="$EMAIL" "$@"; }
W=$CACHE/work/intree-${TAG:-$(basename "$KSRC")}
L=$W/linux B=$W/build-x86_64 D=drivers/iommu/virtio-iommu-rs
GIT=(g -C "$L")
IN=("$LAB_DIR/inroot.sh")
mkdir -p "$W"

# 1. A git tree of the pristine source, made once: a shallow clone of a git tree, else a copy
#    with one base commit (the cached source itself is never written).
if [ ! -d "$L/.git" ]; then
	rm -rf "$L.tmp"
	if [ -d "$KSRC/.git" ]; then
		git clone -q --depth 1 "file://$KSRC" "$L.tmp"
	else
		log "copying $KSRC into $L (once)"
		cp -a "$KSRC" "$L.tmp"
		rm -f "$L.tmp/.complete"
		git -C "$L.tmp" init -q
		git -C "$L.tmp" add -A -f
		g -C "$L.tmp" commit -q -m "Linux $(awk '$1 ~ /^(VERSION|PATCHLEVEL|SUBLEVEL)$/ {printf "%s%s", s, $3; s="."}' "$KSRC/Makefile") ($(basename "$KSRC"))"
	fi
	git -C "$L.tmp" tag -f intree-base >/dev/null
	mv "$L.tmp" "$L"
fi
"${GIT[@]}" checkout -q -f -B virtio-iommu-rs intree-base

# 2. The series. Patch 1: the sources, verbatim (Kbuild is the module's whole build).
FILES=$(git -C "$SRC_DIR" ls-files Kbuild Kconfig virtio_iommu.rs driver.rs driver sys.rs sys 'uapi/*.rs' |
	grep -v -e '^uapi/.*/' -e '^uapi/host\.rs$')
mkdir -p "$L/$D"
(cd "$SRC_DIR" && cp --parents $FILES "$L/$D/")
maint() { # maint LINE...: add lines to the section after the C driver's in MAINTAINERS
	python3 - "$L/MAINTAINERS" "$@" <<-'EOF'
	import sys
	p, lines = sys.argv[1], sys.argv[2:]
	s = open(p).read()
	head = "VIRTIO IOMMU DRIVER (RUST)\n"
	if head not in s:
	    i = s.index("\n\n", s.index("\nVIRTIO IOMMU DRIVER\n") + 1) + 2
	    s = s[:i] + head + "\n" + s[i:]
	i = s.index("\n\n", s.index(head))
	sec = sorted(s[s.index(head):i].split("\n")[1:] + lines, key=lambda l: ("MRLSTF".find(l[0]), l))
	s = s[:s.index(head)] + head + "\n".join(sec) + s[i:]
	open(p, "w").write(s)
	EOF
}
maint "M:	$AUTHOR" "L:	iommu@lists.linux.dev" "L:	rust-for-linux@vger.kernel.org" "S:	Maintained" "F:	$D/"
# -f: Debian's linux-source .gitignore ignores everything at the top level.
"${GIT[@]}" add -f "$D" MAINTAINERS
"${GIT[@]}" commit -q -s -F - <<EOF
iommu/virtio-rs: Add a virtio-iommu driver written in Rust

Add virtio_iommu_rs, a driver for the virtio-iommu device (virtio 1.3,
section 5.13) written in Rust. It registers an IOMMU with the IOMMU core,
turns attach, detach, map and unmap into requests on the device's request
queue, probes every endpoint for its reserved regions and reports faults
from the event queue to the IOMMU core.

The code is in three layers: uapi/ is the wire format and the protocol
logic (core only, no unsafe, also built and fuzzed as a host crate
outside the kernel), sys/ holds the abstractions over the virtio bus and
the IOMMU driver interface that the kernel crate lacks (the only unsafe
code), and driver/ is the driver logic.

The kernel crate's bindings lack the virtio bus, so Kbuild runs bindgen
over sys/bindings.h into the object tree (sys/bindings_generated.rs,
found through VIOMMU_RS_OBJ, so O= builds keep the source tree clean),
and a small C helper object wraps static inline functions and macros.

It is an alternative to VIRTIO_IOMMU; load only one of the two.
EOF

# Patch 2: the hook into drivers/iommu.
sed -i '\|^source "drivers/iommu/riscv/Kconfig"|a source "drivers/iommu/virtio-iommu-rs/Kconfig"' "$L/drivers/iommu/Kconfig"
sed -i '\|^obj-$(CONFIG_VIRTIO_IOMMU) += virtio-iommu.o|a obj-$(CONFIG_VIRTIO_IOMMU_RS) += virtio-iommu-rs/' "$L/drivers/iommu/Makefile"
grep -q virtio-iommu-rs/Kconfig "$L/drivers/iommu/Kconfig" && grep -q virtio-iommu-rs/ "$L/drivers/iommu/Makefile" ||
	die "drivers/iommu/Kconfig or Makefile: anchor line not found"
"${GIT[@]}" commit -q -s -a -F - <<EOF
iommu/virtio-rs: Build the Rust virtio-iommu driver

Source the driver's Kconfig from drivers/iommu/Kconfig and descend into
its directory when CONFIG_VIRTIO_IOMMU_RS is set.
EOF

# Patch 3: the documentation, beside the virtio driver-API documents.
DOC=Documentation/driver-api/virtio/virtio-iommu-rs.rst
cp "$SRC_DIR/Documentation/virtio-iommu-rs.rst" "$L/$DOC"
sed -i '$a\   virtio-iommu-rs' "$L/Documentation/driver-api/virtio/index.rst"
maint "F:	$DOC"
"${GIT[@]}" add -f "$DOC" Documentation/driver-api/virtio/index.rst MAINTAINERS
"${GIT[@]}" commit -q -s -F - <<EOF
Documentation: virtio: Document the Rust virtio-iommu driver

Describe virtio_iommu_rs: how it is built, its layers, how it registers,
maps and reports faults, its module parameters and debugfs files, its use
with VFIO and how it differs from the C driver.
EOF
# Patch 4: the selftests in kselftest form, under tools/testing/selftests/drivers/iommu/virtio/
# (lib.mk, config, settings), and their TARGETS entry beside drivers/dma-buf.
ST=tools/testing/selftests/drivers/iommu/virtio
mkdir -p "$L/$ST"
(cd "$SRC_DIR/selftests" && cp $(git ls-files -- '*.c' '*.h') Makefile settings .gitignore "$L/$ST/")
cp "$SRC_DIR/selftests/kselftest.config" "$L/$ST/config"
sed -i '\|^TARGETS += drivers/dma-buf$|a TARGETS += drivers/iommu/virtio' "$L/tools/testing/selftests/Makefile"
grep -qx 'TARGETS += drivers/iommu/virtio' "$L/tools/testing/selftests/Makefile" ||
	die "tools/testing/selftests/Makefile: anchor line not found"
maint "F:	$ST/"
"${GIT[@]}" add -f "$ST" tools/testing/selftests/Makefile MAINTAINERS
"${GIT[@]}" commit -q -s -F - <<EOF
selftests: iommu/virtio: Add virtio-iommu selftests

Add kselftests for the virtio-iommu drivers (virtio_iommu and
virtio_iommu_rs), for a guest that has a virtio-iommu device. They find
the topology in sysfs: the virtio-iommu and the driver bound to it, its
IOMMU instance, the endpoints and disks behind it, the firmware that
described it (ACPI VIOT or a device tree) and the MSI window of its
groups.

They check the IOMMU groups and their sysfs links, the reserved regions,
DMA through the IOMMU with O_DIRECT disk I/O of several sizes and buffer
offsets, the endpoints' MSIs, dma_map_benchmark on QEMU's edu device,
default domain type changes, user-space DMA and MSIs through VFIO type1
and iommufd on edu, page faults reported to the IOMMU core, module unload
and reload, and the refusal of a granule larger than PAGE_SIZE.

What only the VMM's host knows (the disks' contents, the MSI doorbell on
arm64, whether a refusal is expected) comes from optional VIOMMU_*
environment variables; without them the cases that need it skip and say
why. Disks are written only when VIOMMU_DISKS names them, and the module
is unloaded only when VIOMMU_DRIVER names it.
EOF

rm -f "$OUT"/*.patch
"${GIT[@]}" format-patch -q -o "$OUT" intree-base..HEAD
log "series in $OUT:"; ls "$OUT" >&2

# 3. Checks: the series applies, checkpatch, rustfmt, builds.
"${GIT[@]}" checkout -q -f -B virtio-iommu-rs-am intree-base
"${GIT[@]}" am -q "$OUT"/*.patch || die "the series does not apply to $KSRC"
cpbad=0
for p in "$OUT"/*.patch; do
	r=$(cd "$L" && scripts/checkpatch.pl --strict --color=never "$p" 2>"$W/checkpatch.err") || {
		cpbad=1; printf '%s\n' "$r" >&2; }
	# spdxcheck.py needs python3-ply; without it checkpatch checks SPDX tags' presence only.
	grep -v -e '^Traceback' -e '^  File ' -e '^    from ply' -e "No module named 'ply'" \
		"$W/checkpatch.err" >&2 || true
	log "checkpatch --strict ${p##*/}: $(grep -o '^total: .* checks' <<<"$r")"
done
J=${JOBS:-2}
MK=(make -C "$L" O="$B" ARCH=x86 LLVM=1 -j"$J")
mkdir -p "$B"
"${IN[@]}" "${MK[@]}" -s rustfmtcheck >&2 && log "rustfmtcheck: clean" || die "rustfmtcheck failed"
# The selftests the kernel's way: built and installed by tools/testing/selftests/Makefile
# (O= keeps the objects out of the tree), against a lab kernel's exported headers.
KH=$(ls -td "$CACHE"/build/x86_64-????????????????/usr/include 2>/dev/null | head -n1)
if [ -d "$KH" ]; then
	"${IN[@]}" make -s -C "$L/tools/testing/selftests" TARGETS=drivers/iommu/virtio \
		O="$W/ksft-build" KHDR_INCLUDES="-isystem $KH" INSTALL_PATH="$W/ksft-install" \
		install >"$W/ksft-build.log" 2>&1 || { cat "$W/ksft-build.log" >&2; die "selftests build failed"; }
	log "selftests: built and installed in $W/ksft-install ($(grep -c . "$W/ksft-install/kselftest-list.txt") programs)"
else
	log "selftests: not built (no lab x86_64 kernel headers under $CACHE/build)"
fi
[ "${BUILD:-1}" = 1 ] || { [ $cpbad = 0 ] || die "checkpatch reported problems"; exit 0; }
CONFIG=${CONFIG:-$(ls -t "$CACHE"/build/x86_64-????????????????/.config 2>/dev/null | head -n1)}
[ -f "$CONFIG" ] || die "no .config: set CONFIG= or build the lab kernel (make kernel)"
for v in y m; do
	cp "$CONFIG" "$B/.config"
	"$L/scripts/config" --file "$B/.config" --set-val VIRTIO_IOMMU_RS "$v"
	"${IN[@]}" "${MK[@]}" -s olddefconfig
	grep -qx "CONFIG_VIRTIO_IOMMU_RS=$v" "$B/.config" || die "CONFIG_VIRTIO_IOMMU_RS=$v did not stick"
	log "building x86_64 with CONFIG_VIRTIO_IOMMU_RS=$v (log: $B/build-$v.log)"
	"${IN[@]}" "${MK[@]}" vmlinux modules >"$B/build-$v.log" 2>&1 ||
		{ tail -n 30 "$B/build-$v.log" >&2; die "build with =$v failed"; }
	warn=$(grep -E -A3 '^(warning|error)|: (warning|error):' "$B/build-$v.log" | grep -c "$D/" || true)
	[ "$warn" = 0 ] || { grep -E -A3 'warning|error' "$B/build-$v.log" >&2; die "=$v: $warn warnings in $D"; }
	[ -f "$B/$D/sys/bindings_generated.rs" ] && [ ! -e "$L/$D/sys/bindings_generated.rs" ] ||
		die "=$v: bindings_generated.rs not in the object tree only"
	if [ "$v" = y ]; then grep -q "$D/virtio_iommu_rs.ko" "$B/modules.builtin" || die "=y: not built in"
	else [ -f "$B/$D/virtio_iommu_rs.ko" ] || die "=m: no virtio_iommu_rs.ko"; fi
	log "CONFIG_VIRTIO_IOMMU_RS=$v: built, no warnings from $D"
done
[ $cpbad = 0 ] || die "checkpatch reported problems (see above)"
log "done: $(ls "$OUT"/*.patch | wc -l) patches in $OUT, checked"
