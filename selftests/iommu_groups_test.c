// SPDX-License-Identifier: GPL-2.0
/*
 * IOMMU groups under a virtio-iommu: one IOMMU instance, every PCI function except the
 * virtio-iommu itself in a DMA (or DMA-FQ) group, and consistent sysfs links both ways.
 */
#include "kselftest_harness.h"
#include "viommu_util.h"

static bool same_file(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	if (!realpath(a, ra) || !realpath(b, rb))
		return false;
	return strcmp(ra, rb) == 0;
}

/* The only entry of /sys/class/iommu, or "" (and the count) when there is not exactly one. */
static int the_iommu(char *name, size_t size)
{
	char **names;
	int n;

	name[0] = '\0';
	n = list_dir(IOMMU_CLASS_DIR, &names);
	if (n < 0)
		return n;
	if (n == 1)
		xsnprintf(name, size, "%s", names[0]);
	free_names(names, n);
	return n;
}

TEST(one_iommu_instance)
{
	char **names;
	int i, n;

	n = list_dir(IOMMU_CLASS_DIR, &names);
	ASSERT_LE(0, n) TH_LOG("cannot list %s: %s", IOMMU_CLASS_DIR, strerror(-n));
	for (i = 0; i < n; i++) {
		char path[PATH_MAX], real[PATH_MAX];

		xsnprintf(path, sizeof(path), "%s/%s", IOMMU_CLASS_DIR, names[i]);
		TH_LOG("iommu %s -> %s", names[i], realpath(path, real) ? real : "?");
	}
	free_names(names, n);
	ASSERT_EQ(1, n) TH_LOG("expected exactly one entry in %s", IOMMU_CLASS_DIR);
}

TEST(iommu_instance_belongs_to_viommu)
{
	char name[256], path[PATH_MAX], real[PATH_MAX];
	struct viommu_info v;

	ASSERT_EQ(0, viommu_find(&v)) TH_LOG("no virtio-iommu (virtio device ID %d) in %s",
					     VIRTIO_ID_IOMMU, VIRTIO_DEVICES_DIR);
	ASSERT_EQ(1, the_iommu(name, sizeof(name)));
	xsnprintf(path, sizeof(path), "%s/%s", IOMMU_CLASS_DIR, name);
	ASSERT_NE(NULL, realpath(path, real));
	TH_LOG("iommu %s at %s; virtio-iommu %s (driver %s) on %s", name, real, v.vdev,
	       v.driver[0] ? v.driver : "none", v.transport);
	EXPECT_TRUE(path_below(real, v.transport))
		TH_LOG("the iommu class device is not below the virtio-iommu's %s", v.transport);
	EXPECT_STREQ(name, v.iommu);
}

TEST(every_endpoint_has_group)
{
	struct pci_dev_info *devs;
	int i, n, endpoints = 0;

	n = pci_list(&devs);
	ASSERT_LT(0, n) TH_LOG("no PCI devices");
	for (i = 0; i < n; i++) {
		if (pci_is_viommu(&devs[i]))
			continue;
		endpoints++;
		TH_LOG("%s [%04x:%04x] group %s", devs[i].bdf, devs[i].vendor, devs[i].device,
		       devs[i].group[0] ? devs[i].group : "NONE");
		EXPECT_NE(0, devs[i].group[0])
			TH_LOG("%s [%04x:%04x] has no iommu_group", devs[i].bdf, devs[i].vendor,
			       devs[i].device);
	}
	free(devs);
	EXPECT_LT(0, endpoints) TH_LOG("no PCI endpoint besides the virtio-iommu");
}

TEST(group_type_is_dma)
{
	struct pci_dev_info *devs;
	int i, n, checked = 0;
	char type[64];

	n = pci_list(&devs);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++) {
		if (!devs[i].group[0])
			continue;
		checked++;
		ASSERT_LE(0, group_type(devs[i].group, type, sizeof(type)))
			TH_LOG("cannot read the type of group %s", devs[i].group);
		TH_LOG("%s [%04x:%04x] group %s type %s", devs[i].bdf, devs[i].vendor,
		       devs[i].device, devs[i].group, type);
		EXPECT_TRUE(!strcmp(type, "DMA") || !strcmp(type, "DMA-FQ"))
			TH_LOG("%s: group %s has type %s, want DMA or DMA-FQ", devs[i].bdf,
			       devs[i].group, type);
	}
	free(devs);
	EXPECT_LT(0, checked) TH_LOG("no device has an iommu_group");
}

TEST(group_lists_its_device)
{
	struct pci_dev_info *devs;
	char path[PATH_MAX];
	int i, n, checked = 0;

	n = pci_list(&devs);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++) {
		if (!devs[i].group[0])
			continue;
		checked++;
		xsnprintf(path, sizeof(path), "%s/%s/devices/%s", IOMMU_GROUPS_DIR, devs[i].group,
			  devs[i].bdf);
		TH_LOG("%s in %s", devs[i].bdf, path);
		EXPECT_TRUE(same_file(path, devs[i].dir))
			TH_LOG("%s does not lead to %s", path, devs[i].dir);
	}
	free(devs);
	EXPECT_LT(0, checked) TH_LOG("no device has an iommu_group");
}

TEST(every_group_is_consistent)
{
	char **groups, **members;
	int g, m, ng, nm;

	ng = list_dir(IOMMU_GROUPS_DIR, &groups);
	ASSERT_LT(0, ng) TH_LOG("no IOMMU groups in %s", IOMMU_GROUPS_DIR);
	for (g = 0; g < ng; g++) {
		char dir[PATH_MAX];

		xsnprintf(dir, sizeof(dir), "%s/%s/devices", IOMMU_GROUPS_DIR, groups[g]);
		nm = list_dir(dir, &members);
		EXPECT_LT(0, nm) TH_LOG("group %s has no devices", groups[g]);
		for (m = 0; m < nm; m++) {
			char link[PATH_MAX], back[32];

			xsnprintf(link, sizeof(link), "%s/%s/iommu_group", dir, members[m]);
			TH_LOG("group %s: %s", groups[g], members[m]);
			EXPECT_EQ(0, link_basename(link, back, sizeof(back)))
				TH_LOG("%s has no iommu_group link", members[m]);
			EXPECT_STREQ(groups[g], back);
		}
		if (nm > 0)
			free_names(members, nm);
	}
	free_names(groups, ng);
}

TEST(viommu_has_no_group)
{
	struct pci_dev_info *devs;
	char link[PATH_MAX];
	int i, n, found = 0;

	n = pci_list(&devs);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++) {
		if (!pci_is_viommu(&devs[i]))
			continue;
		found++;
		xsnprintf(link, sizeof(link), "%s/iommu_group", devs[i].dir);
		TH_LOG("virtio-iommu %s: iommu_group %s", devs[i].bdf,
		       path_exists(link) ? devs[i].group : "absent");
		EXPECT_FALSE(path_exists(link))
			TH_LOG("the virtio-iommu %s is in group %s", devs[i].bdf, devs[i].group);
	}
	free(devs);
	EXPECT_EQ(1, found) TH_LOG("expected one virtio-iommu PCI function, found %d", found);
}

TEST(iommu_devices_cover_groups)
{
	char name[256], iommu_dir[PATH_MAX], path[PATH_MAX], **linked;
	struct pci_dev_info *devs;
	int i, n, nl, checked = 0;

	ASSERT_EQ(1, the_iommu(name, sizeof(name)));
	xsnprintf(iommu_dir, sizeof(iommu_dir), "%s/%s", IOMMU_CLASS_DIR, name);
	n = pci_list(&devs);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++) {
		if (!devs[i].group[0])
			continue;
		checked++;
		xsnprintf(path, sizeof(path), "%s/devices/%s", iommu_dir, devs[i].bdf);
		TH_LOG("%s: %s", devs[i].bdf, path_exists(path) ? path : "not listed");
		EXPECT_TRUE(same_file(path, devs[i].dir))
			TH_LOG("%s is not listed in %s/devices", devs[i].bdf, iommu_dir);
		xsnprintf(path, sizeof(path), "%s/iommu", devs[i].dir);
		EXPECT_TRUE(same_file(path, iommu_dir))
			TH_LOG("%s/iommu does not lead to %s", devs[i].dir, iommu_dir);
	}
	free(devs);
	EXPECT_LT(0, checked);

	/* And the other way round: whatever the iommu lists is in a group. */
	xsnprintf(path, sizeof(path), "%s/devices", iommu_dir);
	nl = list_dir(path, &linked);
	ASSERT_LT(0, nl) TH_LOG("%s is empty", path);
	for (i = 0; i < nl; i++) {
		char link[PATH_MAX], group[32];

		xsnprintf(link, sizeof(link), "%s/devices/%s/iommu_group", iommu_dir, linked[i]);
		EXPECT_EQ(0, link_basename(link, group, sizeof(group)))
			TH_LOG("%s is listed by the iommu but has no group", linked[i]);
	}
	free_names(linked, nl);
}

TEST_HARNESS_MAIN
