/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small sysfs helpers shared by the virtio-iommu guest selftests, and the discovery of the
 * topology: which virtio device is the virtio-iommu, which driver is bound to it, which IOMMU
 * instance it registered and which endpoints sit behind it.
 * Everything is static inline so that each test program only pays for what it uses.
 *
 * The tests run in any guest with a virtio-iommu. What only the host knows (the disks' contents,
 * the expected doorbell, whether a refusal is expected) comes from optional VIOMMU_* variables,
 * which the lab's runner (selftests/lab) sets; a case that needs one skips without it. Where a
 * variable names what sysfs also shows (VIOMMU_DRIVER, VIOMMU_ARCH, VIOMMU_FIRMWARE), it
 * overrides the discovery.
 */
#ifndef VIOMMU_UTIL_H
#define VIOMMU_UTIL_H

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"

#define PCI_DEVICES_DIR		"/sys/bus/pci/devices"
#define IOMMU_CLASS_DIR		"/sys/class/iommu"
#define IOMMU_GROUPS_DIR	"/sys/kernel/iommu_groups"
#define VIRTIO_DEVICES_DIR	"/sys/bus/virtio/devices"
#define ACPI_TABLES_DIR		"/sys/firmware/acpi/tables"
#define DT_BASE			"/sys/firmware/devicetree/base"

#define VIRTIO_IOMMU_VENDOR	0x1af4
#define VIRTIO_IOMMU_DEVICE	0x1057
#define VIRTIO_ID_IOMMU		23
#define C_DRIVER		"virtio_iommu"
#define RUST_DRIVER		"virtio_iommu_rs"

/*
 * The harness runs every test in a forked child that leaves with _exit(), which drops whatever
 * is still in a stdio buffer. stdout may be a pipe or a file under the runner's /init, so make it
 * line buffered before anything prints.
 */
static void __attribute__((constructor(101))) viommu_stdout_line_buffered(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/*
 * Changes the timeout (seconds) of a plain TEST() from its default. Runs after the harness has
 * registered its tests (its constructors use priority KSELFTEST_PRIO_TEST/_XFAIL).
 */
#define VIOMMU_TEST_TIMEOUT(test_name, seconds_expr)					\
	static void __attribute__((constructor(KSELFTEST_PRIO_XFAIL + 1)))		\
	viommu_timeout_##test_name(void)						\
	{										\
		_##test_name##_object.timeout = (seconds_expr);				\
	}

/*
 * xsnprintf() for paths and messages: output that does not fit is cut (sysfs paths are short).
 * Going through vsnprintf() keeps -Wformat-truncation quiet about PATH_MAX-sized buffers.
 */
static inline int __printf(3, 4) xsnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* Reads a small text file, strips trailing whitespace. Returns length or -errno. */
static inline int read_text(const char *path, char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd, err;

	if (size == 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((size_t)total < size - 1) {
		n = read(fd, buf + total, size - 1 - total);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			close(fd);
			return err;
		}
		if (n == 0)
			break;
		total += n;
	}
	close(fd);
	buf[total] = '\0';
	while (total > 0 && isspace((unsigned char)buf[total - 1]))
		buf[--total] = '\0';
	return (int)total;
}

/* Writes a string to a sysfs attribute in one write(). Returns 0 or -errno. */
static inline int write_text(const char *path, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	close(fd);
	return err;
}

static inline bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Basename of the target of a symlink, e.g. the group number of .../iommu_group. */
static inline int link_basename(const char *link, char *out, size_t size)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;

	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= size)
		return -ENAMETOOLONG;
	memcpy(out, base, strlen(base) + 1);
	return 0;
}

static inline int read_hex_attr(const char *dir, const char *attr, unsigned long *val)
{
	char path[PATH_MAX], buf[64], *end;
	int ret;

	xsnprintf(path, sizeof(path), "%s/%s", dir, attr);
	ret = read_text(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	errno = 0;
	*val = strtoul(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

struct pci_dev_info {
	char bdf[32];		/* e.g. 0000:00:03.0 */
	char dir[PATH_MAX];	/* /sys/bus/pci/devices/<bdf> */
	unsigned int vendor, device;
	char group[32];		/* iommu group number, "" if none */
	char iommu[64];		/* the /sys/class/iommu entry it is behind, "" if none */
};

static inline int cmp_pci_dev(const void *a, const void *b)
{
	return strcmp(((const struct pci_dev_info *)a)->bdf, ((const struct pci_dev_info *)b)->bdf);
}

/*
 * Lists every PCI function, sorted by address. Returns the count (the array is malloc'ed into
 * *out) or -errno.
 */
static inline int pci_list(struct pci_dev_info **out)
{
	struct pci_dev_info *devs = NULL, *tmp;
	size_t cap = 0, n = 0;
	struct dirent *de;
	unsigned long v;
	DIR *d;

	*out = NULL;
	d = opendir(PCI_DEVICES_DIR);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct pci_dev_info *p;
		char link[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			tmp = realloc(devs, cap * sizeof(*devs));
			if (!tmp) {
				free(devs);
				closedir(d);
				return -ENOMEM;
			}
			devs = tmp;
		}
		p = &devs[n];
		memset(p, 0, sizeof(*p));
		xsnprintf(p->bdf, sizeof(p->bdf), "%s", de->d_name);
		xsnprintf(p->dir, sizeof(p->dir), "%s/%s", PCI_DEVICES_DIR, de->d_name);
		if (read_hex_attr(p->dir, "vendor", &v) == 0)
			p->vendor = v;
		if (read_hex_attr(p->dir, "device", &v) == 0)
			p->device = v;
		xsnprintf(link, sizeof(link), "%s/iommu_group", p->dir);
		if (link_basename(link, p->group, sizeof(p->group)) < 0)
			p->group[0] = '\0';
		xsnprintf(link, sizeof(link), "%s/iommu", p->dir);
		if (link_basename(link, p->iommu, sizeof(p->iommu)) < 0)
			p->iommu[0] = '\0';
		n++;
	}
	closedir(d);
	if (n)
		qsort(devs, n, sizeof(*devs), cmp_pci_dev);
	*out = devs;
	return (int)n;
}

static inline bool pci_is_viommu(const struct pci_dev_info *p)
{
	return p->vendor == VIRTIO_IOMMU_VENDOR && p->device == VIRTIO_IOMMU_DEVICE;
}

/* Finds the first PCI function with the given IDs. Returns 0 and fills *info, or -ENOENT. */
static inline int pci_find(unsigned int vendor, unsigned int device, struct pci_dev_info *info)
{
	struct pci_dev_info *devs;
	int i, n;

	n = pci_list(&devs);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		if (devs[i].vendor == vendor && devs[i].device == device) {
			*info = devs[i];
			free(devs);
			return 0;
		}
	}
	free(devs);
	return -ENOENT;
}

/* Reads /sys/kernel/iommu_groups/<group>/type. */
static inline int group_type(const char *group, char *buf, size_t size)
{
	char path[PATH_MAX];

	xsnprintf(path, sizeof(path), "%s/%s/type", IOMMU_GROUPS_DIR, group);
	return read_text(path, buf, size);
}

static inline int cmp_numeric_names(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	long lx = strtol(x, NULL, 10), ly = strtol(y, NULL, 10);

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x, y);
}

/*
 * Lists the entries of a directory (without . and ..), sorted numerically when they are numbers.
 * Returns the count (names malloc'ed into *out; free with free_names) or -errno.
 */
static inline int list_dir(const char *path, char ***out)
{
	char **names = NULL, **tmp;
	size_t cap = 0, n = 0;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			tmp = realloc(names, cap * sizeof(*names));
			if (!tmp)
				break;
			names = tmp;
		}
		names[n] = strdup(de->d_name);
		if (!names[n])
			break;
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_numeric_names);
	*out = names;
	return (int)n;
}

static inline void free_names(char **names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* --- the virtio-iommu and its driver --------------------------------------------------------- */

/* An optional VIOMMU_* setting: its value, NULL when unset (an empty value counts as set). */
static inline const char *viommu_env(const char *var)
{
	return getenv(var);
}

static inline bool env_is(const char *var, const char *value)
{
	const char *s = getenv(var);

	return s && !strcmp(s, value);
}

/* Whether a resolved sysfs path is dir itself or lies below it. */
static inline bool path_below(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	return len && !strncmp(path, dir, len) && (path[len] == '/' || path[len] == '\0');
}

struct viommu_info {
	char vdev[32];			/* its virtio device, e.g. virtio0 */
	char vdev_dir[PATH_MAX];	/* realpath of /sys/bus/virtio/devices/<vdev> */
	char transport[PATH_MAX];	/* realpath of the virtio device's parent (PCI, MMIO) */
	char bdf[32];			/* the transport's PCI address, "" when it is not PCI */
	char driver[64];		/* the virtio driver bound to it, "" when none */
	char iommu[64];			/* the /sys/class/iommu entry it registered, "" if none */
};

/*
 * Finds the (first) virtio-iommu: the virtio device with device ID 23, its transport, its
 * driver and the IOMMU instance whose device is the transport or the virtio device itself.
 * Returns 0, -ENOENT when there is no virtio-iommu, or -errno.
 */
static inline int viommu_find(struct viommu_info *v)
{
	char path[PATH_MAX], real[PATH_MAX], sub[32], **names;
	unsigned long id;
	int i, n, ret = -ENOENT;

	memset(v, 0, sizeof(*v));
	n = list_dir(VIRTIO_DEVICES_DIR, &names);
	if (n < 0)
		return n;
	for (i = 0; i < n && ret; i++) {
		xsnprintf(path, sizeof(path), "%s/%s", VIRTIO_DEVICES_DIR, names[i]);
		if (read_hex_attr(path, "device", &id) || id != VIRTIO_ID_IOMMU ||
		    !realpath(path, v->vdev_dir))
			continue;
		xsnprintf(v->vdev, sizeof(v->vdev), "%s", names[i]);
		xsnprintf(path, sizeof(path), "%s/driver", v->vdev_dir);
		if (link_basename(path, v->driver, sizeof(v->driver)))
			v->driver[0] = '\0';
		ret = 0;
	}
	free_names(names, n);
	if (ret)
		return ret;
	xsnprintf(v->transport, sizeof(v->transport), "%s", v->vdev_dir);
	*strrchr(v->transport, '/') = '\0';
	xsnprintf(path, sizeof(path), "%s/subsystem", v->transport);
	if (!link_basename(path, sub, sizeof(sub)) && !strcmp(sub, "pci"))
		xsnprintf(v->bdf, sizeof(v->bdf), "%s", strrchr(v->transport, '/') + 1);
	n = list_dir(IOMMU_CLASS_DIR, &names);
	for (i = 0; i < n; i++) {
		xsnprintf(path, sizeof(path), "%s/%s/device", IOMMU_CLASS_DIR, names[i]);
		if (!realpath(path, real) || !path_below(real, v->transport))
			continue;
		xsnprintf(v->iommu, sizeof(v->iommu), "%s", names[i]);
		break;
	}
	if (n > 0)
		free_names(names, n);
	return 0;
}

/*
 * The driver under test: VIOMMU_DRIVER when set, else the one bound to the virtio-iommu:
 * "c" (virtio_iommu), "rust" (virtio_iommu_rs), "none" (nothing bound, or no virtio-iommu),
 * or the bound driver's name.
 */
static inline const char *viommu_driver(void)
{
	static char name[64];
	struct viommu_info v;

	if (viommu_env("VIOMMU_DRIVER"))
		return viommu_env("VIOMMU_DRIVER");
	if (name[0])
		return name;
	if (viommu_find(&v) || !v.driver[0])
		xsnprintf(name, sizeof(name), "none");
	else if (!strcmp(v.driver, C_DRIVER))
		xsnprintf(name, sizeof(name), "c");
	else if (!strcmp(v.driver, RUST_DRIVER))
		xsnprintf(name, sizeof(name), "rust");
	else
		xsnprintf(name, sizeof(name), "%s", v.driver);
	return name;
}

static inline bool driver_is(const char *which)
{
	return !strcmp(viommu_driver(), which);
}

/* The guest's architecture is arm64: VIOMMU_ARCH when set, else uname's machine. */
static inline bool arch_is_arm64(void)
{
	struct utsname u;

	if (viommu_env("VIOMMU_ARCH"))
		return env_is("VIOMMU_ARCH", "arm64");
	return !uname(&u) && !strcmp(u.machine, "aarch64");
}

/*
 * The firmware that describes the topology: VIOMMU_FIRMWARE when set, else "acpi" when the
 * kernel runs on ACPI tables, "dt" when it runs on a device tree, "" when neither shows.
 */
static inline const char *viommu_firmware(void)
{
	if (viommu_env("VIOMMU_FIRMWARE"))
		return viommu_env("VIOMMU_FIRMWARE");
	if (path_exists(ACPI_TABLES_DIR))
		return "acpi";
	if (path_exists(DT_BASE))
		return "dt";
	return "";
}

/* A PCI function behind the virtio-iommu's IOMMU instance (in one of its groups). */
static inline bool pci_behind(const struct pci_dev_info *p, const struct viommu_info *v)
{
	return p->group[0] && v->iommu[0] && !strcmp(p->iommu, v->iommu);
}

static inline double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif /* VIOMMU_UTIL_H */
