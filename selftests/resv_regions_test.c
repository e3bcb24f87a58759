// SPDX-License-Identifier: GPL-2.0
/*
 * Reserved regions of the IOMMU groups under a virtio-iommu: well-formed, sorted, and the MSI
 * doorbell that QEMU's PROBE reports (VIOMMU_EXPECT_MSI) is in every group; with the Rust
 * driver's sw_msi=1 the software MSI window replaces it (msi_util.h). Without VIOMMU_EXPECT_MSI
 * every group must have the MSI window the first group has. The doorbell is VIOMMU_DOORBELL, or
 * on x86 the architecture's MSI address range; elsewhere its check skips without it.
 */
#include "kselftest_harness.h"
#include "viommu_util.h"
#include "msi_util.h"

#define MAX_REGIONS	64
#define MALFORMED_FMT	"group %s: malformed line '%s' (want '0x%%016llx 0x%%016llx type', start <= end)"

struct region {
	unsigned long long start, end;
	char type[32];
	char line[128];
	bool well_formed;
};

static const char *const region_types[] = { "direct", "direct-relaxable", "reserved", "msi" };

/*
 * Parses one line "0x%016llx 0x%016llx type" strictly: it must read back identically when
 * printed again in the kernel's format.
 */
static bool parse_region(const char *line, struct region *r)
{
	char again[160];
	size_t i;
	int used = 0;

	memset(r, 0, sizeof(*r));
	xsnprintf(r->line, sizeof(r->line), "%s", line);
	if (sscanf(line, "0x%llx 0x%llx %31s%n", &r->start, &r->end, r->type, &used) != 3)
		return false;
	if ((size_t)used != strlen(line))
		return false;
	xsnprintf(again, sizeof(again), "0x%016llx 0x%016llx %s", r->start, r->end, r->type);
	if (strcmp(again, line))
		return false;
	for (i = 0; i < ARRAY_SIZE(region_types); i++)
		if (!strcmp(r->type, region_types[i]))
			break;
	if (i == ARRAY_SIZE(region_types))
		return false;
	r->well_formed = r->start <= r->end;
	return r->well_formed;
}

/* Reads a group's reserved_regions file. Returns the number of lines or -errno. */
static int read_regions(const char *group, struct region *regions, int max, char *text, size_t size)
{
	char path[PATH_MAX], *line, *save = NULL, *copy;
	int n = 0, ret;

	xsnprintf(path, sizeof(path), "%s/%s/reserved_regions", IOMMU_GROUPS_DIR, group);
	ret = read_text(path, text, size);
	if (ret < 0)
		return ret;
	copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	for (line = strtok_r(copy, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save))
		parse_region(line, &regions[n++]);
	free(copy);
	return n;
}

/* x86: the MSI address range (Intel SDM 11.11.1, AMD APM 16.7), what QEMU's PROBE reports. */
#define X86_MSI_RANGE	"0x00000000fee00000 0x00000000feefffff"

/*
 * The msi line every group must have: VIOMMU_EXPECT_MSI (what PROBE reports), or the software
 * window when the driver's sw_msi parameter is on (the probed MSI regions are then ignored).
 * Without VIOMMU_EXPECT_MSI: the first group's msi line (*found true), all groups share it.
 */
static const char *expected_msi(bool *found)
{
	static char line[128];
	const char *env = viommu_env("VIOMMU_EXPECT_MSI");

	*found = false;
	if (env && sw_msi_state() == 1)
		return SW_MSI_REGION;
	if (env)
		return env;
	if (first_msi_line(line, sizeof(line)))
		return NULL;
	*found = true;
	return line;
}

/* The doorbell range the device bypasses: VIOMMU_DOORBELL, else x86's MSI range, else NULL. */
static const char *doorbell_range(void)
{
	struct utsname u;

	if (viommu_env("VIOMMU_DOORBELL"))
		return viommu_env("VIOMMU_DOORBELL");
	if (!uname(&u) && (!strcmp(u.machine, "x86_64") || !strcmp(u.machine + 2, "86")))
		return X86_MSI_RANGE;
	return NULL;
}

/* Lists the groups into *groups; fails the test when there are none. Returns the count. */
static int get_groups(struct __test_metadata *_metadata, char ***groups)
{
	int n = list_dir(IOMMU_GROUPS_DIR, groups);

	EXPECT_LT(0, n) TH_LOG("no IOMMU groups in %s", IOMMU_GROUPS_DIR);
	return n;
}

TEST(show_reserved_regions)
{
	static struct region regions[MAX_REGIONS];
	static char text[8192];
	char **groups, **members, dir[PATH_MAX], who[512];
	int g, m, n, nm;

	n = get_groups(_metadata, &groups);
	if (n <= 0)
		return;
	for (g = 0; g < n; g++) {
		char *line, *save = NULL;

		who[0] = '\0';
		xsnprintf(dir, sizeof(dir), "%s/%s/devices", IOMMU_GROUPS_DIR, groups[g]);
		nm = list_dir(dir, &members);
		for (m = 0; m < nm; m++) {
			size_t len = strlen(who);

			xsnprintf(who + len, sizeof(who) - len, "%s%s", m ? " " : "", members[m]);
		}
		if (nm > 0)
			free_names(members, nm);
		EXPECT_LE(0, read_regions(groups[g], regions, MAX_REGIONS, text, sizeof(text)))
			TH_LOG("cannot read group %s's reserved_regions", groups[g]);
		ksft_print_msg("group %s (%s) reserved_regions:\n", groups[g], who);
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			ksft_print_msg("  %s\n", line);
	}
	free_names(groups, n);
}

TEST(lines_well_formed)
{
	static struct region regions[MAX_REGIONS];
	static char text[8192];
	char **groups;
	int g, i, n, nr;

	n = get_groups(_metadata, &groups);
	if (n <= 0)
		return;
	for (g = 0; g < n; g++) {
		nr = read_regions(groups[g], regions, MAX_REGIONS, text, sizeof(text));
		ASSERT_LE(0, nr) TH_LOG("cannot read group %s's reserved_regions", groups[g]);
		for (i = 0; i < nr; i++) {
			EXPECT_TRUE(regions[i].well_formed)
				TH_LOG(MALFORMED_FMT, groups[g], regions[i].line);
		}
	}
	free_names(groups, n);
}

TEST(lines_sorted_and_merged)
{
	static struct region regions[MAX_REGIONS];
	static char text[8192];
	char **groups;
	int g, i, j, n, nr;

	n = get_groups(_metadata, &groups);
	if (n <= 0)
		return;
	for (g = 0; g < n; g++) {
		nr = read_regions(groups[g], regions, MAX_REGIONS, text, sizeof(text));
		ASSERT_LE(0, nr);
		for (i = 1; i < nr; i++) {
			EXPECT_LE(regions[i - 1].start, regions[i].start)
				TH_LOG("group %s: '%s' comes after '%s'", groups[g],
				       regions[i].line, regions[i - 1].line);
		}
		/* The core merges overlapping or adjacent regions of one type. */
		for (i = 0; i < nr; i++) {
			for (j = i + 1; j < nr; j++) {
				if (strcmp(regions[i].type, regions[j].type))
					continue;
				EXPECT_TRUE(regions[j].start > regions[i].end + 1 ||
					    regions[i].start > regions[j].end + 1)
					TH_LOG("group %s: '%s' and '%s' overlap or touch",
					       groups[g], regions[i].line, regions[j].line);
			}
		}
	}
	free_names(groups, n);
}

TEST(expected_msi_region)
{
	static struct region regions[MAX_REGIONS];
	static char text[8192];
	struct region w;
	char **groups;
	int g, i, n, nr;
	bool found;
	const char *want = expected_msi(&found);

	if (!want || !*want)
		SKIP(return, "no group has an msi region and VIOMMU_EXPECT_MSI is not set");
	if (found)
		TH_LOG("VIOMMU_EXPECT_MSI unset: every group needs the first group's '%s'", want);
	ASSERT_TRUE(parse_region(want, &w)) TH_LOG("VIOMMU_EXPECT_MSI='%s' is malformed", want);
	n = get_groups(_metadata, &groups);
	if (n <= 0)
		return;
	for (g = 0; g < n; g++) {
		bool found = false;

		nr = read_regions(groups[g], regions, MAX_REGIONS, text, sizeof(text));
		ASSERT_LE(0, nr);
		for (i = 0; i < nr; i++)
			found |= !strcmp(regions[i].line, want);
		TH_LOG("group %s: '%s' %s", groups[g], want, found ? "present" : "MISSING");
		EXPECT_TRUE(found) TH_LOG("group %s lacks '%s'", groups[g], want);
	}
	free_names(groups, n);
}

TEST(single_msi_region)
{
	static struct region regions[MAX_REGIONS];
	static char text[8192];
	char **groups;
	int g, i, n, nr, msi;
	bool found;
	const char *want = expected_msi(&found);

	if (!want || !*want)
		SKIP(return, "no group has an msi region and VIOMMU_EXPECT_MSI is not set");
	n = get_groups(_metadata, &groups);
	if (n <= 0)
		return;
	for (g = 0; g < n; g++) {
		nr = read_regions(groups[g], regions, MAX_REGIONS, text, sizeof(text));
		ASSERT_LE(0, nr);
		msi = 0;
		for (i = 0; i < nr; i++)
			msi += !strcmp(regions[i].type, "msi");
		/*
		 * One MSI window per group: the probed doorbell (as a hardware or a software MSI
		 * region), or the software window when the driver ignores it; never both.
		 */
		EXPECT_EQ(1, msi) TH_LOG("group %s has %d msi regions", groups[g], msi);
	}
	free_names(groups, n);
}

/*
 * The device bypasses its doorbell range whatever is mapped there, so DMA must never get an IOVA
 * inside it: some msi or reserved region of every group must cover it.
 */
TEST(doorbell_outside_dma_space)
{
	static struct region regions[MAX_REGIONS];
	static char text[8192];
	const char *range = doorbell_range();
	unsigned long long first, last;
	char **groups;
	int g, i, n, nr;

	if (!range || sscanf(range, "%llx %llx", &first, &last) != 2)
		SKIP(return, "VIOMMU_DOORBELL unset: only the host knows the MSI doorbell here");
	n = get_groups(_metadata, &groups);
	if (n <= 0)
		return;
	for (g = 0; g < n; g++) {
		const char *by = NULL;

		nr = read_regions(groups[g], regions, MAX_REGIONS, text, sizeof(text));
		ASSERT_LE(0, nr);
		for (i = 0; i < nr && !by; i++) {
			if (regions[i].start <= first && regions[i].end >= last &&
			    (!strcmp(regions[i].type, "msi") ||
			     !strcmp(regions[i].type, "reserved")))
				by = regions[i].line;
		}
		TH_LOG("group %s: doorbell %s covered by '%s'", groups[g], range,
		       by ? by : "nothing");
		EXPECT_NE(NULL, by)
			TH_LOG("group %s: DMA could be given doorbell IOVAs", groups[g]);
	}
	free_names(groups, n);
}

TEST_HARNESS_MAIN
