// SPDX-License-Identifier: GPL-2.0
/*
 * Default domain types of an IOMMU group, switched through sysfs: the NVMe endpoint (alone in
 * its group) is unbound, its group's type is set to identity, DMA and DMA-FQ in turn, the nvme
 * driver is bound again and the disk's known contents are read back with O_DIRECT (sha256
 * against VIOMMU_DISK_SHA256): DMA works in each type. The group ends with its original type.
 *
 * Needs VIOMMU_DISK_SHA256 and VIOMMU_DISK_HASH_BYTES (the host's knowledge of the contents);
 * without them it skips before it unbinds anything. The disk: the one VIOMMU_DISKS names on the
 * NVMe function, else the one found there (disk_util.h).
 */
#include <linux/types.h>

#include "kselftest_harness.h"
#include "viommu_util.h"
#include "vfio_util.h"
#include "sha256.h"
#include "disk_util.h"

#define NVME_VENDOR		0x1b36
#define NVME_DEVICE		0x0010
#define NVME_DRIVER		"nvme"
#define DISK_WAIT_S		10.0
#define TEST_TIMEOUT_S		300

/* The group's type before any test changed it (read once, in the harness's parent process). */
static char boot_type[32];

static void __attribute__((constructor)) read_boot_type(void)
{
	struct pci_dev_info pci;

	if (!pci_find(NVME_VENDOR, NVME_DEVICE, &pci) && pci.group[0])
		group_type(pci.group, boot_type, sizeof(boot_type));
}

FIXTURE(nvme) {
	char bdf[32];
	char group[32];
	char disk[64];
	char orig_type[32];
	bool restore;		/* put the original type back in the teardown */
};

/* The NVMe disk under test (disk_util.h), "nvme0n1" when none is found. */
static void nvme_disk(const char *bdf, char *out, size_t size)
{
	char names[16][DISK_NAME_MAX];
	int i, n;

	if (!disk_of_pci(bdf, out, size))
		return;
	xsnprintf(out, size, "nvme0n1");
	n = disk_list(names, 16);
	for (i = 0; i < n; i++) {
		if (!strncmp(names[i], "nvme", 4)) {
			xsnprintf(out, size, "%s", names[i]);
			break;
		}
	}
}

/*
 * Unbinds the nvme driver, writes type to the group, checks that the group reads it back,
 * binds the driver again and waits for the disk. With check_hash, the disk's contents must
 * hash to VIOMMU_DISK_SHA256.
 */
static void switch_type(struct __test_metadata *_metadata, struct _test_data_nvme *self,
			const char *type, bool check_hash)
{
	char path[PATH_MAX], now[32], drv[64], hex[2 * SHA256_DIGEST_SIZE + 1];
	const char *want = disk_sha256();
	double t0;
	int ret;

	ret = pci_unbind(self->bdf);
	ASSERT_EQ(0, ret) TH_LOG("unbind %s: %s", self->bdf, strerror(-ret));
	xsnprintf(path, sizeof(path), "/sys/block/%s", self->disk);
	ASSERT_TRUE(wait_path(path, false, DISK_WAIT_S)) TH_LOG("%s still there after the unbind",
								self->disk);
	xsnprintf(path, sizeof(path), "%s/%s/type", IOMMU_GROUPS_DIR, self->group);
	ret = write_text(path, type);
	ASSERT_EQ(0, ret) TH_LOG("echo %s > %s: %s", type, path, strerror(-ret));
	ASSERT_LT(0, group_type(self->group, now, sizeof(now)));
	TH_LOG("group %s: wrote %s, reads %s", self->group, type, now);
	EXPECT_STREQ(type, now) TH_LOG("group %s did not become %s", self->group, type);

	ret = pci_bind(self->bdf, NVME_DRIVER);
	ASSERT_EQ(0, ret) TH_LOG("bind %s to %s: %s", self->bdf, NVME_DRIVER, strerror(-ret));
	ASSERT_EQ(0, pci_driver_of(self->bdf, drv, sizeof(drv)));
	ASSERT_STREQ(NVME_DRIVER, drv);
	t0 = now_seconds();
	xsnprintf(path, sizeof(path), "/sys/block/%s", self->disk);
	ASSERT_TRUE(wait_path(path, true, DISK_WAIT_S))
		TH_LOG("%s did not come back within %.0f s after binding %s in a %s domain",
		       self->disk, DISK_WAIT_S, NVME_DRIVER, type);
	TH_LOG("%s back after %.2f s", self->disk, now_seconds() - t0);
	if (!check_hash)
		return;
	ret = hash_disk(self->disk, disk_hash_bytes(), hex);
	ASSERT_EQ(0, ret) TH_LOG("reading %s in a %s domain: %s", self->disk, type, strerror(-ret));
	TH_LOG("%s in a %s domain: sha256 of %llu bytes %s", self->disk, type, disk_hash_bytes(),
	       hex);
	EXPECT_STREQ(want, hex) TH_LOG("%s: data read in a %s domain differs", self->disk, type);
}

FIXTURE_SETUP(nvme)
{
	struct pci_dev_info pci;
	char drv[64], type[32];
	int n;

	if (pci_find(NVME_VENDOR, NVME_DEVICE, &pci))
		SKIP(return, "no NVMe endpoint (%04x:%04x)", NVME_VENDOR, NVME_DEVICE);
	xsnprintf(self->bdf, sizeof(self->bdf), "%s", pci.bdf);
	xsnprintf(self->group, sizeof(self->group), "%s", pci.group);
	nvme_disk(self->bdf, self->disk, sizeof(self->disk));
	if (!disk_sha256())
		SKIP(return, DISK_HASH_SKIP_REASON);
	ASSERT_NE(0, self->group[0]) TH_LOG("%s has no iommu_group", self->bdf);
	n = group_device_count(self->group);
	ASSERT_LE(0, n);
	if (n != 1)
		SKIP(return, "%s shares iommu group %s with %d other devices", self->bdf,
		     self->group, n - 1);
	ASSERT_EQ(0, pci_driver_of(self->bdf, drv, sizeof(drv)));
	if (strcmp(drv, NVME_DRIVER))
		SKIP(return, "%s is bound to '%s', not %s", self->bdf, drv, NVME_DRIVER);
	if (!driver_exists(NVME_DRIVER))
		SKIP(return, "no %s driver directory", NVME_DRIVER);
	ASSERT_NE(0, boot_type[0]) TH_LOG("cannot read the type of group %s", self->group);
	xsnprintf(self->orig_type, sizeof(self->orig_type), "%s", boot_type);
	ASSERT_LT(0, group_type(self->group, type, sizeof(type)));
	TH_LOG("%s (%s) in group %s, type %s (at start: %s)", self->bdf, self->disk, self->group,
	       type, self->orig_type);
}

FIXTURE_TEARDOWN(nvme)
{
	char type[32], drv[64], path[PATH_MAX];

	/* A failed test puts the original type back too. */
	if (_metadata->exit_code)
		self->restore = true;
	if (group_type(self->group, type, sizeof(type)) < 0)
		type[0] = '\0';
	if (self->restore && strcmp(type, self->orig_type)) {
		TH_LOG("restoring group %s: %s -> %s", self->group, type, self->orig_type);
		switch_type(_metadata, self, self->orig_type, false);
		return;
	}
	if (pci_driver_of(self->bdf, drv, sizeof(drv)) || strcmp(drv, NVME_DRIVER)) {
		TH_LOG("binding %s back to %s", self->bdf, NVME_DRIVER);
		pci_unbind(self->bdf);
		EXPECT_EQ(0, pci_bind(self->bdf, NVME_DRIVER));
		xsnprintf(path, sizeof(path), "/sys/block/%s", self->disk);
		EXPECT_TRUE(wait_path(path, true, DISK_WAIT_S));
	}
}

TEST_F_TIMEOUT(nvme, identity_domain_dma, TEST_TIMEOUT_S)
{
	switch_type(_metadata, self, "identity", true);
}

TEST_F_TIMEOUT(nvme, dma_domain_dma, TEST_TIMEOUT_S)
{
	switch_type(_metadata, self, "DMA", true);
}

/*
 * From DMA to DMA-FQ with the driver unbound (the core then only adds a flush queue to the
 * existing domain): the type must read DMA-FQ (the driver offers IOMMU_CAP_DEFERRED_FLUSH) and
 * DMA must work with lazy invalidation. Last test: the original type comes back afterwards.
 */
TEST_F_TIMEOUT(nvme, dma_fq_domain_dma, TEST_TIMEOUT_S)
{
	char type[32];

	self->restore = true;
	ASSERT_LT(0, group_type(self->group, type, sizeof(type)));
	if (strcmp(type, "DMA"))
		switch_type(_metadata, self, "DMA", false);
	switch_type(_metadata, self, "DMA-FQ", true);
}

TEST_HARNESS_MAIN
