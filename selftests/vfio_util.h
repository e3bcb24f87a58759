/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PCI driver (un)binding and device-node helpers for the selftests that move endpoints between
 * drivers: to vfio-pci and back, off and on their kernel driver around an IOMMU group type
 * change or a module reload. Everything is static inline, like viommu_util.h.
 */
#ifndef VFIO_UTIL_H
#define VFIO_UTIL_H

#include <sys/sysmacros.h>

#include "viommu_util.h"

#define PCI_DRIVERS_DIR		"/sys/bus/pci/drivers"

/* Name of the driver bound to a PCI function, "" when none. Returns 0 or -errno. */
static inline int pci_driver_of(const char *bdf, char *out, size_t size)
{
	char link[PATH_MAX];
	int ret;

	xsnprintf(link, sizeof(link), "%s/%s/driver", PCI_DEVICES_DIR, bdf);
	ret = link_basename(link, out, size);
	if (ret == -ENOENT) {
		out[0] = '\0';
		return 0;
	}
	return ret;
}

/* Unbinds whatever driver a PCI function has. Returns 0 (also when none was bound) or -errno. */
static inline int pci_unbind(const char *bdf)
{
	char path[PATH_MAX], drv[64];
	int ret;

	ret = pci_driver_of(bdf, drv, sizeof(drv));
	if (ret || !drv[0])
		return ret;
	xsnprintf(path, sizeof(path), "%s/%s/driver/unbind", PCI_DEVICES_DIR, bdf);
	ret = write_text(path, bdf);
	if (ret)
		return ret;
	ret = pci_driver_of(bdf, drv, sizeof(drv));
	if (ret)
		return ret;
	return drv[0] ? -EBUSY : 0;
}

/* Binds a PCI function to a named driver. Returns 0 or -errno. */
static inline int pci_bind(const char *bdf, const char *driver)
{
	char path[PATH_MAX], drv[64];
	int ret;

	xsnprintf(path, sizeof(path), "%s/%s/bind", PCI_DRIVERS_DIR, driver);
	ret = write_text(path, bdf);
	if (ret)
		return ret;
	ret = pci_driver_of(bdf, drv, sizeof(drv));
	if (ret)
		return ret;
	return strcmp(drv, driver) ? -ENODEV : 0;
}

/* Asks the PCI bus to find a driver for a function (drivers_probe). Returns 0 or -errno. */
static inline int pci_probe(const char *bdf)
{
	return write_text("/sys/bus/pci/drivers_probe", bdf);
}

/* Sets (driver != NULL) or clears the driver_override of a PCI function. */
static inline int pci_set_override(const char *bdf, const char *driver)
{
	char path[PATH_MAX];

	xsnprintf(path, sizeof(path), "%s/%s/driver_override", PCI_DEVICES_DIR, bdf);
	return write_text(path, driver ? driver : "\n");
}

static inline bool driver_exists(const char *driver)
{
	char path[PATH_MAX];

	xsnprintf(path, sizeof(path), "%s/%s", PCI_DRIVERS_DIR, driver);
	return path_exists(path);
}

/* Number of devices in an IOMMU group, or -errno. */
static inline int group_device_count(const char *group)
{
	char path[PATH_MAX], **names;
	int n;

	xsnprintf(path, sizeof(path), "%s/%s/devices", IOMMU_GROUPS_DIR, group);
	n = list_dir(path, &names);
	if (n >= 0)
		free_names(names, n);
	return n;
}

/* Polls for a path to appear (want == true) or disappear, for up to seconds. */
static inline bool wait_path(const char *path, bool want, double seconds)
{
	double end = now_seconds() + seconds;

	for (;;) {
		if (path_exists(path) == want)
			return true;
		if (now_seconds() > end)
			return false;
		usleep(20000);
	}
}

/*
 * Opens a device node; when devtmpfs did not make it, creates it from the "major:minor" in a
 * sysfs dev attribute first. Returns the fd or -1 (errno set).
 */
static inline int open_dev_node(const char *node, const char *sysfs_dev, int flags, bool chr)
{
	unsigned int maj, min;
	char buf[32], dir[PATH_MAX], *slash;
	int fd;

	fd = open(node, flags | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT || !sysfs_dev)
		return fd;
	if (read_text(sysfs_dev, buf, sizeof(buf)) <= 0 || sscanf(buf, "%u:%u", &maj, &min) != 2) {
		errno = ENOENT;
		return -1;
	}
	xsnprintf(dir, sizeof(dir), "%s", node);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	if (mknod(node, (chr ? S_IFCHR : S_IFBLK) | 0600, makedev(maj, min)) && errno != EEXIST)
		return -1;
	return open(node, flags | O_CLOEXEC);
}

#endif /* VFIO_UTIL_H */
