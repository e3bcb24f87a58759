/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MSI helpers shared by the selftests that show interrupts arriving through the IOMMU:
 * /proc/interrupts counts of a PCI function's MSI/MSI-X vectors, the driver's sw_msi module
 * parameter, its debugfs mappings file and the group's reserved_regions. Static inline, like
 * viommu_util.h. Include after kselftest_harness.h (ksft_print_msg).
 *
 * The Rust driver's contract (absent from the C driver):
 *  - /sys/module/virtio_iommu_rs/parameters/sw_msi (bool): ignore the MSI regions PROBE reports
 *    and give every group a software MSI window at 0x8000000 (1 MiB) instead, which dma-iommu
 *    and iommufd fill with real mappings of the doorbell page;
 *  - /sys/kernel/debug/virtio_iommu_rs-<virtio device>/mappings, one line per mapping:
 *    "<domain id> 0x%016llx 0x%016llx 0x%016llx <rwm>" = domain, first IOVA, last IOVA,
 *    physical address, flags (r read, w write, m mmio, '-' when absent).
 */
#ifndef VIOMMU_MSI_UTIL_H
#define VIOMMU_MSI_UTIL_H

#include "kselftest.h"
#include "viommu_util.h"

#define SW_MSI_PARAM		"/sys/module/virtio_iommu_rs/parameters/sw_msi"
#define VIOMMU_DEBUGFS		"/sys/kernel/debug/virtio_iommu_rs-"
#define SW_MSI_BASE		0x08000000ULL
#define SW_MSI_LAST		0x080fffffULL
#define SW_MSI_REGION		"0x0000000008000000 0x00000000080fffff msi"
/* QEMU's arm64 virt, gic-version=3: the ITS GITS_TRANSLATER page (VIOMMU_EXPECT_MSI says so). */
#define ARM64_ITS_DOORBELL	0x08090000ULL

#define MAX_MSI_IRQS		64

/* --- /proc/interrupts ------------------------------------------------------------------------ */

/*
 * Reads one line of /proc/interrupts: the count summed over the CPUs, and in name what follows
 * the counts (controller, hwirq, trigger, action name) with runs of blanks squeezed.
 * Returns 0, -ENOENT when the irq has no line, or -errno.
 */
static inline int irq_count(unsigned int irq, unsigned long long *count, char *name, size_t size)
{
	char line[1024], *p, *end;
	int cpus = 0, i, ret = -ENOENT;
	FILE *f;

	f = fopen("/proc/interrupts", "re");
	if (!f)
		return -errno;
	if (fgets(line, sizeof(line), f)) {
		for (p = line; (p = strstr(p, "CPU")); p += 3)
			cpus++;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long n;

		p = line;
		while (isspace((unsigned char)*p))
			p++;
		n = strtoul(p, &end, 10);
		if (end == p || *end != ':' || n != irq)
			continue;
		p = end + 1;
		*count = 0;
		for (i = 0; i < cpus; i++) {
			unsigned long long c = strtoull(p, &end, 10);

			if (end == p)
				break;
			*count += c;
			p = end;
		}
		if (name && size) {
			size_t o = 0;
			bool blank = false;

			while (isspace((unsigned char)*p))
				p++;
			for (; *p && *p != '\n' && o + 1 < size; p++) {
				if (isspace((unsigned char)*p)) {
					blank = true;
					continue;
				}
				if (blank && o + 2 < size)
					name[o++] = ' ';
				blank = false;
				name[o++] = *p;
			}
			name[o] = '\0';
		}
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

struct msi_irq {
	unsigned int irq;
	char mode[8];			/* "msi" or "msix" (msi_irqs/<irq>) */
	unsigned long long count;	/* /proc/interrupts, all CPUs */
	char name[160];			/* the rest of its /proc/interrupts line */
};

/*
 * The MSI/MSI-X vectors a PCI function has allocated now (/sys/bus/pci/devices/<bdf>/msi_irqs),
 * with their current /proc/interrupts counts. Returns how many (0: MSI off) or -errno.
 */
static inline int pci_msi_irqs(const char *bdf, struct msi_irq *irqs, int max)
{
	char dir[PATH_MAX], path[PATH_MAX], **names;
	int i, n, k = 0, ret;

	xsnprintf(dir, sizeof(dir), "%s/%s/msi_irqs", PCI_DEVICES_DIR, bdf);
	n = list_dir(dir, &names);
	if (n == -ENOENT)
		return 0;
	if (n < 0)
		return n;
	for (i = 0; i < n && k < max; i++) {
		struct msi_irq *q = &irqs[k];
		char *end;

		memset(q, 0, sizeof(*q));
		q->irq = strtoul(names[i], &end, 10);
		if (*end)
			continue;
		/* msi_irqs/<irq> is a file with the mode (a directory with "mode" before 3.x). */
		xsnprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (read_text(path, q->mode, sizeof(q->mode)) < 0) {
			xsnprintf(path, sizeof(path), "%s/%s/mode", dir, names[i]);
			if (read_text(path, q->mode, sizeof(q->mode)) < 0)
				xsnprintf(q->mode, sizeof(q->mode), "?");
		}
		ret = irq_count(q->irq, &q->count, q->name, sizeof(q->name));
		if (ret) {
			free_names(names, n);
			return ret;
		}
		k++;
	}
	free_names(names, n);
	return k;
}

/* --- the driver's sw_msi parameter and debugfs mappings ------------------------------------- */

/* The msi line of a group's reserved_regions (the first), into line. Returns 0 or -ENOENT. */
static inline int group_msi_line(const char *group, char *line, size_t size)
{
	char path[PATH_MAX], text[4096], *l, *save = NULL;
	size_t len;

	xsnprintf(path, sizeof(path), "%s/%s/reserved_regions", IOMMU_GROUPS_DIR, group);
	if (read_text(path, text, sizeof(text)) < 0)
		return -ENOENT;
	for (l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		len = strlen(l);
		if (len > 4 && !strcmp(l + len - 4, " msi")) {
			xsnprintf(line, size, "%s", l);
			return 0;
		}
	}
	return -ENOENT;
}

/* The msi line of the first IOMMU group that has one. Returns 0 or -ENOENT. */
static inline int first_msi_line(char *line, size_t size)
{
	char **groups;
	int g, n, ret = -ENOENT;

	n = list_dir(IOMMU_GROUPS_DIR, &groups);
	for (g = 0; g < n && ret; g++)
		ret = group_msi_line(groups[g], line, size);
	if (n > 0)
		free_names(groups, n);
	return ret;
}

/*
 * 1 when sw_msi is on, 0 when off, -ENOENT without the parameter (not the Rust driver). Rust
 * module parameters of Linux 7.3 are not in sysfs (perm 0), so the parameters the module was
 * loaded with say it (VIOMMU_MODPARAMS, from the lab's host); without them the groups' MSI
 * window does: sw_msi=1 puts the software window at SW_MSI_REGION in every group. The sysfs
 * file wins if a kernel shows it.
 */
static inline int sw_msi_state(void)
{
	const char *p = viommu_env("VIOMMU_MODPARAMS");
	char buf[8], line[128];

	if (read_text(SW_MSI_PARAM, buf, sizeof(buf)) >= 0)
		return buf[0] == 'Y' || buf[0] == 'y' || buf[0] == '1';
	if (!driver_is("rust"))
		return -ENOENT;
	if (!p)
		return !first_msi_line(line, sizeof(line)) && !strcmp(line, SW_MSI_REGION);
	for (; (p = strstr(p, "sw_msi=")); p += 7) {
		char c = p[7];

		if (c == '1' || c == 'y' || c == 'Y' || c == 't')
			return 1;
	}
	return 0;
}

/*
 * The physical page of the MSI doorbell: the start of VIOMMU_DOORBELL; else the start of the
 * groups' MSI window unless it is the software window (the probed doorbell is reported as
 * itself); else the ITS page of QEMU's arm64 virt machine.
 */
static inline unsigned long long msi_doorbell_page(void)
{
	const char *s = viommu_env("VIOMMU_DOORBELL");
	unsigned long long a;
	char line[128];

	if (s && sscanf(s, "0x%llx", &a) == 1)
		return a;
	if (!first_msi_line(line, sizeof(line)) && strcmp(line, SW_MSI_REGION) &&
	    sscanf(line, "0x%llx", &a) == 1)
		return a;
	return ARM64_ITS_DOORBELL;
}

/*
 * Path of the debugfs mappings file of the (first) virtio-iommu: its virtio device is the
 * "virtioN" child of the virtio-iommu PCI function. Returns 0 or -ENOENT.
 */
static inline int viommu_mappings_path(char *out, size_t size)
{
	struct pci_dev_info *devs;
	char **names;
	int i, j, n, nn, ret = -ENOENT;

	n = pci_list(&devs);
	if (n < 0)
		return n;
	for (i = 0; i < n && ret; i++) {
		if (!pci_is_viommu(&devs[i]))
			continue;
		nn = list_dir(devs[i].dir, &names);
		for (j = 0; j < nn && ret; j++) {
			if (strncmp(names[j], "virtio", 6) || !isdigit((unsigned char)names[j][6]))
				continue;
			xsnprintf(out, size, "%s%s/mappings", VIOMMU_DEBUGFS, names[j]);
			if (path_exists(out))
				ret = 0;
		}
		if (nn > 0)
			free_names(names, nn);
	}
	free(devs);
	return ret;
}

struct viommu_mapping {
	unsigned long long domain, first, last, phys;
	char flags[4];
};

/*
 * Parses one mappings line strictly: it must read back identically when printed again in the
 * contract's format, with flags from "rwm"/'-' in that order and first <= last.
 */
static inline bool parse_mapping(const char *line, struct viommu_mapping *m)
{
	char again[160];
	int used = 0;

	memset(m, 0, sizeof(*m));
	if (sscanf(line, "%llu 0x%llx 0x%llx 0x%llx %3s%n", &m->domain, &m->first, &m->last,
		   &m->phys, m->flags, &used) != 5 || (size_t)used != strlen(line))
		return false;
	xsnprintf(again, sizeof(again), "%llu 0x%016llx 0x%016llx 0x%016llx %s", m->domain,
		  m->first, m->last, m->phys, m->flags);
	if (strcmp(again, line) || strlen(m->flags) != 3)
		return false;
	if ((m->flags[0] != 'r' && m->flags[0] != '-') ||
	    (m->flags[1] != 'w' && m->flags[1] != '-') ||
	    (m->flags[2] != 'm' && m->flags[2] != '-'))
		return false;
	return m->first <= m->last;
}

/*
 * Reads the mappings file into a malloc'ed array (*out, free() it). Returns the count, -errno,
 * or -EBADMSG with the offending line copied to bad (when given).
 */
static inline int read_mappings(const char *path, struct viommu_mapping **out, char *bad,
				size_t bad_size)
{
	struct viommu_mapping *v = NULL, *tmp;
	size_t cap = 0, n = 0, len;
	char line[256];
	FILE *f;

	*out = NULL;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		len = strlen(line);
		while (len && isspace((unsigned char)line[len - 1]))
			line[--len] = '\0';
		if (!len)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			tmp = realloc(v, cap * sizeof(*v));
			if (!tmp) {
				free(v);
				fclose(f);
				return -ENOMEM;
			}
			v = tmp;
		}
		if (!parse_mapping(line, &v[n])) {
			if (bad)
				xsnprintf(bad, bad_size, "%s", line);
			free(v);
			fclose(f);
			return -EBADMSG;
		}
		n++;
	}
	fclose(f);
	*out = v;
	return (int)n;
}

static inline void print_mapping(const char *prefix, const struct viommu_mapping *m)
{
	ksft_print_msg("%s%llu 0x%016llx 0x%016llx 0x%016llx %s\n", prefix, m->domain, m->first,
		       m->last, m->phys, m->flags);
}

static inline bool mapping_covers_phys(const struct viommu_mapping *m, unsigned long long phys)
{
	return m->phys <= phys && phys - m->phys <= m->last - m->first;
}

static inline bool mapping_covers_iova(const struct viommu_mapping *m, unsigned long long iova)
{
	return m->first <= iova && iova <= m->last;
}

/*
 * Writable mappings of the doorbell page (phys), in one domain or in any (domain < 0), with
 * the IOVA inside [lo, hi]. Prints them with prefix; returns how many, the first in *first.
 */
static inline int doorbell_mappings(const struct viommu_mapping *m, int n, long long domain,
				    unsigned long long phys, unsigned long long lo,
				    unsigned long long hi, const char *prefix,
				    struct viommu_mapping *first)
{
	int i, k = 0;

	for (i = 0; i < n; i++) {
		if (domain >= 0 && m[i].domain != (unsigned long long)domain)
			continue;
		if (!mapping_covers_phys(&m[i], phys) || m[i].flags[1] != 'w')
			continue;
		if (m[i].first < lo || m[i].last > hi)
			continue;
		if (!k && first)
			*first = m[i];
		if (prefix)
			print_mapping(prefix, &m[i]);
		k++;
	}
	return k;
}

/*
 * Why a doorbell-mapping test cannot run here (NULL: it can, and path names the driver's
 * debugfs mappings file). Doorbells are real mappings only where the ITS driver asks the IOMMU
 * layer for an MSI IOVA (arm64; x86 MSIs to 0xfee00000 never go through it), and only the Rust
 * driver presents them so (a software MSI window: at the doorbell itself by default, at
 * 0x8000000 with sw_msi=1) and has the debugfs file.
 */
static inline const char *doorbell_skip_reason(char *path, size_t size)
{
	if (driver_is("c"))
		return "the C driver reports a bypass doorbell region, has no debugfs mappings";
	if (sw_msi_state() < 0)
		return "not the Rust driver";
	if (!arch_is_arm64())
		return "not arm64: only the ITS doorbell is mapped through an MSI cookie";
	if (viommu_mappings_path(path, size))
		return "no " VIOMMU_DEBUGFS "<virtio device>/mappings (debugfs)";
	return NULL;
}

/*
 * The software MSI window of the groups, where VFIO domains map the doorbell: the doorbell's
 * own range by default (mapped 1:1, *moved false), [SW_MSI_BASE, SW_MSI_LAST] with sw_msi=1
 * (the doorbell lands elsewhere, *moved true). The range is VIOMMU_DOORBELL's when set, else
 * the groups' msi line. Its reserved_regions line goes to line.
 */
static inline void msi_window(unsigned long long *base, unsigned long long *last, bool *moved,
			      char *line, size_t size)
{
	const char *db = viommu_env("VIOMMU_DOORBELL");
	char found[128];

	if (!db && !first_msi_line(found, sizeof(found)))
		db = found;
	*moved = sw_msi_state() > 0;
	if (*moved || !db || sscanf(db, "%llx %llx", base, last) != 2) {
		*base = SW_MSI_BASE;
		*last = SW_MSI_LAST;
	}
	xsnprintf(line, size, "0x%016llx 0x%016llx msi", *base, *last);
}

/* A group whose default domain translates through dma-iommu. */
static inline bool group_is_dma(const char *group)
{
	char type[32];

	if (group_type(group, type, sizeof(type)) < 0)
		return false;
	return !strcmp(type, "DMA") || !strcmp(type, "DMA-FQ");
}

/* --- reserved regions ------------------------------------------------------------------------ */

/* Prints a group's reserved_regions lines (evidence in the test output). Returns 0 or -errno. */
static inline int log_resv_regions(const char *group)
{
	char path[PATH_MAX], text[4096], *line, *save = NULL;
	int ret;

	xsnprintf(path, sizeof(path), "%s/%s/reserved_regions", IOMMU_GROUPS_DIR, group);
	ret = read_text(path, text, sizeof(text));
	if (ret < 0)
		return ret;
	ksft_print_msg("group %s reserved_regions:%s\n", group, ret ? "" : " (none)");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		ksft_print_msg("  %s\n", line);
	return 0;
}

/* Whether a group's reserved_regions has exactly this line. */
static inline bool group_has_resv_line(const char *group, const char *want)
{
	char path[PATH_MAX], text[4096], *line, *save = NULL;

	xsnprintf(path, sizeof(path), "%s/%s/reserved_regions", IOMMU_GROUPS_DIR, group);
	if (read_text(path, text, sizeof(text)) < 0)
		return false;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strcmp(line, want))
			return true;
	return false;
}

#endif /* VIOMMU_MSI_UTIL_H */
