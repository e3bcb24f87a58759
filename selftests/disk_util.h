/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Disk helpers shared by the selftests that check DMA through a block device: which disks sit
 * behind the virtio-iommu, and their contents.
 *
 * VIOMMU_DISKS (e.g. "vda nvme0n1") names the disks; only named disks are ever written (the
 * lab's disks are scratch images). Without it the disks are found in sysfs: every block device
 * whose PCI function is behind the virtio-iommu, read only. VIOMMU_DISK_SHA256 is the sha256 of
 * the first VIOMMU_DISK_HASH_BYTES of each named disk (the host made them); the cases that
 * compare contents skip without both.
 */
#ifndef VIOMMU_DISK_UTIL_H
#define VIOMMU_DISK_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sha256.h"
#include "vfio_util.h"

#define DISK_HASH_IO_SIZE	(1024 * 1024)
#define DISK_NAME_MAX		64
#define SHA256_HEX_LEN		(2 * SHA256_DIGEST_SIZE)

/* sha256 of the first bytes of /dev/<disk>, read with 1 MiB O_DIRECT I/Os. Returns 0 or -errno. */
static inline int hash_disk(const char *disk, unsigned long long bytes, char *hex)
{
	char node[PATH_MAX], sysdev[PATH_MAX];
	__u8 digest[SHA256_DIGEST_SIZE];
	unsigned long long pos = 0;
	struct sha256_ctx c;
	void *buf = NULL;
	int fd, err = 0;

	xsnprintf(node, sizeof(node), "/dev/%s", disk);
	xsnprintf(sysdev, sizeof(sysdev), "/sys/block/%s/dev", disk);
	fd = open_dev_node(node, sysdev, O_RDONLY | O_DIRECT, false);
	if (fd < 0)
		return -errno;
	if (posix_memalign(&buf, 4096, DISK_HASH_IO_SIZE)) {
		close(fd);
		return -ENOMEM;
	}
	sha256_init(&c);
	while (pos < bytes) {
		size_t want = bytes - pos < DISK_HASH_IO_SIZE ? bytes - pos : DISK_HASH_IO_SIZE;
		size_t len = (want + 4095) / 4096 * 4096;
		ssize_t got = pread(fd, buf, len, pos);

		if (got != (ssize_t)len) {
			err = got < 0 ? -errno : -EIO;
			break;
		}
		sha256_update(&c, buf, want);
		pos += want;
	}
	close(fd);
	free(buf);
	if (err)
		return err;
	sha256_final(&c, digest);
	sha256_hex(digest, hex);
	return 0;
}

/* True when dir (a sysfs device directory) is a PCI function. */
static inline bool is_pci_function(const char *dir)
{
	char link[PATH_MAX], sub[64];
	const char *base = strrchr(dir, '/');
	unsigned int dom, bus, slot, fn;
	char tail;

	base = base ? base + 1 : dir;
	if (sscanf(base, "%x:%x:%x.%x%c", &dom, &bus, &slot, &fn, &tail) != 4)
		return false;
	xsnprintf(link, sizeof(link), "%s/subsystem", dir);
	return link_basename(link, sub, sizeof(sub)) == 0 && !strcmp(sub, "pci");
}

/* The nearest PCI function at or above a resolved sysfs path. */
static inline int pci_ancestor(const char *real, char *out, size_t size)
{
	char path[PATH_MAX], *slash;

	xsnprintf(path, sizeof(path), "%s", real);
	while ((slash = strrchr(path, '/')) && slash != path) {
		if (is_pci_function(path)) {
			xsnprintf(out, size, "%s", path);
			return 0;
		}
		*slash = '\0';
	}
	return -ENOENT;
}

/* Tries the symlinks in dir (e.g. an NVMe subsystem's controllers or multipath paths). */
static inline int pci_via_links(const char *dir, char *out, size_t size)
{
	char **names, path[PATH_MAX], real[PATH_MAX];
	struct stat st;
	int i, n, ret = -ENOENT;

	n = list_dir(dir, &names);
	if (n < 0)
		return n;
	for (i = 0; i < n && ret; i++) {
		if (!strcmp(names[i], "subsystem") || !strcmp(names[i], "driver") ||
		    !strcmp(names[i], "firmware_node") || !strcmp(names[i], "bdi"))
			continue;
		xsnprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (lstat(path, &st) || !S_ISLNK(st.st_mode) || !realpath(path, real))
			continue;
		ret = pci_ancestor(real, out, size);
	}
	free_names(names, n);
	return ret;
}

/* Resolves a block device to the sysfs directory of the PCI function that does its DMA. */
static inline int disk_pci_function(const char *disk, char *out, size_t size)
{
	char path[PATH_MAX], real[PATH_MAX];

	xsnprintf(path, sizeof(path), "/sys/block/%s", disk);
	if (realpath(path, real) && !pci_ancestor(real, out, size))
		return 0;
	xsnprintf(path, sizeof(path), "/sys/block/%s/device", disk);
	if (realpath(path, real) && !pci_ancestor(real, out, size))
		return 0;
	/* NVMe native multipath: the head disk hangs off a virtual subsystem device. */
	xsnprintf(path, sizeof(path), "/sys/block/%s/multipath", disk);
	if (!pci_via_links(path, out, size))
		return 0;
	xsnprintf(path, sizeof(path), "/sys/block/%s/device", disk);
	return pci_via_links(path, out, size);
}

/* Whether a disk's PCI function is in a group of the virtio-iommu's IOMMU instance. */
static inline bool disk_behind_viommu(const char *disk, const struct viommu_info *v)
{
	char pci[PATH_MAX], link[PATH_MAX], iommu[64];

	if (!v->iommu[0] || disk_pci_function(disk, pci, sizeof(pci)))
		return false;
	xsnprintf(link, sizeof(link), "%s/iommu_group", pci);
	if (!path_exists(link))
		return false;
	xsnprintf(link, sizeof(link), "%s/iommu", pci);
	return !link_basename(link, iommu, sizeof(iommu)) && !strcmp(iommu, v->iommu);
}

/* The disks were named by VIOMMU_DISKS: the only disks the write tests may write. */
static inline bool disks_named(void)
{
	return !!viommu_env("VIOMMU_DISKS");
}

/*
 * The disks under test, at most max names: those VIOMMU_DISKS names (in its order), else every
 * /sys/block disk behind the virtio-iommu (sorted). Returns the count or -errno.
 */
static inline int disk_list(char (*names)[DISK_NAME_MAX], int max)
{
	const char *env = viommu_env("VIOMMU_DISKS");
	char *copy, *tok, *save = NULL, **all;
	struct viommu_info v;
	int i, n = 0, na;

	if (env) {
		copy = strdup(env);
		if (!copy)
			return -ENOMEM;
		for (tok = strtok_r(copy, " \t,", &save); tok && n < max;
		     tok = strtok_r(NULL, " \t,", &save))
			xsnprintf(names[n++], DISK_NAME_MAX, "%s", tok);
		free(copy);
		return n;
	}
	if (viommu_find(&v))
		return 0;
	na = list_dir("/sys/block", &all);
	if (na < 0)
		return na == -ENOENT ? 0 : na;
	for (i = 0; i < na && n < max; i++) {
		if (disk_behind_viommu(all[i], &v))
			xsnprintf(names[n++], DISK_NAME_MAX, "%s", all[i]);
	}
	free_names(all, na);
	return n;
}

/*
 * The disk under test whose device sits under a PCI function (its DMA goes through bdf).
 * Returns 0 with the name in out, or -ENOENT.
 */
static inline int disk_of_pci(const char *bdf, char *out, size_t size)
{
	char names[16][DISK_NAME_MAX], pci[PATH_MAX];
	int i, n = disk_list(names, 16);

	for (i = 0; i < n; i++) {
		if (disk_pci_function(names[i], pci, sizeof(pci)) ||
		    strcmp(strrchr(pci, '/') + 1, bdf))
			continue;
		xsnprintf(out, size, "%s", names[i]);
		return 0;
	}
	return -ENOENT;
}

/* VIOMMU_DISK_HASH_BYTES: how much of each named disk VIOMMU_DISK_SHA256 covers (0: unset). */
static inline unsigned long long disk_hash_bytes(void)
{
	const char *s = viommu_env("VIOMMU_DISK_HASH_BYTES");

	return s ? strtoull(s, NULL, 10) : 0;
}

/* VIOMMU_DISK_SHA256 when it and VIOMMU_DISK_HASH_BYTES are set and well-formed, else NULL. */
static inline const char *disk_sha256(void)
{
	const char *h = viommu_env("VIOMMU_DISK_SHA256");

	if (!h || strlen(h) != SHA256_HEX_LEN || !disk_hash_bytes())
		return NULL;
	return h;
}

/* The skip reason of a content check without disk_sha256(). */
#define DISK_HASH_SKIP_REASON	\
	"the disks' contents are known only to the host that made them (VIOMMU_DISK_SHA256, " \
	"VIOMMU_DISK_HASH_BYTES)"

#endif /* VIOMMU_DISK_UTIL_H */
