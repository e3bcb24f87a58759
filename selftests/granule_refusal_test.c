// SPDX-License-Identifier: GPL-2.0
/*
 * A virtio-iommu whose granule (smallest page size in page_size_mask) is larger than the kernel's
 * PAGE_SIZE, e.g. QEMU's granule=64k under a 4K-page kernel, cannot translate the kernel's pages.
 * The driver must refuse the device with a clear message and register no IOMMU; the endpoints
 * must stay usable: they wait in deferred probe until CONFIG_DRIVER_DEFERRED_PROBE_TIMEOUT, then
 * probe without an IOMMU and, with QEMU's boot-bypass (default on), do DMA untranslated.
 *
 * With VIOMMU_GRANULE_REFUSED=1 (set by the runner when the granule exceeds the page size) the
 * tests check the refusal; otherwise the opposite: no refusal message and the IOMMU registered.
 *
 * Environment (set by the runner's /init): VIOMMU_GRANULE_REFUSED, VIOMMU_DRIVER, VIOMMU_DISKS,
 * VIOMMU_DISK_SHA256, VIOMMU_DISK_HASH_BYTES.
 */
#include "kselftest_harness.h"
#include "viommu_util.h"
#include "disk_util.h"

/* The driver's words, same in the Rust and the C driver. */
#define REFUSAL_MSG	"larger than system page size"

static bool refusal_expected(void)
{
	const char *s = getenv("VIOMMU_GRANULE_REFUSED");

	return s && !strcmp(s, "1");
}

static bool no_driver(void)
{
	const char *s = getenv("VIOMMU_DRIVER");

	return s && !strcmp(s, "none");
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

/* Realpath of the virtio-iommu PCI function, or -ENOENT. */
static int viommu_pci_dir(char *out)
{
	struct pci_dev_info info;
	int ret = pci_find(VIRTIO_IOMMU_VENDOR, VIRTIO_IOMMU_DEVICE, &info);

	if (ret)
		return ret;
	return realpath(info.dir, out) ? 0 : -errno;
}

/* Number of /sys/class/iommu entries whose device sits under the virtio-iommu PCI function. */
static int count_our_iommus(const char *viommu_dir)
{
	char path[PATH_MAX], real[PATH_MAX], **names;
	size_t len = strlen(viommu_dir);
	int i, n, ours = 0;

	n = list_dir(IOMMU_CLASS_DIR, &names);
	if (n < 0)
		return n == -ENOENT ? 0 : n;
	for (i = 0; i < n; i++) {
		xsnprintf(path, sizeof(path), "%s/%s/device", IOMMU_CLASS_DIR, names[i]);
		if (realpath(path, real) && !strncmp(real, viommu_dir, len) &&
		    (real[len] == '/' || real[len] == '\0'))
			ours++;
	}
	free_names(names, n);
	return ours;
}

/* The PCI function a block device sits on: the nearest sysfs ancestor with "config" and "class". */
static int disk_pci_dir(const char *disk, char *out, size_t size)
{
	char real[PATH_MAX], probe[PATH_MAX], *slash;

	xsnprintf(probe, sizeof(probe), "/sys/block/%s", disk);
	if (!realpath(probe, real))
		return -errno;
	while ((slash = strrchr(real, '/')) && slash != real) {
		*slash = '\0';
		char class[PATH_MAX];

		xsnprintf(probe, sizeof(probe), "%s/config", real);
		xsnprintf(class, sizeof(class), "%s/class", real);
		if (path_exists(probe) && path_exists(class)) {
			xsnprintf(out, size, "%s", real);
			return 0;
		}
	}
	return -ENOENT;
}

TEST(refusal_message)
{
	char line[1024];
	int ret;

	if (no_driver())
		SKIP(return, "no IOMMU driver loaded (DRIVER=none)");
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
		SKIP(return, "no IOMMU driver loaded (DRIVER=none)");
	ret = viommu_pci_dir(dir);
	ASSERT_EQ(0, ret) TH_LOG("no virtio-iommu PCI function: %s", strerror(-ret));
	ours = count_our_iommus(dir);
	ASSERT_LE(0, ours) TH_LOG("cannot list %s: %s", IOMMU_CLASS_DIR, strerror(-ours));
	if (refusal_expected() && getenv("VIOMMU_DRIVER") && !strcmp(getenv("VIOMMU_DRIVER"), "c"))
		SKIP(return, "%s (%d): %s", "the C driver registers its IOMMU", ours,
		     "it refuses each domain instead; the endpoints lose their groups, run untranslated");
	if (refusal_expected()) {
		EXPECT_EQ(0, ours) TH_LOG("an IOMMU of %s is registered despite the refusal", dir);
	} else {
		EXPECT_EQ(1, ours) TH_LOG("no IOMMU of %s registered", dir);
	}
}

/* Every disk is there and reads back the known content; after a refusal, without an IOMMU. */
TEST(disks_usable)
{
	const char *want = getenv("VIOMMU_DISK_SHA256"), *env = getenv("VIOMMU_DISKS");
	const char *bytes_s = getenv("VIOMMU_DISK_HASH_BYTES");
	char *copy, *disk, *save = NULL;
	int checked = 0;

	if (!want || !env || !bytes_s)
		SKIP(return, "VIOMMU_DISKS / VIOMMU_DISK_SHA256 / VIOMMU_DISK_HASH_BYTES not set");
	copy = strdup(env);
	ASSERT_NE(NULL, copy);
	for (disk = strtok_r(copy, " \t,", &save); disk; disk = strtok_r(NULL, " \t,", &save)) {
		char pci[PATH_MAX], link[PATH_MAX], hex[2 * SHA256_DIGEST_SIZE + 1];
		int ret;

		ret = disk_pci_dir(disk, pci, sizeof(pci));
		EXPECT_EQ(0, ret) TH_LOG("%s: no block device or PCI function: %s", disk,
					 strerror(-ret));
		if (ret)
			continue;
		xsnprintf(link, sizeof(link), "%s/iommu_group", pci);
		if (refusal_expected()) {
			EXPECT_FALSE(path_exists(link))
				TH_LOG("%s (%s) is in an IOMMU group after the refusal", disk, pci);
		}
		ret = hash_disk(disk, strtoull(bytes_s, NULL, 10), hex);
		EXPECT_EQ(0, ret) TH_LOG("%s: read failed: %s", disk, strerror(-ret));
		if (ret)
			continue;
		EXPECT_STREQ(want, hex) TH_LOG("%s: wrong content", disk);
		ksft_print_msg("%s (%s): sha256 %s%s\n", disk, strrchr(pci, '/') + 1,
			       strcmp(want, hex) ? "MISMATCH" : "ok",
			       path_exists(link) ? "" : ", no IOMMU group");
		checked++;
	}
	free(copy);
	EXPECT_LT(0, checked);
}

TEST_HARNESS_MAIN
