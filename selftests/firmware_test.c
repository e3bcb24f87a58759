// SPDX-License-Identifier: GPL-2.0
/*
 * Which firmware described the IOMMU topology: on ACPI (x86_64 q35, arm64 booted through UEFI)
 * the ACPI VIOT table is there and no device tree node carries an iommu-map, so every fwspec the
 * endpoints have (iommu_groups_test checks they all point at the one virtio-iommu) came from
 * VIOT; on a device tree (arm64 -kernel boot) the tree's iommu-map did, and the kernel has no
 * VIOT. The firmware is the one the kernel runs on (ACPI tables in sysfs, else a device tree),
 * or VIOMMU_FIRMWARE (acpi or dt) when set: the lab says which one it booted.
 */
#include <ftw.h>

#include "kselftest_harness.h"
#include "viommu_util.h"

#define VIOT_TABLE	ACPI_TABLES_DIR "/VIOT"

static char iommu_map_path[PATH_MAX];

static int find_iommu_map(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	if (!strcmp(path + ftw->base, "iommu-map")) {
		xsnprintf(iommu_map_path, sizeof(iommu_map_path), "%s", path);
		return 1;
	}
	return 0;
}

/* Path of the first iommu-map property in the live device tree, or "" when there is none. */
static const char *dt_iommu_map(void)
{
	iommu_map_path[0] = '\0';
	if (path_exists(DT_BASE))
		nftw(DT_BASE, find_iommu_map, 16, FTW_PHYS);
	return iommu_map_path;
}

TEST(topology_source)
{
	const char *map = dt_iommu_map(), *fw = viommu_firmware();
	bool viot = path_exists(VIOT_TABLE);

	ksft_print_msg("firmware %s%s: VIOT table %s, device tree iommu-map %s\n", fw,
		       viommu_env("VIOMMU_FIRMWARE") ? " (VIOMMU_FIRMWARE)" : "",
		       viot ? "present" : "absent", map[0] ? map : "absent");
	if (!strcmp(fw, "acpi")) {
		EXPECT_TRUE(viot) TH_LOG("no %s", VIOT_TABLE);
		EXPECT_STREQ("", map) TH_LOG("a device tree describes the IOMMU too");
	} else if (!strcmp(fw, "dt")) {
		EXPECT_FALSE(viot) TH_LOG("an ACPI VIOT table is there too");
		EXPECT_STRNE("", map) TH_LOG("no iommu-map in the device tree");
	} else {
		SKIP(return, "no ACPI tables and no device tree in sysfs, VIOMMU_FIRMWARE unset");
	}
}

TEST_HARNESS_MAIN
