#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the test guest: mount, load the IOMMU driver under test, wait for its endpoints, run
# the report and/or the selftests, power off. Settings come from /etc/viommu.env (host-made).
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
# What udev would add: kselftest's runner writes to /dev/stdout (devtmpfs has no such link, and
# the runner would create a plain file there).
for f in 0:stdin 1:stdout 2:stderr; do ln -sf /proc/self/fd/${f%%:*} /dev/${f#*:}; done
ln -sfn /proc/self/fd /dev/fd
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmp /tmp
mkdir -p /dev/hugepages && mount -t hugetlbfs hugetlbfs /dev/hugepages 2>/dev/null
. /etc/viommu.env
# SUITE=kselftest: the selftests run as in any guest, finding everything in sysfs; /init itself
# still uses the settings (which driver to load, which disks to wait for).
if [ "$VIOMMU_SUITE" != kselftest ]; then
	export VIOMMU_DRIVER VIOMMU_ARCH VIOMMU_MODPARAMS VIOMMU_EXPECT_MSI VIOMMU_DOORBELL
	export VIOMMU_DISK_SHA256 VIOMMU_DISK_HASH_BYTES VIOMMU_DISKS VIOMMU_FIRMWARE
	export VIOMMU_GRANULE_REFUSED
fi
echo "VIOMMU-BOOT ok"
[ "$VIOMMU_MODE" = probe ] && poweroff -f

mod=
case $VIOMMU_DRIVER in
c) mod=virtio_iommu ;;
rust) mod=virtio_iommu_rs ;;
esac
if [ -n "$mod" ]; then
	if insmod /lib/modules/$mod.ko $VIOMMU_MODPARAMS; then
		echo "VIOMMU-INSMOD ok $mod"
		# Where the module's code sits (make profile symbolizes guest addresses with it).
		echo "VIOMMU-MODULE-TEXT $mod $(cat /sys/module/$mod/sections/.text 2>/dev/null)"
	else
		echo "VIOMMU-INSMOD failed $mod"
	fi
fi
# Endpoints behind the IOMMU leave deferred probe once the driver is there (or, when the driver
# refuses the device, once the deferred probe timeout has passed: VIOMMU_WAIT_SECONDS).
i=0; n=$((${VIOMMU_WAIT_SECONDS:-30} * 10))
for d in $VIOMMU_DISKS; do
	while [ ! -e /sys/block/$d ] && [ $i -lt $n ]; do sleep 0.1; i=$((i + 1)); done
	[ -e /sys/block/$d ] || echo "VIOMMU-WAIT missing $d"
done

if [ "$VIOMMU_MODE" = shell ]; then
	echo "Guest shell; 'poweroff -f' to leave."
	setsid cttyhack sh
	poweroff -f
fi
if [ "$VIOMMU_MODE" = run ]; then
	echo "VIOMMU-REPORT-BEGIN"
	sh /report.sh
	echo "VIOMMU-REPORT-END"
fi
# vfio_bind BDF: hand a PCI device to vfio-pci through sysfs (driver_override, then a reprobe),
# once the IOMMU driver has given it a group.
vfio_bind() {
	d=/sys/bus/pci/devices/$1
	i=0
	while [ ! -e $d/iommu_group ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	echo vfio-pci >$d/driver_override
	[ -e $d/driver ] && echo "$1" >$d/driver/unbind
	echo "$1" >/sys/bus/pci/drivers_probe
	drv=$(basename "$(readlink $d/driver)" 2>/dev/null)
	if [ "$drv" = vfio-pci ]; then
		echo "VIOMMU-VFIO-BIND ok $1 iommu_group $(basename "$(readlink $d/iommu_group)")"
	else
		echo "VIOMMU-VFIO-BIND failed $1 (driver: ${drv:-none})"
	fi
}
# vfio_busy: is a process of an earlier VFIO selftest program still alive (zombies hold no file)?
vfio_busy() {
	for p in /proc/[0-9]*; do
		case $(cat $p/comm 2>/dev/null) in vfio_*) ;; *) continue ;; esac
		grep -q '^State:[[:space:]]*Z' $p/status 2>/dev/null || return 0
	done
	return 1
}
# vfio_cases PROG: "fixture.variant.test" (or "fixture.test") of every case of a kselftest
# harness program, from its -l table: fixture names start in column 1, variants before column 48,
# tests from column 48 on (the table pads to 20 and 25 characters; long names only push the rest
# of their own line to the right). Empty when the program cannot list (then it runs whole).
vfio_cases() {
	"$1" -l 2>&1 >/dev/null | awk '
	function flush(  i, j) {
		for (j = 1; j <= nt; j++) {
			if (!nv) print f "." t[j]
			for (i = 1; i <= nv; i++) print f "." v[i] "." t[j]
		}
		nv = nt = 0
	}
	/^# FIXTURE/ { table = 1; next }
	!table || /^----/ { next }
	{
		rest = $0; col = 1
		while (match(rest, /[^ ]+/)) {
			w = substr(rest, RSTART, RLENGTH); at = col + RSTART - 1
			if (at == 1) { flush(); f = w } else if (at < 48) v[++nv] = w; else t[++nt] = w
			col = at + RLENGTH; rest = substr(rest, RSTART + RLENGTH)
		}
	}
	END { flush() }'
}
if [ "$VIOMMU_SUITE" = vfio ]; then
	vfio_bind "$VIOMMU_VFIO_BDF"
	# The kernel's VFIO selftests take the device from here (lib/libvfio.c).
	export VFIO_SELFTESTS_BDF=$VIOMMU_VFIO_BDF
fi
# vfio_wait: a case the harness killed at its (fixed, 30 s) timeout can still be in the kernel
# with the device open; the next case would then only get EBUSY. Let it finish first.
vfio_wait() {
	i=0
	while vfio_busy && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
	[ $i = 0 ] || echo "VIOMMU-VFIO-WAIT $((i / 10)) s for an earlier test process to exit"
}
# run_case NAME CMD...: one TAP stream between markers. VFIO output is captured, then printed in
# one go: QEMU writes its own messages (e.g. "no mapping" for the unmapped-IOVA cases) into the
# same log, byte by byte between the guest's serial output, and kernel messages share the
# console; either could split a TAP line while the test runs.
run_case() {
	name=$1; shift
	echo "VIOMMU-TEST-BEGIN $name"
	if [ "$VIOMMU_SUITE" = vfio ]; then
		t0=$(date +%s)
		"$@" >/tmp/case.out 2>&1
		rc=$?
		cat /tmp/case.out
		# The harness kills a case after 30 s: the margin is worth seeing.
		echo "# $name: $(($(date +%s) - t0)) s"
	else
		"$@"
		rc=$?
	fi
	echo "VIOMMU-TEST-END $name rc=$rc"
}
# Each line of the list: a program and, optionally, harness arguments (-t TEST ...).
if [ "$VIOMMU_SUITE" = kselftest ]; then
	# The kernel's runner, as installed by "make -C tools/testing/selftests install".
	echo "# kselftest: VIOMMU_* in the environment: $(env | grep -c '^VIOMMU_')"
	run_case run_kselftest.sh /kselftest/run_kselftest.sh
	: >/selftests/list
fi
exec 3</selftests/list
while read -r t args <&3; do
	if [ "$VIOMMU_SUITE" != vfio ]; then
		# shellcheck disable=SC2086 # the arguments are words
		run_case "$t" /selftests/$t $args
		continue
	fi
	# One process per case, so that a case killed at the harness's timeout costs itself only,
	# not the cases after it in the same program.
	cases=$(vfio_cases /selftests/$t)
	[ -n "$cases" ] || cases=ALL
	for c in $cases; do
		vfio_wait
		if [ "$c" = ALL ]; then
			run_case "$t" /selftests/$t
		else
			run_case "$t:$c" /selftests/$t -r "$c"
		fi
	done
done
exec 3<&-
echo "VIOMMU-DMESG-BEGIN"
dmesg | grep -iE 'iommu|viommu|vfio|dma|BUG|WARNING|Oops|leak|panic|call trace' | grep -v 'VIOMMU-' | tail -n 200
echo "VIOMMU-DMESG-END"
if [ -e /sys/kernel/debug/kmemleak ] && [ -n "$mod" ]; then
	echo scan >/sys/kernel/debug/kmemleak 2>/dev/null
	n=$(grep -c '^unreferenced object' /sys/kernel/debug/kmemleak 2>/dev/null)
	echo "VIOMMU-KMEMLEAK ${n:-0}"
fi
echo "VIOMMU-DONE"
poweroff -f
