#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Human-readable state of the IOMMU in the guest, printed by 'make run'.
echo "IOMMU driver: $VIOMMU_DRIVER ($(ls /sys/class/iommu 2>/dev/null | tr '\n' ' '))"
for g in $(ls /sys/kernel/iommu_groups 2>/dev/null | sort -n); do
	gd=/sys/kernel/iommu_groups/$g
	echo "group $g: domain $(cat $gd/type 2>/dev/null)"
	for d in $gd/devices/*; do
		[ -e "$d" ] || continue
		bdf=$(basename $d)
		ven=$(cat $d/vendor 2>/dev/null); dev=$(cat $d/device 2>/dev/null)
		drv=$(basename "$(readlink $d/driver 2>/dev/null)" 2>/dev/null)
		echo "    $bdf ${ven#0x}:${dev#0x} driver=${drv:-none}"
	done
	sed 's/^/    reserved /' $gd/reserved_regions
done
for dev in /sys/bus/pci/devices/*; do
	[ -e $dev/iommu_group ] || echo "no group: $(basename $dev) $(cat $dev/vendor):$(cat $dev/device)"
done
for d in $VIOMMU_DISKS; do
	[ -e /dev/$d ] || { echo "DMA check $d: missing"; continue; }
	sum=$(head -c "$VIOMMU_DISK_HASH_BYTES" /dev/$d | sha256sum | cut -d' ' -f1)
	if [ "$sum" = "$VIOMMU_DISK_SHA256" ]; then r=match; else r="MISMATCH ($sum)"; fi
	echo "DMA check $d: sha256 of first $VIOMMU_DISK_HASH_BYTES bytes read through the IOMMU: $r"
done
for f in /sys/kernel/debug/virtio_iommu_rs-*/mappings; do
	[ -e "$f" ] || continue
	echo "$f: $(wc -l <"$f") mappings (domain, first IOVA, last IOVA, phys, flags); MMIO ones:"
	grep 'm$' "$f" | sed 's/^/    /'
done
