#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds what is missing, boots a test guest with a virtio-iommu-pci device and its endpoints,
# and runs the report (MODE=run), the selftests (MODE=test) or a shell (MODE=shell).
#
# Environment: ARCH (x86_64|arm64), DRIVER (rust|c|none), MODE, QEMU_IOMMU_OPTS (extra
# virtio-iommu-pci properties, e.g. granule=64k), MODPARAMS (driver module parameters),
# ACCEL (auto|tcg|kvm), CMDLINE (extra kernel command line), BOOT_TIMEOUT (s), KDIR (your own
# built, Rust-enabled kernel tree: skips the toolchain root and the cached kernels),
# RUST_MODULE_DIR (source of the Rust module, default: this checkout), SMP, MEM, VARIANT,
# VIRTIO_BLK_OPTS (virtio-blk-pci properties; default packed=on, set it empty for a split ring
# and QEMU's used-ring corruption: see Documentation/testing.rst), SLUB_DEBUG (slub_debug=
# flags, e.g. FZPU: stray DMA writes into freed memory then fail the run), QEMU_EXTRA (more QEMU arguments, e.g.
# "-trace virtio_iommu_map -D /tmp/trace.log"), QEMU_CPU (the -cpu model).
# FIRMWARE (arm64: dt, the default, boots -kernel with QEMU's device tree; acpi boots the same
# -kernel through UEFI, topology from VIOT).
# With MODE=test it writes "pass fail skip" to $RESULT (if set) and exits non-zero on failure.
# SUITE: default (the project's selftests, selftests/*.c) or vfio (the kernel's own VFIO selftests,
# tools/testing/selftests/vfio, against the igb at 0000:01:00.0; a boot of its own, with 4 GiB and
# hugepages), or kselftest (the project's selftests the kernel's way: placed in a copy of the
# kernel's tools/testing/selftests as drivers/iommu/virtio, built and installed with its
# Makefile, run by run_kselftest.sh without the VIOMMU_* variables). ONLY="a b": run just these
# programs of the suite. REPEAT=N: boot N times and count the failing boots and the failures
# per test.
. "$(dirname "$0")/common.sh"
ARCH=${ARCH:-x86_64}; DRIVER=${DRIVER:-rust}; MODE=${MODE:-test}; VARIANT=${VARIANT:-}
VIRTIO_BLK_OPTS=${VIRTIO_BLK_OPTS-packed=on}; SLUB_DEBUG=${SLUB_DEBUG:-}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-900}
RUST_MODULE_DIR=${RUST_MODULE_DIR:-$SRC_DIR}
SUITE=${SUITE:-default}
case $SUITE in default | vfio | kselftest) ;; *) die "unknown SUITE $SUITE (default, vfio or kselftest)" ;; esac
NAME=$ARCH${VARIANT:+-$VARIANT}
# One work dir per arch, variant, driver, suite and RUN_TAG: concurrent runs never share one.
SUITE_TAG=; [ "$SUITE" = default ] || SUITE_TAG=-$SUITE
W=$CACHE/work/$NAME-$DRIVER$SUITE_TAG${RUN_TAG:+-$RUN_TAG}
mkdir -p "$W"

case $ARCH in
x86_64)
	KARCH=x86; IMAGE=arch/x86/boot/bzImage; CROSS_CC=gcc
	BUSYBOX=/usr/bin/busybox
	QEMU=(qemu-system-x86_64 -M q35 -cpu "${QEMU_CPU:-max}" -vga none -nic none)
	CONSOLE=ttyS0
	# No interrupt remapping behind virtio-iommu on x86: VFIO needs this (documented).
	ARCH_CMDLINE="vfio_iommu_type1.allow_unsafe_interrupts=1 iommufd.allow_unsafe_interrupts=1"
	DOORBELL="0x00000000fee00000 0x00000000feefffff"
	[ "${FIRMWARE:=acpi}" = acpi ] || die "x86_64 guests boot with ACPI only (FIRMWARE=acpi)" ;;
arm64)
	KARCH=arm64; IMAGE=arch/arm64/boot/Image; CROSS_CC=aarch64-linux-gnu-gcc
	BUSYBOX=/opt/arm64/usr/bin/busybox
	# -nic none: no default virtio-net (as on q35). It is no endpoint under test, and its probe
	# (affinity under cpu_hotplug_lock, then the MSI descriptor lock) closes a lockdep cycle with
	# the ITS's MSI allocation (group mutex) and the IOMMU core's DMA setup (cpu_hotplug_lock
	# under the group mutex) that the arm64 debug kernel reports (see testing.rst).
	QEMU=(qemu-system-aarch64 -M virt,gic-version=3 -cpu "${QEMU_CPU:-max,pauth-impdef=on}" -nic none)
	CONSOLE=ttyAMA0
	# FIRMWARE=acpi: Debian's edk2 (-bios) installs QEMU's ACPI tables (VIOT, IORT, MCFG, SPCR)
	# and passes no device tree on; it still starts the -kernel Image, through its EFI stub.
	case ${FIRMWARE:=dt} in
	dt) ;;
	acpi) QEMU+=(-bios "${QEMU_EFI:-/usr/share/qemu-efi-aarch64/QEMU_EFI.fd}") ;;
	*) die "unknown FIRMWARE $FIRMWARE (dt or acpi)" ;;
	esac
	# The GICv3 ITS isolates MSIs: VFIO works without allow_unsafe_interrupts.
	ARCH_CMDLINE=
	DOORBELL="0x0000000008090000 0x000000000809ffff" ;;
*) die "unknown ARCH $ARCH (x86_64 or arm64)" ;;
esac
# The MSI window reserved_regions should show: the doorbell QEMU's PROBE reports, unless the Rust
# driver is told to ignore it (sw_msi=1: software window at 0x8000000, 1 MiB).
EXPECT_MSI="$DOORBELL msi"
if [ "$DRIVER" = rust ] && [[ " ${MODPARAMS:-} " =~ \ sw_msi=(1|y|Y|true)\  ]]; then
	EXPECT_MSI="0x0000000008000000 0x00000000080fffff msi"
fi
if [ "$SUITE" = vfio ]; then
	# vfio_pci_driver_test pins 1 GiB per fixture, and vfio_dma_mapping_test maps 2 MiB and
	# 1 GiB hugetlb pages (its hugetlb variants skip without them).
	MEM=${MEM:-4G}
	ARCH_CMDLINE+="${ARCH_CMDLINE:+ }hugepagesz=2M hugepages=8 hugepagesz=1G hugepages=1"
	# The heavy cases map 1 GiB 4 KiB at a time (262144 MAP requests) against the harness's fixed
	# 30 s limit; kmemleak's tracking of every allocation costs a good part of that under TCG.
	# Leaks are checked by the default suite (module_reload_test), not here.
	ARCH_CMDLINE+=" kmemleak=off"
fi

# --- kernel and tools ------------------------------------------------------------------------
if [ -n "${KDIR:-}" ]; then
	RUN=()
	B=$KDIR; KSRC=${KSRC:-$KDIR}
	BUSYBOX=${BUSYBOX_BIN:-$(command -v busybox)}
	[ -d "$B/usr/include" ] || make -C "$B" ARCH="$KARCH" headers_install INSTALL_HDR_PATH="$B/usr" >&2
else
	RUN=("$LAB_DIR/inroot.sh")
	KSRC=$("$LAB_DIR/ksrc.sh")
	B=$("$LAB_DIR/kernel.sh" "$ARCH" $VARIANT)
	ROOT=$("$LAB_DIR/root.sh")
	BUSYBOX=$ROOT$BUSYBOX
fi
MAKEFLAGS_K=(ARCH="$KARCH")
grep -q '^CONFIG_CC_IS_CLANG=y' "$B/.config" && MAKEFLAGS_K+=(LLVM=1)

# A granule (QEMU_IOMMU_OPTS=granule=64k) larger than the kernel's page size must be refused by
# the driver; the endpoints then leave deferred probe without an IOMMU once
# CONFIG_DRIVER_DEFERRED_PROBE_TIMEOUT has passed. Such a run checks only that (the other
# selftests need the IOMMU), and /init waits longer for the disks.
GRANULE_REFUSED=0; WAIT_SECONDS=30
granule_k=$(sed -n 's/.*\bgranule=\([0-9]*\)[kK]\b.*/\1/p' <<<"${QEMU_IOMMU_OPTS:-}")
page_shift=$(sed -n 's/^CONFIG_PAGE_SHIFT=//p' "$B/.config")
if [ -n "$granule_k" ] && [ $((granule_k << 10)) -gt $((1 << ${page_shift:-12})) ]; then
	GRANULE_REFUSED=1; WAIT_SECONDS=120
	[ "$SUITE" != default ] || ONLY=${ONLY:-granule_refusal_test}
	log "granule ${granule_k}K > page size $((1 << ${page_shift:-12} >> 10))K: expecting a refusal"
fi

# --- modules ---------------------------------------------------------------------------------
MODS=()
CKO=$B/drivers/iommu/virtio-iommu.ko
[ -f "$CKO" ] && MODS+=("$CKO:virtio_iommu.ko")
if [ "$DRIVER" = rust ]; then
	# Build in a copy, so x86_64 and arm64 objects never share a directory.
	# The copy is keyed by the sources' content: Kbuild decides by modification times, and a
	# checkout made after an older build would otherwise link that build's stale objects.
	srcs() { (cd "$1" && find . \( -name .git -o -path ./selftests -o -path ./uapi/target -o \
		-path ./uapi/fuzz -o -path ./Documentation \) -prune -o -type f \( -name '*.rs' -o \
		-name '*.c' -o -name '*.h' -o -name Makefile -o -name Kbuild -o -name Kconfig \) -print |
		grep -v -e '_generated\.rs$' -e '\.mod\.c$' -e '/\.[^/]*$' | sort); }
	SKEY=$(cd "$RUST_MODULE_DIR" && srcs . | xargs cat | sha256sum | cut -c1-16)
	M=$W/module-$SKEY
	if [ ! -d "$M" ]; then
		rm -rf "$W"/module "$W"/module-*
	fi
	mkdir -p "$M"
	# tar keeps modification times, so Kbuild rebuilds only what changed.
	mkdir -p "$M/src"
	tar -C "$RUST_MODULE_DIR" -cf - --exclude=.git --exclude=./selftests --exclude=./uapi/target \
		--exclude=./uapi/fuzz --exclude=./Documentation --exclude='*.o' --exclude='*.ko' \
		--exclude='.*.cmd' --exclude='*_generated.rs' --exclude='*.mod' --exclude='*.mod.c' \
		--exclude=modules.order --exclude=Module.symvers . | tar -C "$M/src" -xf -
	log "building the Rust module for $NAME"
	"${RUN[@]}" make -s -C "$B" M="$M/src" "${MAKEFLAGS_K[@]}" modules >&2 ||
		die "Rust module build failed"
	MODS+=("$M/src/virtio_iommu_rs.ko:virtio_iommu_rs.ko")
fi
[ "$DRIVER" != c ] || [ -f "$CKO" ] || die "no C baseline module at $CKO"

# --- selftests -------------------------------------------------------------------------------
ST=$W/selftests
mkdir -p "$ST"
TESTS=()
VFIO_BDF=0000:01:00.0 # the igb behind pcie-root-port rp1 (QEMU command line below)
if [ "$SUITE" = vfio ]; then
	# The kernel's own VFIO selftests, built statically with their own Makefile (lib.mk), output
	# in the work dir, never in the source tree. They link -luuid: the root has x86_64's
	# libuuid.a, and arm64's uuid-dev extracted under /opt/arm64 (root.sh EXTRA_DEBS). LDFLAGS
	# replaces the Makefile's own, hence -pthread again.
	VFLAGS=(ARCH="$ARCH")
	VLDFLAGS="-static -pthread"
	if [ "$ARCH" = arm64 ]; then
		VFLAGS+=(CROSS_COMPILE=aarch64-linux-gnu-)
		if [ -z "${KDIR:-}" ]; then
			VFLAGS+=(EXTRA_CFLAGS="-isystem /opt/arm64/usr/include")
			VLDFLAGS+=" -L/opt/arm64/usr/lib/aarch64-linux-gnu"
		fi
	fi
	"${RUN[@]}" make -s -C "$KSRC/tools/testing/selftests/vfio" "${VFLAGS[@]}" OUTPUT="$ST" \
		KHDR_INCLUDES="-isystem $B/usr/include" LDFLAGS="$VLDFLAGS" >&2 ||
		die "VFIO selftest build failed"
	# Not run: vfio_pci_sriov_uapi_test and vfio_pci_device_init_perf_test (they test VFs and
	# init time, not the IOMMU).
	TESTS=(vfio_pci_device_test vfio_iommufd_setup_test vfio_dma_mapping_test
		vfio_dma_mapping_mmio_test vfio_pci_driver_test)
elif [ "$SUITE" = kselftest ]; then
	# A kernel tree's selftests with ours under drivers/iommu/virtio: a tree of symlinks to
	# KSRC's tools/testing/selftests (KSRC is never written) with a real copy of selftests/ at
	# that place, its kselftest.config as "config". Built, statically, and installed by the
	# selftests' own Makefile, as "make -C tools/testing/selftests TARGETS=... install" would.
	KT=$W/ktree KD=tools/testing/selftests/drivers/iommu/virtio
	rm -rf "$KT" "$ST"
	mkdir -p "$KT/tools/testing"
	ln -s "$KSRC/scripts" "$KT/scripts"
	cp -rs "$KSRC/tools/testing/selftests" "$KT/tools/testing/"
	mkdir -p "$KT/$KD"
	cp "$SRC_DIR"/selftests/{*.c,*.h,Makefile,settings} "$KT/$KD/"
	cp "$SRC_DIR/selftests/kselftest.config" "$KT/$KD/config"
	KFLAGS=(ARCH="$ARCH")
	[ "$ARCH" = arm64 ] && KFLAGS+=(CROSS_COMPILE=aarch64-linux-gnu-)
	"${RUN[@]}" make -s -C "$KT/tools/testing/selftests" "${KFLAGS[@]}" \
		TARGETS=drivers/iommu/virtio KHDR_INCLUDES="-isystem $B/usr/include" \
		USERLDFLAGS=-static INSTALL_PATH="$ST" install >&2 || die "kselftest build failed"
	TESTS=(run_kselftest.sh)
	[ -z "${ONLY:-}" ] || die "SUITE=kselftest runs the whole collection (no ONLY=)"
elif [ -f "$SRC_DIR/selftests/Makefile" ]; then
	"${RUN[@]}" make -s -C "$SRC_DIR/selftests" OUTPUT="$ST" CC="$CROSS_CC" \
		KSFT_DIR="$KSRC/tools/testing/selftests" KHDR_INCLUDES="-isystem $B/usr/include" >&2 ||
		die "selftest build failed"
	mapfile -t TESTS < <(make -s --no-print-directory -C "$SRC_DIR/selftests" list)
fi
# ONLY="a b" (or "a,b"): run just these selftests; "prog:t1+t2" runs only tests t1 and t2 of
# prog (the harness's -t).
ARGS=()
if [ -n "${ONLY:-}" ]; then
	declare -A only_args=()
	for o in ${ONLY//,/ }; do
		a=
		if [[ $o == *:* ]]; then
			for x in ${o#*:}; do a+=" -t $x"; done
			a=${a//+/ -t }
		fi
		only_args[${o%%:*}]=$a
	done
	sel=()
	for t in "${TESTS[@]}"; do
		[ -z "${only_args[$t]+x}" ] || { sel+=("$t"); ARGS+=("${only_args[$t]}"); }
	done
	TESTS=("${sel[@]}")
fi

# --- disks with known content ----------------------------------------------------------------
# DISK_HASH_MB: how much of each disk the DMA tests hash (16 MiB; 2 MiB on debug kernels, whose
# KASAN-checked I/O under TCG is an order of magnitude slower).
case ${VARIANT:-} in *debug*) DISK_HASH_MB=${DISK_HASH_MB:-2} ;; esac
HASH_BYTES=$((${DISK_HASH_MB:-16} << 20))
head -c "$HASH_BYTES" /dev/urandom >"$W/disk0.img"
truncate -s $((32 << 20)) "$W/disk0.img"
cp "$W/disk0.img" "$W/disk1.img"
DISK_SHA=$(head -c "$HASH_BYTES" "$W/disk0.img" | sha256sum | cut -d' ' -f1)

# --- initramfs -------------------------------------------------------------------------------
I=$W/initramfs
rm -rf "$I"; mkdir -p "$I"/{bin,sbin,etc,proc,sys,dev,tmp,lib/modules,selftests}
cp "$BUSYBOX" "$I/bin/busybox"
for a in sh ash mount umount insmod rmmod lsmod modprobe poweroff reboot cat echo ls sleep dmesg \
	grep egrep sed awk sha256sum dd mkdir rmdir ln find readlink basename dirname uname head \
	tail sync timeout setsid cttyhack env printf tr cut wc true false test [ seq xargs hexdump \
	od chmod rm cp mv kill ps date stty tee mknod sort uniq diff expr which vi less more; do
	ln -s busybox "$I/bin/$a"
done
cp "$LAB_DIR/init.sh" "$I/init"; cp "$LAB_DIR/report.sh" "$I/report.sh"; chmod +x "$I/init"
for m in "${MODS[@]}"; do cp "${m%%:*}" "$I/lib/modules/${m##*:}"; done
if [ "$SUITE" = kselftest ]; then
	cp -a "$ST" "$I/kselftest"
else
	for t in "${TESTS[@]}"; do cp "$ST/$t" "$I/selftests/$t"; done
fi
: >"$I/selftests/list"
for i in "${!TESTS[@]}"; do echo "${TESTS[i]}${ARGS[i]:-}" >>"$I/selftests/list"; done
cat >"$I/etc/viommu.env" <<ENV
VIOMMU_MODE='$MODE'
VIOMMU_DRIVER='$DRIVER'
VIOMMU_ARCH='$ARCH'
VIOMMU_MODPARAMS='${MODPARAMS:-}'
VIOMMU_EXPECT_MSI='$EXPECT_MSI'
VIOMMU_DOORBELL='$DOORBELL'
VIOMMU_DISK_SHA256='$DISK_SHA'
VIOMMU_DISK_HASH_BYTES='$HASH_BYTES'
VIOMMU_DISKS='vda nvme0n1'
VIOMMU_FIRMWARE='$FIRMWARE'
VIOMMU_GRANULE_REFUSED='$GRANULE_REFUSED'
VIOMMU_WAIT_SECONDS='$WAIT_SECONDS'
VIOMMU_SUITE='$SUITE'
VIOMMU_VFIO_BDF='$VFIO_BDF'
ENV
mkcpio() { # mkcpio DIR OUT: cpio and gzip from the toolchain root (or the host with KDIR)
	"${RUN[@]}" sh -c 'cd "$1" && find . | cpio -o -H newc --quiet | gzip -1 >"$2"' mkcpio "$1" "$2"
}
mkcpio "$I" "$W/initramfs.cpio.gz"

# --- QEMU ------------------------------------------------------------------------------------
QEMU+=(-m "${MEM:-2G}" -smp "${SMP:-2}" -no-reboot -display none
	-kernel "$B/$IMAGE" -initrd "$W/initramfs.cpio.gz"
	-append "console=$CONSOLE panic=-1 $ARCH_CMDLINE${SLUB_DEBUG:+ slub_debug=$SLUB_DEBUG} ${CMDLINE:-}"
	-device "virtio-iommu-pci${QEMU_IOMMU_OPTS:+,$QEMU_IOMMU_OPTS}"
	-drive "file=$W/disk0.img,if=none,id=disk0,format=raw"
	-device virtio-blk-pci,drive=disk0,iommu_platform=on,disable-legacy=on${VIRTIO_BLK_OPTS:+,$VIRTIO_BLK_OPTS}
	-drive "file=$W/disk1.img,if=none,id=disk1,format=raw"
	-device nvme,drive=disk1,serial=viommu1
	-device edu
	-device pcie-root-port,id=rp1,chassis=1,slot=1 -device igb,bus=rp1)
# shellcheck disable=SC2206 # word splitting wanted
[ -n "${QEMU_EXTRA:-}" ] && QEMU+=($QEMU_EXTRA)

accel() {
	case ${ACCEL:-auto} in
	tcg | kvm) echo "$ACCEL"; return ;;
	esac
	if [ "$ARCH" != "$(uname -m)" ] || [ ! -w /dev/kvm ]; then echo tcg; return; fi
	# /dev/kvm may exist and still not boot a guest (nested KVM): probe once per host kernel.
	local f=$CACHE/accel-$(uname -r)
	if [ ! -f "$f" ]; then
		sed -i "s/^VIOMMU_MODE=.*/VIOMMU_MODE='probe'/" "$I/etc/viommu.env"
		mkcpio "$I" "$W/probe.cpio.gz"
		if timeout 60 "${RUN[@]}" "${QEMU[@]/$W\/initramfs.cpio.gz/$W/probe.cpio.gz}" \
			-accel kvm -serial stdio </dev/null 2>/dev/null | grep -q VIOMMU-BOOT; then
			echo kvm >"$f"
		else
			echo tcg >"$f"
		fi
		log "KVM probe: $(cat "$f")"
	fi
	cat "$f"
}
A=$(accel)
if [[ " ${QEMU_EXTRA:-} " == *" -accel "* ]]; then
	: # QEMU_EXTRA chose the accelerator (e.g. make bench: single-threaded TCG with -icount)
elif [ "$A" = tcg ]; then
	QEMU+=(-accel tcg,thread=multi)
else
	QEMU+=(-accel kvm)
fi
LOG=$W/console.log
log "booting $NAME with DRIVER=$DRIVER FIRMWARE=$FIRMWARE${QEMU_IOMMU_OPTS:+ ($QEMU_IOMMU_OPTS)}" \
	"(${A}; console log: $LOG)"
if [ "$MODE" = shell ]; then
	exec "${RUN[@]}" "${QEMU[@]}" -serial mon:stdio
fi
# A guest kernel that has not reached /init after EARLY_TIMEOUT seconds is stuck in early boot
# (seen about once in 40 SMP TCG boots, before any IOMMU driver is loaded: TCG, not the driver
# under test): it is killed and booted once more, and the run says so. A guest that reached
# /init is never retried.
EARLY_TIMEOUT=${EARLY_TIMEOUT:-240}
boot() { # boot LOG: one guest run, its console in LOG
	local qrc try qpid waited
	for try in 1 2; do
		set +e
		timeout --foreground "$BOOT_TIMEOUT" "${RUN[@]}" "${QEMU[@]}" -serial stdio \
			-monitor none </dev/null >"$1" 2>&1 &
		qpid=$!
		waited=0
		while kill -0 $qpid 2>/dev/null && ! grep -q '^VIOMMU-BOOT ok' "$1"; do
			if [ $waited -ge "$EARLY_TIMEOUT" ]; then
				kill $qpid 2>/dev/null
				break
			fi
			sleep 1
			waited=$((waited + 1))
		done
		wait $qpid
		qrc=$?
		set -e
		[ $qrc != 124 ] || log "guest timed out after ${BOOT_TIMEOUT}s"
		if grep -q '^VIOMMU-BOOT ok' "$1" || [ $try = 2 ]; then
			break
		fi
		cp "$1" "$1.early-hang"
		log "guest did not reach /init in ${EARLY_TIMEOUT}s (console: $1.early-hang): booting again"
		echo "# lab: boot retried: the guest kernel hung before /init (console: $1.early-hang)"
	done
}

# --- results ---------------------------------------------------------------------------------
LABEL=$NAME/$DRIVER${SUITE_TAG/-//}
[ "$ARCH" = x86_64 ] || [ "$FIRMWARE" = dt ] || LABEL+=/$FIRMWARE
LABEL+=${QEMU_IOMMU_OPTS:+/$QEMU_IOMMU_OPTS}
REPEAT=${REPEAT:-1}
if [ "$REPEAT" -le 1 ]; then
	boot "$LOG"
	exec "${RUN[@]}" python3 "$LAB_DIR/tap.py" "$LOG" "$MODE" "$LABEL" "${RESULT:-}"
fi
# REPEAT=N: the same guest booted N times (races hide in boot order and timing). Each boot is
# one result (passed when its run is clean); the failures are counted per test, and the console
# of every failing boot is kept.
good=0; bad=0; t0=$(date +%s)
: >"$W/repeat.failures"
rm -f "$W"/console-boot*.log
for ((r = 1; r <= REPEAT; r++)); do
	boot "$LOG"
	if "${RUN[@]}" python3 "$LAB_DIR/tap.py" "$LOG" test "$LABEL boot $r/$REPEAT" >"$W/repeat.tap" 2>&1; then
		good=$((good + 1))
	else
		bad=$((bad + 1))
		cp "$LOG" "$W/console-boot$r.log"
		sed -n 's/^#   failed: //p' "$W/repeat.tap" | sed "s/^/boot $r: /" >>"$W/repeat.failures"
		echo "not ok - $LABEL boot $r/$REPEAT (console: $W/console-boot$r.log)"
	fi
done
echo "# $LABEL: $REPEAT boots in $(($(date +%s) - t0)) s, $bad failing"
if [ -s "$W/repeat.failures" ]; then
	echo "# failures per test (boots):"
	sed 's/^boot [0-9]*: //; s/ at console line [0-9]*//' "$W/repeat.failures" | sort | uniq -c | sed 's/^/#   /'
	sed 's/^/#   /' "$W/repeat.failures"
fi
echo "# $LABEL: $good passed, $bad failed, 0 skipped"
[ -z "${RESULT:-}" ] || echo "$good $bad 0" >"$RESULT"
[ "$bad" = 0 ]
