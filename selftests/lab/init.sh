#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the test guest: mount, load the IOMMU driver under test, wait for its endpoints, run
# the report and/or the selftests, power off. Settings come from /etc/viommu.env (host-made).
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmp /tmp
mkdir -p /dev/hugepages && mount -t hugetlbfs hugetlbfs /dev/hugepages 2>/dev/null
. /etc/viommu.env
export VIOMMU_DRIVER VIOMMU_ARCH VIOMMU_MODPARAMS VIOMMU_EXPECT_MSI VIOMMU_DOORBELL VIOMMU_DISK_SHA256 VIOMMU_DISK_HASH_BYTES VIOMMU_DISKS
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
	else
		echo "VIOMMU-INSMOD failed $mod"
	fi
fi
# Endpoints behind the IOMMU leave deferred probe once the driver is there.
i=0
for d in $VIOMMU_DISKS; do
	while [ ! -e /sys/block/$d ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
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
for t in $(cat /selftests/list); do
	echo "VIOMMU-TEST-BEGIN $t"
	/selftests/$t
	echo "VIOMMU-TEST-END $t rc=$?"
done
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
