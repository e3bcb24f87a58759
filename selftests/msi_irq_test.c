// SPDX-License-Identifier: GPL-2.0
/*
 * MSIs of endpoints that stay with their kernel drivers, in their default (DMA) domains: the
 * virtio-blk and NVMe disks are read with O_DIRECT and the /proc/interrupts counts of their
 * MSI/MSI-X vectors must grow (their completions arrive as MSIs while their DMA is translated).
 * With the Rust driver's sw_msi=1 (read from its parameter file): every group has the software
 * MSI window in reserved_regions, and on arm64 every DMA domain with MSIs in use has the ITS
 * doorbell mapped (debugfs mappings, see msi_util.h). Those parts SKIP without sw_msi.
 *
 * The disks: VIOMMU_DISKS, else the disk found on each endpoint (disk_util.h), read only; the
 * contents are compared only with VIOMMU_DISK_SHA256. Driver and architecture: from sysfs, or
 * VIOMMU_DRIVER and VIOMMU_ARCH.
 */
#include <linux/types.h>

#include "kselftest_harness.h"
#include "viommu_util.h"
#include "vfio_util.h"
#include "sha256.h"
#include "disk_util.h"
#include "msi_util.h"

#define IO_BYTES_DEFAULT	(4ULL << 20)
#define TEST_TIMEOUT_S		300

FIXTURE(endpoint) {
	struct pci_dev_info pci;
	char disk[64];
	char type[32];
};

FIXTURE_VARIANT(endpoint) {
	const char *what;
	unsigned int vendor, device;
	const char *driver;
};

FIXTURE_VARIANT_ADD(endpoint, virtio_blk) {
	.what = "virtio-blk",
	.vendor = 0x1af4,
	.device = 0x1042,
	.driver = "virtio-pci",
};

FIXTURE_VARIANT_ADD(endpoint, nvme) {
	.what = "NVMe",
	.vendor = 0x1b36,
	.device = 0x0010,
	.driver = "nvme",
};

FIXTURE_SETUP(endpoint)
{
	char drv[64];

	if (pci_find(variant->vendor, variant->device, &self->pci))
		SKIP(return, "no %s endpoint (%04x:%04x)", variant->what, variant->vendor,
		     variant->device);
	ASSERT_NE(0, self->pci.group[0])
		TH_LOG("%s %s has no iommu_group: not behind the IOMMU", variant->what,
		       self->pci.bdf);
	ASSERT_EQ(0, pci_driver_of(self->pci.bdf, drv, sizeof(drv)));
	ASSERT_STREQ(variant->driver, drv)
		TH_LOG("%s %s is not bound to %s", variant->what, self->pci.bdf, variant->driver);
	if (!disks_named() && disk_of_pci(self->pci.bdf, self->disk, sizeof(self->disk)))
		SKIP(return, "no disk of %s %s found behind the virtio-iommu", variant->what,
		     self->pci.bdf);
	ASSERT_EQ(0, disk_of_pci(self->pci.bdf, self->disk, sizeof(self->disk)))
		TH_LOG("none of VIOMMU_DISKS='%s' sits under %s", viommu_env("VIOMMU_DISKS"),
		       self->pci.bdf);
	ASSERT_LT(0, group_type(self->pci.group, self->type, sizeof(self->type)));
	TH_LOG("%s %s (%s, iommu group %s, %s domain)", variant->what, self->pci.bdf, self->disk,
	       self->pci.group, self->type);
	if (!group_is_dma(self->pci.group))
		SKIP(return, "group %s is %s, not a DMA domain: its MSIs are not translated",
		     self->pci.group, self->type);
}

FIXTURE_TEARDOWN(endpoint)
{
}

/*
 * O_DIRECT reads of the disk (its known contents when VIOMMU_DISK_SHA256 is set) make the
 * endpoint DMA and complete requests: the counts of its MSI/MSI-X vectors must grow.
 */
TEST_F_TIMEOUT(endpoint, irqs_increase_with_io, TEST_TIMEOUT_S)
{
	static struct msi_irq before[MAX_MSI_IRQS], after[MAX_MSI_IRQS];
	const char *want = disk_sha256();
	unsigned long long bytes = disk_hash_bytes(), total = 0, size;
	char hex[2 * SHA256_DIGEST_SIZE + 1], path[PATH_MAX], buf[32];
	int i, n, n2, ret;

	if (!want)
		bytes = IO_BYTES_DEFAULT;
	/* A discovered disk may be small: read what it has, whole 4 KiB blocks. */
	xsnprintf(path, sizeof(path), "/sys/block/%s/size", self->disk);
	size = read_text(path, buf, sizeof(buf)) > 0 ? strtoull(buf, NULL, 10) * 512 : 0;
	if (!want && size && size < bytes)
		bytes = size / 4096 * 4096;
	n = pci_msi_irqs(self->pci.bdf, before, MAX_MSI_IRQS);
	ASSERT_LT(0, n) TH_LOG("%s has no MSI/MSI-X vectors allocated (%d)", self->pci.bdf, n);
	for (i = 0; i < n; i++) {
		EXPECT_TRUE(!strcmp(before[i].mode, "msi") || !strcmp(before[i].mode, "msix"))
			TH_LOG("irq %u has mode '%s'", before[i].irq, before[i].mode);
	}

	ret = hash_disk(self->disk, bytes, hex);
	ASSERT_EQ(0, ret) TH_LOG("reading %s: %s", self->disk, strerror(-ret));
	TH_LOG("read %llu bytes of %s with O_DIRECT: sha256 %s", bytes, self->disk, hex);
	/* Compared with the host's hash when there is one. */
	EXPECT_STREQ(want ?: hex, hex) TH_LOG("%s: data differs from the host's", self->disk);

	n2 = pci_msi_irqs(self->pci.bdf, after, MAX_MSI_IRQS);
	ASSERT_EQ(n, n2) TH_LOG("%s's vectors changed during the I/O", self->pci.bdf);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(before[i].irq, after[i].irq);
		ksft_print_msg("irq %u (%s) %s: %llu -> %llu (+%llu)\n", after[i].irq,
			       after[i].mode, after[i].name, before[i].count, after[i].count,
			       after[i].count - before[i].count);
		EXPECT_LE(before[i].count, after[i].count);
		total += after[i].count - before[i].count;
	}
	TH_LOG("%s %s: %llu interrupts on %d %s vectors during the reads", variant->what,
	       self->pci.bdf, total, n, before[0].mode);
	ASSERT_LT(0ULL, total) TH_LOG("no MSI of %s %s counted while reading %s", variant->what,
				      self->pci.bdf, self->disk);
}

/* sw_msi=1: the probed MSI regions are ignored, every group has the software window instead. */
TEST(sw_msi_window_in_resv_regions)
{
	char **groups, path[PATH_MAX], text[4096], *line, *save;
	int g, n, on, msi;

	if (driver_is("c"))
		SKIP(return, "the C driver has no sw_msi parameter");
	on = sw_msi_state();
	if (on < 0)
		SKIP(return, "no %s: the driver has no sw_msi parameter", SW_MSI_PARAM);
	if (!on)
		SKIP(return, "sw_msi is off (MODPARAMS=sw_msi=1): the probed MSI region stays");
	n = list_dir(IOMMU_GROUPS_DIR, &groups);
	ASSERT_LT(0, n) TH_LOG("no IOMMU groups");
	for (g = 0; g < n; g++) {
		log_resv_regions(groups[g]);
		EXPECT_TRUE(group_has_resv_line(groups[g], SW_MSI_REGION))
			TH_LOG("group %s lacks '%s'", groups[g], SW_MSI_REGION);
		xsnprintf(path, sizeof(path), "%s/%s/reserved_regions", IOMMU_GROUPS_DIR,
			  groups[g]);
		msi = 0;
		save = NULL;
		if (read_text(path, text, sizeof(text)) >= 0) {
			for (line = strtok_r(text, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save))
				msi += strlen(line) > 4 && !strcmp(line + strlen(line) - 4, " msi");
		}
		EXPECT_EQ(1, msi) TH_LOG("group %s has %d msi regions (want only the window)",
					 groups[g], msi);
	}
	free_names(groups, n);
}

/*
 * sw_msi=1 on arm64: dma-iommu maps the ITS doorbell into each DMA domain whose endpoint
 * allocates MSIs (at an IOVA of its choosing). Each such group has one default domain, so the
 * debugfs mappings must show the doorbell, writable, in at least as many distinct domains as
 * there are DMA groups with MSIs in use.
 */
TEST(dma_domains_map_doorbell)
{
	static struct msi_irq irqs[MAX_MSI_IRQS];
	char path[PATH_MAX], bad[256] = "", groups[64][32];
	unsigned long long db = msi_doorbell_page(), domains[64];
	const char *why = doorbell_skip_reason(path, sizeof(path));
	struct pci_dev_info *devs;
	struct viommu_mapping *m;
	int i, j, n, nm, ng = 0, nd = 0;

	if (why)
		SKIP(return, "%s", why);
	n = pci_list(&devs);
	ASSERT_LE(0, n);
	for (i = 0; i < n; i++) {
		int k;

		if (!devs[i].group[0] || !group_is_dma(devs[i].group))
			continue;
		k = pci_msi_irqs(devs[i].bdf, irqs, MAX_MSI_IRQS);
		if (k <= 0)
			continue;
		TH_LOG("%s (group %s, DMA domain): %d %s vectors", devs[i].bdf, devs[i].group, k,
		       irqs[0].mode);
		for (j = 0; j < ng && strcmp(groups[j], devs[i].group); j++)
			;
		if (j == ng && ng < 64)
			xsnprintf(groups[ng++], sizeof(groups[0]), "%s", devs[i].group);
	}
	free(devs);
	ASSERT_LT(0, ng) TH_LOG("no endpoint in a DMA domain has MSIs allocated");

	nm = read_mappings(path, &m, bad, sizeof(bad));
	ASSERT_LE(0, nm) TH_LOG("%s: %s %s", path, strerror(-nm), bad);
	for (i = 0; i < nm; i++) {
		if (!doorbell_mappings(&m[i], 1, -1, db, 0, ~0ULL, "  doorbell: ", NULL))
			continue;
		for (j = 0; j < nd && domains[j] != m[i].domain; j++)
			;
		if (j == nd && nd < 64)
			domains[nd++] = m[i].domain;
	}
	free(m);
	TH_LOG("doorbell 0x%llx mapped writable in %d domains; %d DMA groups use MSIs", db, nd, ng);
	ASSERT_LE(ng, nd) TH_LOG("some DMA domain whose endpoint uses MSIs lacks the doorbell");
}

TEST_HARNESS_MAIN
