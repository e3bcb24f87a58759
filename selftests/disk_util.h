/* SPDX-License-Identifier: GPL-2.0 */
/* Disk helpers shared by the selftests that check DMA through a block device. */
#ifndef VIOMMU_DISK_UTIL_H
#define VIOMMU_DISK_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "sha256.h"
#include "vfio_util.h"

#define DISK_HASH_IO_SIZE	(1024 * 1024)

/* sha256 of the first bytes of /dev/<disk>, read with 1 MiB O_DIRECT I/Os. Returns 0 or -errno. */
static inline int hash_disk(const char *disk, unsigned long long bytes, char *hex)
{
	char node[PATH_MAX], sysdev[PATH_MAX];
	uint8_t digest[SHA256_DIGEST_SIZE];
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

/*
 * The disk of VIOMMU_DISKS whose device sits under a PCI function (its /sys/block path runs
 * through /<bdf>/). Returns 0 with the name in out, or -ENOENT.
 */
static inline int disk_of_pci(const char *bdf, char *out, size_t size)
{
	const char *env = getenv("VIOMMU_DISKS");
	char *copy, *tok, *save = NULL, path[PATH_MAX], real[PATH_MAX], needle[64];
	int ret = -ENOENT;

	if (!env || !(copy = strdup(env)))
		return -ENOENT;
	xsnprintf(needle, sizeof(needle), "/%s/", bdf);
	for (tok = strtok_r(copy, " \t,", &save); tok && ret; tok = strtok_r(NULL, " \t,", &save)) {
		xsnprintf(path, sizeof(path), "/sys/block/%s", tok);
		if (!realpath(path, real) || !strstr(real, needle))
			continue;
		xsnprintf(out, size, "%s", tok);
		ret = 0;
	}
	free(copy);
	return ret;
}

#endif /* VIOMMU_DISK_UTIL_H */
