// SPDX-License-Identifier: GPL-2.0
/*
 * A virtio-iommu whose granule (smallest page size in page_size_mask) is larger than the kernel's
 * PAGE_SIZE, e.g. QEMU's granule=64k under a 4K-page kernel, cannot translate the kernel's pages.
 * The driver must refuse the device with a clear message and register no IOMMU; the endpoints
 * must stay usable: they wait in deferred probe until CONFIG_DRIVER_DEFERRED_PROBE_TIMEOUT, then
 * probe without an IOMMU and, with QEMU's boot-bypass (default on), do DMA untranslated.
 *
 * With VIOMMU_GRANULE_REFUSED=1 (set by the lab's runner when the granule exceeds the page
 * size) the tests check the refusal; with 0 the opposite: no refusal message and the IOMMU
 * registered. Unset (only the host knows the device's granule), a driver bound to the
 * virtio-iommu has accepted the device as far as registration goes, so iommu_registration still
 * checks one IOMMU of it; refusal_message skips. disks_usable needs VIOMMU_DISK_SHA256.
 */
#include "kselftest_harness.h"
#include "viommu_util.h"
#include "disk_util.h"

/* The driver's words, same in the Rust and the C driver. */
#define REFUSAL_MSG	"larger than system page size"

static bool refusal_expected(void)
{
	return env_is("VIOMMU_GRANULE_REFUSED", "1");
}

/* Whether the lab said if a refusal is expected. */
static bool refusal_known(void)
{
	return !!viommu_env("VIOMMU_GRANULE_REFUSED");
}

static bool no_driver(void)
{
	return driver_is("none");
}

/*
 * Finds the first kernel log record containing @needle: reads /dev/kmsg from the start without
 * blocking (one record per read). Returns 1 (record text in @line), 0, or -errno.
 */
static int kmsg_find(const char *needle, char *line, size_t size)
{
	char rec[8192];
	int fd, found = 0;
	ssize_t n;

	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0) {
			if (errno == EPIPE)	/* overwritten records: go on with the next */
				continue;
			break;			/* EAGAIN: end of the log */
		}
		rec[n] = '\0';
		if (strstr(rec, needle)) {
			char *text = strchr(rec, ';');

			xsnprintf(line, size, "%s", text ? text + 1 : rec);
			line[strcspn(line, "\n")] = '\0';
			found = 1;
			break;
		}
	}
	close(fd);
	return found;
}

/* Realpath of the virtio-iommu's transport (its PCI function), or -ENOENT. */
static int viommu_pci_dir(char *out)
{
	struct viommu_info v;
	int ret = viommu_find(&v);

	if (ret)
		return ret;
	xsnprintf(out, PATH_MAX, "%s", v.transport);
	return 0;
}

/* Number of /sys/class/iommu entries whose device sits under the virtio-iommu PCI function. */
static int count_our_iommus(const char *viommu_dir)
{
	char path[PATH_MAX], real[PATH_MAX], **names;
	int i, n, ours = 0;

	n = list_dir(IOMMU_CLASS_DIR, &names);
	if (n < 0)
		return n == -ENOENT ? 0 : n;
	for (i = 0; i < n; i++) {
		xsnprintf(path, sizeof(path), "%s/%s/device", IOMMU_CLASS_DIR, names[i]);
		if (realpath(path, real) && path_below(real, viommu_dir))
			ours++;
	}
	free_names(names, n);
	return ours;
}

TEST(refusal_message)
{
	char line[1024];
	int ret;

	if (no_driver())
		SKIP(return, "no driver bound to the virtio-iommu (VIOMMU_DRIVER=none)");
	if (!refusal_known())
		SKIP(return,
		     "VIOMMU_GRANULE_REFUSED unset: only the host knows if the granule exceeds PAGE_SIZE");
	ret = kmsg_find(REFUSAL_MSG, line, sizeof(line));
	ASSERT_LE(0, ret) TH_LOG("cannot read /dev/kmsg: %s", strerror(-ret));
	if (refusal_expected()) {
		ASSERT_EQ(1, ret) TH_LOG("no \"granule ... %s\" in the kernel log", REFUSAL_MSG);
		ksft_print_msg("refusal: %s\n", line);
		EXPECT_NE(NULL, strstr(line, "granule 0x"));
	} else {
		EXPECT_EQ(0, ret) TH_LOG("unexpected refusal: %s", line);
	}
}

TEST(iommu_registration)
{
	char dir[PATH_MAX];
	int ret, ours;

	if (no_driver())
		SKIP(return, "no driver bound to the virtio-iommu (VIOMMU_DRIVER=none)");
	ret = viommu_pci_dir(dir);
	ASSERT_EQ(0, ret) TH_LOG("no virtio-iommu PCI function: %s", strerror(-ret));
	ours = count_our_iommus(dir);
	ASSERT_LE(0, ours) TH_LOG("cannot list %s: %s", IOMMU_CLASS_DIR, strerror(-ours));
	if (refusal_expected() && driver_is("c"))
		SKIP(return, "%s (%d): %s", "the C driver registers its IOMMU", ours,
		     "it refuses each domain instead; the endpoints lose their groups, run untranslated");
	/* A refused device registers none, an accepted one exactly one. */
	EXPECT_EQ(refusal_expected() ? 0 : 1, ours)
		TH_LOG("%d IOMMUs of %s registered%s", ours, dir,
		       refusal_expected() ? " despite the refusal" : "");
}

/* Every disk is there and reads back the known content; after a refusal, without an IOMMU. */
TEST(disks_usable)
{
	const char *want = disk_sha256();
	char disks[16][DISK_NAME_MAX];
	int i, n, checked = 0;

	if (!want || !disks_named())
		SKIP(return, "VIOMMU_DISKS unset or " DISK_HASH_SKIP_REASON);
	n = disk_list(disks, 16);
	for (i = 0; i < n; i++) {
		char pci[PATH_MAX], link[PATH_MAX], hex[SHA256_HEX_LEN + 1];
		const char *disk = disks[i];
		int ret;

		ret = disk_pci_function(disk, pci, sizeof(pci));
		EXPECT_EQ(0, ret) TH_LOG("%s: no block device or PCI function: %s", disk,
					 strerror(-ret));
		if (ret)
			continue;
		xsnprintf(link, sizeof(link), "%s/iommu_group", pci);
		if (refusal_expected()) {
			EXPECT_FALSE(path_exists(link))
				TH_LOG("%s (%s) is in an IOMMU group after the refusal", disk, pci);
		}
		ret = hash_disk(disk, disk_hash_bytes(), hex);
		EXPECT_EQ(0, ret) TH_LOG("%s: read failed: %s", disk, strerror(-ret));
		if (ret)
			continue;
		EXPECT_STREQ(want, hex) TH_LOG("%s: wrong content", disk);
		ksft_print_msg("%s (%s): sha256 %s%s\n", disk, strrchr(pci, '/') + 1,
			       strcmp(want, hex) ? "MISMATCH" : "ok",
			       path_exists(link) ? "" : ", no IOMMU group");
		checked++;
	}
	EXPECT_LT(0, checked);
}

TEST_HARNESS_MAIN
