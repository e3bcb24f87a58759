// SPDX-License-Identifier: GPL-2.0
/*
 * User-space DMA through the virtio-iommu with VFIO: QEMU's edu device is bound to vfio-pci and
 * copies RAM -> edu -> RAM between buffers mapped at chosen IOVAs, through the legacy type1
 * container and through iommufd. Also: mappings survive the domain being torn down on the
 * device (detach of its last endpoint, then re-attach: the driver must replay them), and DMA to
 * an unmapped IOVA is blocked and reported to the IOMMU core (trace event iommu:io_page_fault).
 * And MSIs: edu's MSI is enabled through VFIO with an eventfd, edu raises interrupts (on request
 * and at the end of a DMA), the eventfd must fire; with the driver's sw_msi=1 the doorbell must
 * also be a real mapping in the VFIO domain's software MSI window (debugfs mappings).
 *
 * edu (QEMU docs/specs/edu.rst): BAR0 registers 0x00 ID (0x010000ed), 0x04 liveness (reads back
 * the inverse), 0x24 interrupt status, 0x60 interrupt raise (ORed into the status, raises the
 * interrupt), 0x64 interrupt acknowledge (clears those bits), 0x80 DMA source, 0x88 DMA
 * destination, 0x90 count, 0x98 command (bit 0 start/busy, bit 1 direction: 0 RAM -> edu,
 * 1 edu -> RAM, bit 2 raise interrupt 0x100 when done). Its buffer is at device address 0x40000,
 * 4 KiB; an edu address outside it makes QEMU abort, and RAM addresses are masked to 28 bits.
 * edu has one MSI vector (no MSI-X).
 */
#include <poll.h>
#include <linux/types.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "viommu_util.h"
#include "vfio_util.h"
#include "msi_util.h"

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_ID			0x010000edU
#define EDU_REG_ID		0x00
#define EDU_REG_LIVENESS	0x04
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_CMD_START		0x1
#define EDU_CMD_TO_RAM		0x2
#define EDU_CMD_IRQ		0x4
#define EDU_DMA_IRQ_VALUE	0x100U
#define EDU_BUF			0x40000ULL
#define EDU_BUF_SIZE		4096U

/* IOVAs: below 2^28 (edu), away from the arm64 ITS doorbell (0x08090000) and SW_MSI (0x8000000). */
#define SRC_IOVA		0x00100000ULL
#define DST_IOVA		0x00200000ULL
#define VICTIM_IOVA		0x00300000ULL

#define DMA_TIMEOUT_S		5.0
#define FAULT_WAIT_S		3.0
#define TRACEFS			"/sys/kernel/tracing"
#define FAULT_EVENT		TRACEFS "/events/iommu/io_page_fault/enable"
#define TEST_TIMEOUT_S		120
#define C_ARM64_TYPE1_MSI_REASON	"C driver on arm64: the ITS doorbell is a bypass MSI region, so type1 sets no MSI cookie and the ITS refuses the vector (ENOSPC, then a leaked ITS slot and a WARN at unbind)"
#define NO_COOKIE_HINT	": no MSI cookie on the type1 domain (no software MSI window in the group's reserved regions)"

FIXTURE(edu) {
	struct pci_dev_info pci;
	char orig_driver[64];
	bool bound;
	int container, group_fd, iommufd, device, eventfd;
	__u8 *bar0;		/* MMIO: accessed through rd32() and friends only */
	size_t bar0_size;
	__u64 cfg_offset;
	size_t buf_size;
	__u8 *src, *dst, *victim;
};

static size_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (size_t)p : 4096;
}

static void fill_pattern(__u8 *buf, size_t len, __u32 seed)
{
	__u32 x = seed ? seed : 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (__u8)x;
	}
}

/* After a helper that may SKIP: whether the test stops there. */
static bool skipped(struct __test_metadata *_metadata)
{
	return _metadata->exit_code == KSFT_SKIP;
}

/*
 * BAR0 accesses: one aligned load or store each, which the compiler may neither merge, split,
 * nor drop (relaxed atomics; edu's registers need no ordering beyond program order).
 */
static __u32 rd32(struct _test_data_edu *self, unsigned int reg)
{
	return __atomic_load_n((__u32 *)(self->bar0 + reg), __ATOMIC_RELAXED);
}

static void wr32(struct _test_data_edu *self, unsigned int reg, __u32 val)
{
	__atomic_store_n((__u32 *)(self->bar0 + reg), val, __ATOMIC_RELAXED);
}

static __u64 rd64(struct _test_data_edu *self, unsigned int reg)
{
	return __atomic_load_n((__u64 *)(self->bar0 + reg), __ATOMIC_RELAXED);
}

static void wr64(struct _test_data_edu *self, unsigned int reg, __u64 val)
{
	__atomic_store_n((__u64 *)(self->bar0 + reg), val, __ATOMIC_RELAXED);
}

/*
 * One edu DMA of len bytes between the RAM IOVA and the edu buffer. Returns 0 once the device
 * clears the start bit, -ETIMEDOUT otherwise. A blocked DMA also completes: edu ignores errors.
 */
static int edu_dma_cmd(struct _test_data_edu *self, __u64 iova, bool to_ram, size_t len,
		       __u64 extra_cmd)
{
	double end;

	if (len > EDU_BUF_SIZE)
		return -EINVAL;
	wr64(self, EDU_REG_DMA_SRC, to_ram ? EDU_BUF : iova);
	wr64(self, EDU_REG_DMA_DST, to_ram ? iova : EDU_BUF);
	wr64(self, EDU_REG_DMA_COUNT, len);
	wr64(self, EDU_REG_DMA_CMD, EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0) | extra_cmd);
	end = now_seconds() + DMA_TIMEOUT_S;
	while (rd64(self, EDU_REG_DMA_CMD) & EDU_CMD_START) {
		if (now_seconds() > end)
			return -ETIMEDOUT;
		usleep(1000);
	}
	return 0;
}

static int edu_dma(struct _test_data_edu *self, __u64 iova, bool to_ram, size_t len)
{
	return edu_dma_cmd(self, iova, to_ram, len, 0);
}

FIXTURE_SETUP(edu)
{
	char group_dev[PATH_MAX], drv[64];
	size_t i;
	int n, ret;

	self->container = -1;
	self->group_fd = -1;
	self->iommufd = -1;
	self->device = -1;
	self->eventfd = -1;
	if (pci_find(EDU_VENDOR, EDU_DEVICE, &self->pci))
		SKIP(return, "no edu device (%04x:%04x): QEMU needs -device edu", EDU_VENDOR,
		     EDU_DEVICE);
	ASSERT_NE(0, self->pci.group[0])
		TH_LOG("edu %s has no iommu_group: not behind the IOMMU", self->pci.bdf);
	n = group_device_count(self->pci.group);
	ASSERT_LE(0, n);
	if (n != 1)
		SKIP(return, "edu %s shares iommu group %s with %d other devices", self->pci.bdf,
		     self->pci.group, n - 1);
	if (!driver_exists("vfio-pci"))
		SKIP(return, "no vfio-pci driver (CONFIG_VFIO_PCI)");

	ASSERT_EQ(0, pci_driver_of(self->pci.bdf, self->orig_driver, sizeof(self->orig_driver)));
	ASSERT_EQ(0, pci_unbind(self->pci.bdf)) TH_LOG("cannot unbind %s from %s",
						       self->pci.bdf, self->orig_driver);
	ASSERT_EQ(0, pci_set_override(self->pci.bdf, "vfio-pci"));
	self->bound = true;
	ret = pci_probe(self->pci.bdf);
	ASSERT_EQ(0, ret) TH_LOG("drivers_probe %s: %s", self->pci.bdf, strerror(-ret));
	ASSERT_EQ(0, pci_driver_of(self->pci.bdf, drv, sizeof(drv)));
	ASSERT_STREQ("vfio-pci", drv);
	xsnprintf(group_dev, sizeof(group_dev), "/dev/vfio/%s", self->pci.group);
	TH_LOG("edu %s (iommu group %s) bound to vfio-pci (was: %s)", self->pci.bdf,
	       self->pci.group, self->orig_driver[0] ? self->orig_driver : "no driver");

	self->buf_size = page_size() > EDU_BUF_SIZE ? page_size() : EDU_BUF_SIZE;
	self->src = mmap(NULL, 3 * self->buf_size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	self->dst = self->src + self->buf_size;
	self->victim = self->dst + self->buf_size;
	for (i = 0; i < 3 * self->buf_size; i++)	/* fault them in */
		self->src[i] = 0;
}

FIXTURE_TEARDOWN(edu)
{
	char drv[64];

	if (self->bar0)
		munmap(self->bar0, self->bar0_size);
	if (self->device >= 0)
		close(self->device);	/* also disables MSI and releases the eventfd */
	if (self->eventfd >= 0)
		close(self->eventfd);
	if (self->group_fd >= 0)
		close(self->group_fd);
	if (self->container >= 0)
		close(self->container);
	if (self->iommufd >= 0)
		close(self->iommufd);
	if (self->src && self->src != MAP_FAILED)
		munmap(self->src, 3 * self->buf_size);
	if (!self->bound)
		return;
	/* Every fd is closed: vfio-pci's remove does not wait for users. */
	EXPECT_EQ(0, pci_unbind(self->pci.bdf));
	EXPECT_EQ(0, pci_set_override(self->pci.bdf, NULL));
	EXPECT_EQ(0, self->orig_driver[0] ? pci_bind(self->pci.bdf, self->orig_driver) : 0);
	if (pci_driver_of(self->pci.bdf, drv, sizeof(drv)) == 0)
		TH_LOG("edu %s restored: %s", self->pci.bdf, drv[0] ? drv : "no driver");
}

/*
 * With the device fd open (and DMA allowed by the backend): bus mastering on through the VFIO
 * config region, BAR0 mapped, edu identified and alive.
 */
static void edu_enable(struct __test_metadata *_metadata, struct _test_data_edu *self)
{
	struct vfio_region_info cfg = {
		.argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX
	};
	struct vfio_region_info bar = { .argsz = sizeof(bar), .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	__u16 cmd;
	__u32 v;

	ASSERT_EQ(0, ioctl(self->device, VFIO_DEVICE_GET_INFO, &info))
		TH_LOG("VFIO_DEVICE_GET_INFO: %s", strerror(errno));
	ASSERT_NE(0U, info.flags & VFIO_DEVICE_FLAGS_PCI);
	ASSERT_EQ(0, ioctl(self->device, VFIO_DEVICE_GET_REGION_INFO, &cfg))
		TH_LOG("config region info: %s", strerror(errno));
	self->cfg_offset = cfg.offset;
	ASSERT_EQ(2, pread(self->device, &cmd, 2, cfg.offset + PCI_COMMAND))
		TH_LOG("config read: %s", strerror(errno));
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	ASSERT_EQ(2, pwrite(self->device, &cmd, 2, cfg.offset + PCI_COMMAND))
		TH_LOG("config write: %s", strerror(errno));
	cmd = 0;
	ASSERT_EQ(2, pread(self->device, &cmd, 2, cfg.offset + PCI_COMMAND));
	ASSERT_EQ(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
		  cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER))
		TH_LOG("PCI_COMMAND 0x%04x: bus mastering did not stick", cmd);

	ASSERT_EQ(0, ioctl(self->device, VFIO_DEVICE_GET_REGION_INFO, &bar))
		TH_LOG("BAR0 region info: %s", strerror(errno));
	ASSERT_NE(0U, bar.flags & VFIO_REGION_INFO_FLAG_MMAP) TH_LOG("BAR0 is not mmap-able");
	ASSERT_LE(0x100ULL, bar.size);
	self->bar0 = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, self->device,
			  bar.offset);
	ASSERT_NE(MAP_FAILED, (void *)self->bar0) TH_LOG("mmap BAR0: %s", strerror(errno));
	self->bar0_size = bar.size;

	v = rd32(self, EDU_REG_ID);
	ASSERT_EQ(EDU_ID, v) TH_LOG("edu ID register 0x%08x", v);
	wr32(self, EDU_REG_LIVENESS, 0x12345678);
	v = rd32(self, EDU_REG_LIVENESS);
	ASSERT_EQ(~0x12345678U, v) TH_LOG("edu liveness register 0x%08x", v);
}

/*
 * RAM (src at src_iova) -> edu -> RAM (dst at dst_iova), one page of a fresh pattern; asserts
 * that dst ends up identical to src.
 */
static void edu_roundtrip(struct __test_metadata *_metadata, struct _test_data_edu *self,
			  __u8 *src, __u64 src_iova, __u8 *dst, __u64 dst_iova,
			  __u32 seed, const char *what)
{
	size_t k;

	fill_pattern(src, EDU_BUF_SIZE, seed);
	memset(dst, 0x5a, EDU_BUF_SIZE);
	ASSERT_EQ(0, edu_dma(self, src_iova, false, EDU_BUF_SIZE))
		TH_LOG("%s: RAM -> edu DMA from 0x%llx did not complete", what,
		       (unsigned long long)src_iova);
	ASSERT_EQ(0, edu_dma(self, dst_iova, true, EDU_BUF_SIZE))
		TH_LOG("%s: edu -> RAM DMA to 0x%llx did not complete", what,
		       (unsigned long long)dst_iova);
	for (k = 0; k < EDU_BUF_SIZE && src[k] == dst[k]; k++)
		;
	TH_LOG("%s: RAM@0x%llx -> edu -> RAM@0x%llx, %u bytes: %s", what,
	       (unsigned long long)src_iova, (unsigned long long)dst_iova, EDU_BUF_SIZE,
	       k == EDU_BUF_SIZE ? "identical" : "DIFFERENT");
	ASSERT_EQ(EDU_BUF_SIZE, k) TH_LOG("%s: first difference at byte %zu (0x%02x, want 0x%02x)",
					  what, k, dst[k], src[k]);
}

/* --- legacy type1 container ------------------------------------------------------------------ */

static void type1_map(struct __test_metadata *_metadata, struct _test_data_edu *self, void *buf,
		      __u64 iova)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)buf,
		.iova = iova,
		.size = self->buf_size,
	};

	ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_MAP_DMA, &map))
		TH_LOG("VFIO_IOMMU_MAP_DMA iova 0x%llx: %s", (unsigned long long)iova,
		       strerror(errno));
}

/* A type1v2 container with edu's group in it (the group's domain is allocated here). */
static void type1_open(struct __test_metadata *_metadata, struct _test_data_edu *self)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX], sysdev[PATH_MAX];
	int ret;

	self->container = open_dev_node("/dev/vfio/vfio", "/sys/class/misc/vfio/dev", O_RDWR, true);
	if (self->container < 0)
		SKIP(return, "/dev/vfio/vfio: %s (CONFIG_VFIO_CONTAINER)", strerror(errno));
	ASSERT_EQ(VFIO_API_VERSION, ioctl(self->container, VFIO_GET_API_VERSION));
	ret = ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU);
	if (ret <= 0)
		SKIP(return, "the container has no VFIO_TYPE1v2_IOMMU (CONFIG_VFIO_IOMMU_TYPE1)");

	xsnprintf(path, sizeof(path), "/dev/vfio/%s", self->pci.group);
	xsnprintf(sysdev, sizeof(sysdev), "/sys/class/vfio/%s/dev", self->pci.group);
	self->group_fd = open_dev_node(path, sysdev, O_RDWR, true);
	ASSERT_LE(0, self->group_fd) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ(0, ioctl(self->group_fd, VFIO_GROUP_GET_STATUS, &status));
	ASSERT_NE(0U, status.flags & VFIO_GROUP_FLAGS_VIABLE)
		TH_LOG("group %s is not viable", self->pci.group);
	ASSERT_EQ(0, ioctl(self->group_fd, VFIO_GROUP_SET_CONTAINER, &self->container))
		TH_LOG("VFIO_GROUP_SET_CONTAINER: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		TH_LOG("VFIO_SET_IOMMU type1v2: %s", strerror(errno));
}

/* The device fd from the group; then edu_enable(). */
static void type1_device(struct __test_metadata *_metadata, struct _test_data_edu *self)
{
	self->device = ioctl(self->group_fd, VFIO_GROUP_GET_DEVICE_FD, self->pci.bdf);
	ASSERT_LE(0, self->device) TH_LOG("VFIO_GROUP_GET_DEVICE_FD: %s", strerror(errno));
	edu_enable(_metadata, self);
}

TEST_F_TIMEOUT(edu, type1_dma_roundtrip, TEST_TIMEOUT_S)
{
	type1_open(_metadata, self);
	if (skipped(_metadata))
		return;
	type1_map(_metadata, self, self->src, SRC_IOVA);
	type1_map(_metadata, self, self->dst, DST_IOVA);
	type1_device(_metadata, self);
	edu_roundtrip(_metadata, self, self->src, SRC_IOVA, self->dst, DST_IOVA, 0x1234567,
		      "type1");
	/* Swap the roles: the other buffer as the source. */
	edu_roundtrip(_metadata, self, self->dst, DST_IOVA, self->src, SRC_IOVA, 0x7654321,
		      "type1 reversed");
}

/* --- iommufd ---------------------------------------------------------------------------------- */

static void iommufd_open(struct __test_metadata *_metadata, struct _test_data_edu *self,
			 __u32 *ioas_id)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };

	self->iommufd = open_dev_node("/dev/iommu", "/sys/class/misc/iommu/dev", O_RDWR, true);
	if (self->iommufd < 0)
		SKIP(return, "/dev/iommu: %s (CONFIG_IOMMUFD)", strerror(errno));
	ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_IOAS_ALLOC, &alloc))
		TH_LOG("IOMMU_IOAS_ALLOC: %s", strerror(errno));
	*ioas_id = alloc.out_ioas_id;
}

static void ioas_map(struct __test_metadata *_metadata, struct _test_data_edu *self, __u32 ioas,
		     void *buf, __u64 iova)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)buf,
		.length = self->buf_size,
		.iova = iova,
	};

	ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_IOAS_MAP, &map))
		TH_LOG("IOMMU_IOAS_MAP iova 0x%llx: %s", (unsigned long long)iova, strerror(errno));
	ASSERT_EQ(iova, map.iova);
}

static void ioas_unmap(struct __test_metadata *_metadata, struct _test_data_edu *self,
		       __u32 ioas, __u64 iova)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = ioas,
		.iova = iova,
		.length = self->buf_size,
	};

	ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_IOAS_UNMAP, &unmap))
		TH_LOG("IOMMU_IOAS_UNMAP iova 0x%llx: %s", (unsigned long long)iova,
		       strerror(errno));
	ASSERT_EQ(self->buf_size, unmap.length);
}

/* Opens the device's cdev and binds it to the iommufd. Returns the device id. */
static __u32 cdev_bind(struct __test_metadata *_metadata, struct _test_data_edu *self)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	char dir[PATH_MAX], node[PATH_MAX], sysdev[PATH_MAX], **names;
	int i, n;

	xsnprintf(dir, sizeof(dir), "%s/vfio-dev", self->pci.dir);
	n = list_dir(dir, &names);
	if (n < 0)
		SKIP(return 0, "%s has no vfio-dev directory: %s (CONFIG_VFIO_DEVICE_CDEV)",
		     self->pci.bdf, strerror(-n));
	for (i = 0; i < n && strncmp(names[i], "vfio", 4); i++)
		;
	if (i == n) {
		free_names(names, n);
		SKIP(return 0, "no vfioN under %s/vfio-dev", self->pci.bdf);
	}
	xsnprintf(node, sizeof(node), "/dev/vfio/devices/%s", names[i]);
	xsnprintf(sysdev, sizeof(sysdev), "%s/%s/dev", dir, names[i]);
	free_names(names, n);
	self->device = open_dev_node(node, sysdev, O_RDWR, true);
	if (self->device < 0) {
		ASSERT_LE(0, self->device) TH_LOG("%s: %s", node, strerror(errno));
		return 0;
	}
	bind.iommufd = self->iommufd;
	if (ioctl(self->device, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		ASSERT_EQ(0, errno) TH_LOG("VFIO_DEVICE_BIND_IOMMUFD: %s", strerror(errno));
		return 0;
	}
	TH_LOG("%s bound to iommufd: dev_id %u", node, bind.out_devid);
	return bind.out_devid;
}

/* Attaches the device to an IOAS or HWPT; returns the HWPT id it ended up in. */
static __u32 cdev_attach(struct __test_metadata *_metadata, struct _test_data_edu *self,
			 __u32 pt_id)
{
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach), .pt_id = pt_id };

	if (ioctl(self->device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) {
		ASSERT_EQ(0, errno) TH_LOG("VFIO_DEVICE_ATTACH_IOMMUFD_PT %u: %s", pt_id,
					   strerror(errno));
		return 0;
	}
	return attach.pt_id;
}

TEST_F_TIMEOUT(edu, iommufd_dma_roundtrip, TEST_TIMEOUT_S)
{
	__u32 ioas = 0, hwpt;

	iommufd_open(_metadata, self, &ioas);
	if (skipped(_metadata))
		return;
	ioas_map(_metadata, self, ioas, self->src, SRC_IOVA);
	ioas_map(_metadata, self, ioas, self->dst, DST_IOVA);
	cdev_bind(_metadata, self);
	if (skipped(_metadata))
		return;
	hwpt = cdev_attach(_metadata, self, ioas);
	TH_LOG("attached to IOAS %u: HWPT %u", ioas, hwpt);
	edu_enable(_metadata, self);
	edu_roundtrip(_metadata, self, self->src, SRC_IOVA, self->dst, DST_IOVA, 0x2468ace,
		      "iommufd");
	/* A mapping added while attached reaches the device too. */
	ioas_map(_metadata, self, ioas, self->victim, VICTIM_IOVA);
	edu_roundtrip(_metadata, self, self->dst, DST_IOVA, self->victim, VICTIM_IOVA, 0x1357bdf,
		      "iommufd, mapped after attach");
}

/* A HWPT of our own over ioas for dev_id (allocated and filled now, before any attach). */
static __u32 hwpt_alloc(struct __test_metadata *_metadata, struct _test_data_edu *self,
			__u32 dev_id, __u32 ioas)
{
	struct iommu_hwpt_alloc alloc = {
		.size = sizeof(alloc),
		.dev_id = dev_id,
		.pt_id = ioas,
		.data_type = IOMMU_HWPT_DATA_NONE,
	};

	if (ioctl(self->iommufd, IOMMU_HWPT_ALLOC, &alloc)) {
		ASSERT_EQ(0, errno) TH_LOG("IOMMU_HWPT_ALLOC: %s", strerror(errno));
		return 0;
	}
	return alloc.out_hwpt_id;
}

TEST_F_TIMEOUT(edu, iommufd_replay_after_reattach, TEST_TIMEOUT_S)
{
	struct vfio_device_detach_iommufd_pt detach = { .argsz = sizeof(detach) };
	__u32 ioas = 0, dev_id, hwpt;
	__u8 stale[EDU_BUF_SIZE];

	iommufd_open(_metadata, self, &ioas);
	if (skipped(_metadata))
		return;
	ioas_map(_metadata, self, ioas, self->src, SRC_IOVA);
	ioas_map(_metadata, self, ioas, self->dst, DST_IOVA);
	dev_id = cdev_bind(_metadata, self);
	if (skipped(_metadata))
		return;

	/* A HWPT of our own, so that the same domain can be attached again after the detach. */
	hwpt = hwpt_alloc(_metadata, self, dev_id, ioas);
	ASSERT_EQ(hwpt, cdev_attach(_metadata, self, hwpt));
	TH_LOG("HWPT %u (IOAS %u) attached", hwpt, ioas);
	edu_enable(_metadata, self);
	edu_roundtrip(_metadata, self, self->src, SRC_IOVA, self->dst, DST_IOVA, 0xbeef01,
		      "first attach");

	/*
	 * edu is the only endpoint of that domain: after the detach the device no longer knows the
	 * domain (virtio-iommu: a domain without endpoints ceases to exist), so DMA works again
	 * only if the driver replays the HWPT's mappings on the next attach.
	 */
	ASSERT_EQ(0, ioctl(self->device, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach))
		TH_LOG("VFIO_DEVICE_DETACH_IOMMUFD_PT: %s", strerror(errno));
	TH_LOG("detached from HWPT %u", hwpt);
	/*
	 * Detached, the device must not translate through the old domain any more: a read of
	 * src (fresh pattern) must not reach edu. (Only a read: a detached endpoint that wrongly
	 * bypassed translation would write guest-physical memory.)
	 */
	fill_pattern(self->src, EDU_BUF_SIZE, 0xbeef03);
	memcpy(stale, self->src, EDU_BUF_SIZE);
	ASSERT_EQ(0, edu_dma(self, SRC_IOVA, false, EDU_BUF_SIZE));
	ASSERT_EQ(hwpt, cdev_attach(_metadata, self, hwpt));
	TH_LOG("HWPT %u attached again", hwpt);
	memset(self->dst, 0x5a, EDU_BUF_SIZE);
	ASSERT_EQ(0, edu_dma(self, DST_IOVA, true, EDU_BUF_SIZE));
	TH_LOG("a read while detached %s", memcmp(self->dst, stale, EDU_BUF_SIZE) ?
	       "did not reach the buffer (blocked)" : "READ THE BUFFER (old domain still live)");
	ASSERT_NE(0, memcmp(self->dst, stale, EDU_BUF_SIZE))
		TH_LOG("DMA while detached went through the old domain's mapping at 0x%llx",
		       (unsigned long long)SRC_IOVA);
	edu_roundtrip(_metadata, self, self->src, SRC_IOVA, self->dst, DST_IOVA, 0xbeef02,
		      "after detach + re-attach");
}

/* --- faults ----------------------------------------------------------------------------------- */

static bool tracefs_ready(void)
{
	if (!path_exists(TRACEFS "/events")) {
		mkdir(TRACEFS, 0755);
		mount("nodev", TRACEFS, "tracefs", 0, NULL);
	}
	return path_exists(FAULT_EVENT);
}

/* Clears the trace buffer (truncating open of "trace"). */
static int trace_clear(void)
{
	int fd = open(TRACEFS "/trace", O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/*
 * Counts the io_page_fault lines of the trace buffer that name this device and an IOVA in
 * [iova, iova + len); prints the first few as # lines. Returns -1 when the trace is unreadable.
 */
static int count_faults(const char *bdf, __u64 iova, size_t len, int print)
{
	char line[1024], needle[64];
	int n = 0;
	FILE *f;

	f = fopen(TRACEFS "/trace", "re");
	if (!f)
		return -1;
	xsnprintf(needle, sizeof(needle), " %s iova=0x", bdf);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a;
		char *p;

		if (line[0] == '#' || !strstr(line, "io_page_fault"))
			continue;
		p = strstr(line, needle);
		if (!p || sscanf(p + strlen(needle), "%llx", &a) != 1 || a < iova ||
		    a >= iova + len)
			continue;
		if (n++ < print)
			ksft_print_msg("trace: %s", line);
	}
	fclose(f);
	return n;
}

/* Waits (the eventq interrupt may trail the DMA) for io_page_fault lines; returns the count. */
static int wait_faults(const char *bdf, __u64 iova, size_t len)
{
	double end = now_seconds() + FAULT_WAIT_S;
	int n;

	int last;

	while ((n = count_faults(bdf, iova, len, 0)) <= 0 && now_seconds() < end)
		usleep(50000);
	/* Let the burst finish (so that none of it lands in the next window). */
	do {
		last = n;
		usleep(300000);
		n = count_faults(bdf, iova, len, 0);
	} while (n > last && now_seconds() < end + FAULT_WAIT_S);
	return count_faults(bdf, iova, len, 3);
}

/*
 * DMA through an IOVA that was mapped (and worked) and then unmapped, in both directions:
 * blocked (the unmapped page is neither read nor written) and reported to the IOMMU core
 * (trace event iommu:io_page_fault with the device and the IOVA). QEMU's "no mapping" fault
 * record carries no READ/WRITE flag, so the direction is told apart by time, not by flags.
 */
TEST_F_TIMEOUT(edu, unmapped_iova_faults, TEST_TIMEOUT_S)
{
	bool trace_ok, report = !driver_is("c");
	__u8 want_b[EDU_BUF_SIZE], saved_edu[EDU_BUF_SIZE];
	int read_faults = -1, write_faults = -1;
	__u32 ioas = 0;
	size_t k;

	iommufd_open(_metadata, self, &ioas);
	if (skipped(_metadata))
		return;
	ioas_map(_metadata, self, ioas, self->src, SRC_IOVA);
	ioas_map(_metadata, self, ioas, self->dst, DST_IOVA);
	ioas_map(_metadata, self, ioas, self->victim, VICTIM_IOVA);
	cdev_bind(_metadata, self);
	if (skipped(_metadata))
		return;
	cdev_attach(_metadata, self, ioas);
	edu_enable(_metadata, self);

	/* The victim IOVA works while mapped: the blocked DMAs below are not a dead device. */
	edu_roundtrip(_metadata, self, self->src, SRC_IOVA, self->victim, VICTIM_IOVA, 0xa11ce,
		      "victim mapped");
	ioas_unmap(_metadata, self, ioas, VICTIM_IOVA);
	TH_LOG("unmapped IOVA 0x%llx", (unsigned long long)VICTIM_IOVA);

	trace_ok = tracefs_ready();
	if (trace_ok)
		ASSERT_EQ(0, write_text(FAULT_EVENT, "1"));

	/*
	 * Read fault: edu holds pattern A (from src); the victim page (no longer mapped) holds
	 * pattern B. RAM -> edu from the unmapped IOVA must not bring B into edu.
	 */
	fill_pattern(self->src, EDU_BUF_SIZE, 0xaaaa);
	memcpy(saved_edu, self->src, EDU_BUF_SIZE);
	ASSERT_EQ(0, edu_dma(self, SRC_IOVA, false, EDU_BUF_SIZE));
	fill_pattern(self->victim, EDU_BUF_SIZE, 0xbbbb);
	memcpy(want_b, self->victim, EDU_BUF_SIZE);
	if (trace_ok)
		ASSERT_EQ(0, trace_clear());
	ASSERT_EQ(0, edu_dma(self, VICTIM_IOVA, false, EDU_BUF_SIZE))
		TH_LOG("RAM -> edu from the unmapped IOVA did not complete");
	if (trace_ok && report)
		read_faults = wait_faults(self->pci.bdf, VICTIM_IOVA, self->buf_size);
	memset(self->dst, 0x5a, EDU_BUF_SIZE);
	ASSERT_EQ(0, edu_dma(self, DST_IOVA, true, EDU_BUF_SIZE));
	TH_LOG("edu after a read from the unmapped IOVA: %s",
	       !memcmp(self->dst, want_b, EDU_BUF_SIZE) ? "the unmapped page's data (NOT blocked)" :
	       !memcmp(self->dst, saved_edu, EDU_BUF_SIZE) ? "unchanged" :
	       "changed, not to the unmapped page's data");
	ASSERT_NE(0, memcmp(self->dst, want_b, EDU_BUF_SIZE))
		TH_LOG("edu read the unmapped page at 0x%llx: the DMA was not blocked",
		       (unsigned long long)VICTIM_IOVA);

	/* Write fault: edu -> RAM to the unmapped IOVA must leave the victim page alone. */
	fill_pattern(self->src, EDU_BUF_SIZE, 0xcccc);
	ASSERT_EQ(0, edu_dma(self, SRC_IOVA, false, EDU_BUF_SIZE));
	memset(self->victim, 0xa5, EDU_BUF_SIZE);
	if (trace_ok)
		ASSERT_EQ(0, trace_clear());
	ASSERT_EQ(0, edu_dma(self, VICTIM_IOVA, true, EDU_BUF_SIZE))
		TH_LOG("edu -> RAM to the unmapped IOVA did not complete");
	if (trace_ok && report)
		write_faults = wait_faults(self->pci.bdf, VICTIM_IOVA, self->buf_size);
	for (k = 0; k < EDU_BUF_SIZE && self->victim[k] == 0xa5; k++)
		;
	TH_LOG("victim page after a write to the unmapped IOVA: %s",
	       k == EDU_BUF_SIZE ? "unchanged" : "WRITTEN");
	ASSERT_EQ(EDU_BUF_SIZE, k)
		TH_LOG("edu wrote the unmapped page at 0x%llx (byte %zu): the DMA was not blocked",
		       (unsigned long long)VICTIM_IOVA, k);
	if (trace_ok)
		write_text(FAULT_EVENT, "0");
	/* The device still works after the faults. */
	edu_roundtrip(_metadata, self, self->src, SRC_IOVA, self->dst, DST_IOVA, 0xd00d,
		      "after the faults");

	if (!report)
		SKIP(return, "the C driver only logs faults (no report_iommu_fault)");
	if (!trace_ok)
		SKIP(return, "no trace event iommu/io_page_fault (tracefs or CONFIG_TRACING)");
	TH_LOG("io_page_fault naming %s in [0x%llx, 0x%llx): %d during the read, %d the write",
	       self->pci.bdf, (unsigned long long)VICTIM_IOVA,
	       (unsigned long long)(VICTIM_IOVA + self->buf_size), read_faults, write_faults);
	EXPECT_LT(0, read_faults)
		TH_LOG("the blocked read (RAM -> edu) was not reported to the IOMMU core");
	EXPECT_LT(0, write_faults)
		TH_LOG("the blocked write (edu -> RAM) was not reported to the IOMMU core");
}

/* --- MSI ------------------------------------------------------------------------------------- */

#define MSI_WAIT_S		5.0
#define MSI_QUIET_S		0.3
#define EDU_RAISE_VALUE		0x5a0001U
#define UNSAFE_TYPE1		"/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"
#define UNSAFE_IOMMUFD		"/sys/module/iommufd/parameters/allow_unsafe_interrupts"

/*
 * Waits up to seconds for the eventfd (0: just drain it). Returns the number of signals read,
 * 0 when none came, or -errno.
 */
static long long eventfd_wait(int fd, double seconds)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	__u64 v;
	int ret;

	ret = poll(&p, 1, (int)(seconds * 1000));
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return 0;
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return errno == EAGAIN ? 0 : -errno;
	return (long long)v;
}

/*
 * The evidence around an MSI test: the group's reserved_regions, and the allow_unsafe_interrupts
 * parameters. On arm64 the ITS isolates MSIs, so both must be off there: the test shows that
 * VFIO accepts edu without them.
 */
static void msi_preamble(struct __test_metadata *_metadata, struct _test_data_edu *self)
{
	static const char *const params[] = { UNSAFE_TYPE1, UNSAFE_IOMMUFD };
	bool arm64 = arch_is_arm64();
	char val[8];
	size_t i;

	ASSERT_EQ(0, log_resv_regions(self->pci.group))
		TH_LOG("cannot read group %s's reserved_regions", self->pci.group);
	for (i = 0; i < ARRAY_SIZE(params); i++) {
		if (read_text(params[i], val, sizeof(val)) < 0)
			xsnprintf(val, sizeof(val), "absent");
		TH_LOG("%s = %s", params[i], val);
		if (arm64) {
			EXPECT_NE('Y', val[0])
				TH_LOG("arm64 runs without allow_unsafe_interrupts: %s is on",
				       params[i]);
		}
	}
}

/*
 * Enables edu's MSI through VFIO, with an eventfd as its trigger. Returns 0 or the -errno of
 * VFIO_DEVICE_SET_IRQS (the caller decides); anything else failing fails the test.
 */
static int edu_msi_enable(struct __test_metadata *_metadata, struct _test_data_edu *self)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = VFIO_PCI_MSI_IRQ_INDEX };
	union {
		struct vfio_irq_set set;
		char buf[sizeof(struct vfio_irq_set) + sizeof(int)];
	} u;

	ASSERT_EQ(0, ioctl(self->device, VFIO_DEVICE_GET_IRQ_INFO, &info))
		TH_LOG("VFIO_DEVICE_GET_IRQ_INFO (MSI): %s", strerror(errno));
	ASSERT_LE(1U, info.count) TH_LOG("edu offers %u MSI vectors through VFIO", info.count);
	ASSERT_NE(0U, info.flags & VFIO_IRQ_INFO_EVENTFD);
	self->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, self->eventfd) TH_LOG("eventfd: %s", strerror(errno));

	memset(&u, 0, sizeof(u));
	u.set.argsz = sizeof(u.buf);
	u.set.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	u.set.index = VFIO_PCI_MSI_IRQ_INDEX;
	u.set.start = 0;
	u.set.count = 1;
	memcpy(u.set.data, &self->eventfd, sizeof(int));
	if (ioctl(self->device, VFIO_DEVICE_SET_IRQS, &u.set))
		return -errno;
	TH_LOG("MSI enabled through VFIO_DEVICE_SET_IRQS (1 vector, eventfd %d)", self->eventfd);
	return 0;
}

/* Reads edu's one MSI vector (the kernel's side of it: irq number, /proc/interrupts count). */
static void edu_msi_irq(struct __test_metadata *_metadata, struct _test_data_edu *self,
			struct msi_irq *irq)
{
	struct msi_irq irqs[4];
	int n;

	n = pci_msi_irqs(self->pci.bdf, irqs, 4);
	ASSERT_EQ(1, n) TH_LOG("%s has %d MSI vectors allocated (want 1)", self->pci.bdf, n);
	*irq = irqs[0];
}

/*
 * With MSI enabled: edu raises an interrupt through its raise register, then at the end of a
 * DMA (edu -> RAM with the command's interrupt bit). Each must signal the eventfd within
 * MSI_WAIT_S and show in edu's interrupt status until acknowledged; nothing may arrive without
 * a raise; the kernel's count of the vector grows by as many.
 */
static void edu_msi_check(struct __test_metadata *_metadata, struct _test_data_edu *self,
			  __u8 *src, __u64 src_iova, __u8 *dst, __u64 dst_iova,
			  const char *what)
{
	struct msi_irq before, after;
	long long got;
	__u32 st;
	double t0;

	edu_msi_irq(_metadata, self, &before);
	EXPECT_STREQ("msi", before.mode);
	TH_LOG("%s: edu's vector is irq %u (%s): %s, count %llu", what, before.irq, before.mode,
	       before.name, before.count);
	/* Start clean: nothing pending in edu, nothing in the eventfd. */
	wr32(self, EDU_REG_IRQ_ACK, 0xffffffff);
	ASSERT_LE(0, eventfd_wait(self->eventfd, 0));

	/* 1. The interrupt raise register. */
	t0 = now_seconds();
	wr32(self, EDU_REG_IRQ_RAISE, EDU_RAISE_VALUE);
	got = eventfd_wait(self->eventfd, MSI_WAIT_S);
	ASSERT_LT(0, got)
		TH_LOG("%s: no MSI within %.0f s of writing 0x%x to edu's raise register%s",
		       what, MSI_WAIT_S, EDU_RAISE_VALUE, got < 0 ? " (eventfd error)" : "");
	TH_LOG("%s: raise register -> eventfd signalled after %.3f s", what, now_seconds() - t0);
	st = rd32(self, EDU_REG_IRQ_STATUS);
	EXPECT_EQ(EDU_RAISE_VALUE, st & EDU_RAISE_VALUE) TH_LOG("edu interrupt status 0x%x", st);
	wr32(self, EDU_REG_IRQ_ACK, EDU_RAISE_VALUE);
	st = rd32(self, EDU_REG_IRQ_STATUS);
	EXPECT_EQ(0U, st) TH_LOG("edu interrupt status 0x%x after the acknowledge", st);
	got = eventfd_wait(self->eventfd, MSI_QUIET_S);
	EXPECT_EQ(0, got) TH_LOG("%s: %lld interrupt(s) after the acknowledge, without a raise",
				 what, got);

	/* 2. The end of a DMA: RAM -> edu quietly, then edu -> RAM with the interrupt bit. */
	fill_pattern(src, EDU_BUF_SIZE, 0x3141592);
	memset(dst, 0x5a, EDU_BUF_SIZE);
	ASSERT_EQ(0, edu_dma(self, src_iova, false, EDU_BUF_SIZE));
	got = eventfd_wait(self->eventfd, 0);
	EXPECT_EQ(0, got) TH_LOG("%s: a DMA without the interrupt bit raised %lld", what, got);
	t0 = now_seconds();
	ASSERT_EQ(0, edu_dma_cmd(self, dst_iova, true, EDU_BUF_SIZE, EDU_CMD_IRQ))
		TH_LOG("%s: edu -> RAM DMA to 0x%llx did not complete", what,
		       (unsigned long long)dst_iova);
	got = eventfd_wait(self->eventfd, MSI_WAIT_S);
	ASSERT_LT(0, got) TH_LOG("%s: no MSI within %.0f s of a DMA with the interrupt bit", what,
				 MSI_WAIT_S);
	TH_LOG("%s: DMA with interrupt -> eventfd signalled after %.3f s", what,
	       now_seconds() - t0);
	st = rd32(self, EDU_REG_IRQ_STATUS);
	EXPECT_EQ(EDU_DMA_IRQ_VALUE, st & EDU_DMA_IRQ_VALUE)
		TH_LOG("edu interrupt status 0x%x after the DMA", st);
	wr32(self, EDU_REG_IRQ_ACK, EDU_DMA_IRQ_VALUE);
	EXPECT_EQ(0, memcmp(src, dst, EDU_BUF_SIZE))
		TH_LOG("%s: the DMA that raised the interrupt did not deliver its data", what);

	edu_msi_irq(_metadata, self, &after);
	TH_LOG("%s: irq %u count %llu -> %llu", what, after.irq, before.count, after.count);
	EXPECT_EQ(before.irq, after.irq);
	EXPECT_LE(before.count + 2, after.count)
		TH_LOG("%s: the kernel counted %llu interrupts on irq %u for 2 MSIs", what,
		       after.count - before.count, after.irq);
}

/*
 * The one domain whose mappings (debugfs) contain SRC_IOVA and DST_IOVA, readable and
 * writable: edu's VFIO domain. Fails the test unless there is exactly one.
 */
static unsigned long long vfio_domain_id(struct __test_metadata *_metadata, const char *path)
{
	unsigned long long dom = 0;
	struct viommu_mapping *m;
	int i, j, n, found = 0;
	char bad[256] = "";

	n = read_mappings(path, &m, bad, sizeof(bad));
	ASSERT_LE(0, n) TH_LOG("%s: %s %s", path, strerror(-n), bad);
	for (i = 0; i < n; i++) {
		if (!mapping_covers_iova(&m[i], SRC_IOVA) || strncmp(m[i].flags, "rw", 2))
			continue;
		for (j = 0; j < n; j++) {
			if (m[j].domain == m[i].domain && mapping_covers_iova(&m[j], DST_IOVA) &&
			    !strncmp(m[j].flags, "rw", 2))
				break;
		}
		if (j == n || (found && m[i].domain == dom))
			continue;
		print_mapping("  edu's buffer: ", &m[i]);
		print_mapping("  edu's buffer: ", &m[j]);
		dom = m[i].domain;
		found++;
	}
	free(m);
	ASSERT_EQ(1, found) TH_LOG("%d domains map both 0x%llx and 0x%llx (want exactly edu's)",
				   found, (unsigned long long)SRC_IOVA,
				   (unsigned long long)DST_IOVA);
	return dom;
}

/* Writable doorbell mappings of domain dom inside [base, last] (printed). */
static int window_doorbells(struct __test_metadata *_metadata, const char *path,
			    unsigned long long dom, unsigned long long base,
			    unsigned long long last, struct viommu_mapping *hit)
{
	struct viommu_mapping *m;
	char bad[256] = "";
	int n, k;

	n = read_mappings(path, &m, bad, sizeof(bad));
	ASSERT_LE(0, n) TH_LOG("%s: %s %s", path, strerror(-n), bad);
	k = doorbell_mappings(m, n, dom, msi_doorbell_page(), base, last, "  doorbell: ", hit);
	free(m);
	return k;
}

/*
 * Edu's VFIO domain (found by its known buffer IOVAs) gets the doorbell page mapped inside the
 * group's software MSI window when MSI is enabled, not before, and the MSI arrives through that
 * mapping: 1:1 when the window is the doorbell itself (default), elsewhere with sw_msi=1.
 * Called with the backend attached and edu enabled.
 */
static void vfio_doorbell_check(struct __test_metadata *_metadata, struct _test_data_edu *self,
				const char *path, const char *what)
{
	unsigned long long dom, db = msi_doorbell_page(), base, last, iova;
	struct viommu_mapping hit;
	char window[64];
	bool moved;
	int k, ret;

	msi_preamble(_metadata, self);
	msi_window(&base, &last, &moved, window, sizeof(window));
	EXPECT_TRUE(group_has_resv_line(self->pci.group, window))
		TH_LOG("group %s's reserved_regions lacks '%s'", self->pci.group, window);
	dom = vfio_domain_id(_metadata, path);
	TH_LOG("%s: edu's domain is %llu", what, dom);
	k = window_doorbells(_metadata, path, dom, base, last, &hit);
	EXPECT_EQ(0, k) TH_LOG("%s: domain %llu maps the doorbell 0x%llx before MSI is enabled",
			       what, dom, db);

	ret = edu_msi_enable(_metadata, self);
	ASSERT_EQ(0, ret) TH_LOG("%s: VFIO_DEVICE_SET_IRQS (MSI): %s", what, strerror(-ret));
	k = window_doorbells(_metadata, path, dom, base, last, &hit);
	ASSERT_LT(0, k)
		TH_LOG("%s: MSI on, domain %llu maps no doorbell 0x%llx (w) in [0x%llx, 0x%llx]",
		       what, dom, db, base, last);
	iova = hit.first + (db - hit.phys);
	TH_LOG("%s: doorbell 0x%llx mapped at IOVA 0x%llx (%s) in domain %llu", what, db, iova,
	       hit.flags, dom);
	/* sw_msi=1 moves the doorbell into the window; else the window is the doorbell, 1:1. */
	EXPECT_EQ(!moved, db == iova)
		TH_LOG("the doorbell 0x%llx is mapped at 0x%llx: %s", db, iova,
		       moved ? "1:1 with sw_msi=1" : "not 1:1, though the window is the doorbell");
	/* And the interrupts travel through it. */
	edu_msi_check(_metadata, self, self->src, SRC_IOVA, self->dst, DST_IOVA, what);
}

/* Edu bound to iommufd and attached to an IOAS with both buffers mapped, bus mastering on. */
static void iommufd_edu(struct __test_metadata *_metadata, struct _test_data_edu *self)
{
	__u32 ioas = 0;

	iommufd_open(_metadata, self, &ioas);
	if (skipped(_metadata))
		return;
	ioas_map(_metadata, self, ioas, self->src, SRC_IOVA);
	ioas_map(_metadata, self, ioas, self->dst, DST_IOVA);
	cdev_bind(_metadata, self);
	if (skipped(_metadata))
		return;
	cdev_attach(_metadata, self, ioas);
	edu_enable(_metadata, self);
}

/*
 * The iommufd tests run before the type1 ones on purpose: on arm64 a type1 MSI allocation that
 * fails (ENOSPC, see type1_msi) leaks edu's ITS event slot, and edu then gets no MSI at all.
 */
TEST_F_TIMEOUT(edu, iommufd_msi, TEST_TIMEOUT_S)
{
	int ret;

	msi_preamble(_metadata, self);
	iommufd_edu(_metadata, self);
	if (skipped(_metadata))
		return;
	ret = edu_msi_enable(_metadata, self);
	ASSERT_EQ(0, ret) TH_LOG("VFIO_DEVICE_SET_IRQS (MSI, iommufd): %s", strerror(-ret));
	edu_msi_check(_metadata, self, self->src, SRC_IOVA, self->dst, DST_IOVA, "iommufd");
}

TEST_F_TIMEOUT(edu, iommufd_msi_doorbell_mapping, TEST_TIMEOUT_S)
{
	char path[PATH_MAX];
	const char *why = doorbell_skip_reason(path, sizeof(path));

	if (why)
		SKIP(return, "%s", why);
	iommufd_edu(_metadata, self);
	if (skipped(_metadata))
		return;
	vfio_doorbell_check(_metadata, self, path, "iommufd");
}

/*
 * type1: VFIO_DEVICE_SET_IRQS needs an MSI cookie on the container's domain on arm64 (the ITS
 * asks the IOMMU layer for the doorbell's IOVA); type1 sets one only when the group has a
 * software MSI window (IOMMU_RESV_SW_MSI). A driver that reports the doorbell as a bypass MSI
 * region (the C driver) gets ENOSPC there, and the ITS then leaks the event slot: the unbind
 * from vfio-pci WARNs in its_msi_teardown (irq-gic-v3-its.c), which fails the whole run. So the
 * C driver is not even tried on arm64.
 */
TEST_F_TIMEOUT(edu, type1_msi, TEST_TIMEOUT_S)
{
	int ret;

	if (arch_is_arm64() && driver_is("c"))
		SKIP(return, C_ARM64_TYPE1_MSI_REASON);
	msi_preamble(_metadata, self);
	type1_open(_metadata, self);
	if (skipped(_metadata))
		return;
	type1_map(_metadata, self, self->src, SRC_IOVA);
	type1_map(_metadata, self, self->dst, DST_IOVA);
	type1_device(_metadata, self);
	ret = edu_msi_enable(_metadata, self);
	ASSERT_EQ(0, ret) TH_LOG("VFIO_DEVICE_SET_IRQS (MSI, type1): %s%s", strerror(-ret),
				 ret == -ENOSPC ? NO_COOKIE_HINT : "");
	edu_msi_check(_metadata, self, self->src, SRC_IOVA, self->dst, DST_IOVA, "type1");
}

TEST_F_TIMEOUT(edu, type1_msi_doorbell_mapping, TEST_TIMEOUT_S)
{
	char path[PATH_MAX];
	const char *why = doorbell_skip_reason(path, sizeof(path));

	if (why)
		SKIP(return, "%s", why);
	type1_open(_metadata, self);
	if (skipped(_metadata))
		return;
	type1_map(_metadata, self, self->src, SRC_IOVA);
	type1_map(_metadata, self, self->dst, DST_IOVA);
	type1_device(_metadata, self);
	vfio_doorbell_check(_metadata, self, path, "type1");
}

/* --- failure injection: the real device refuses chosen requests ------------------------------ */

/*
 * The driver's debugfs "inject" file (kernels with CONFIG_FAULT_INJECTION): "map 1" makes the
 * next MAP name a domain the device does not know, so QEMU itself answers S_NOENT. Fills path
 * (the file), or SKIPs.
 */
static int inject_path(char *path, size_t size)
{
	char *slash;

	if (viommu_mappings_path(path, size))
		return -ENOENT;
	slash = strrchr(path, '/');
	xsnprintf(slash + 1, size - (size_t)(slash + 1 - path), "inject");
	return path_exists(path) ? 0 : -ENOENT;
}

/* Whether a mapping of the debugfs file covers iova. */
static bool iova_mapped(struct __test_metadata *_metadata, __u64 iova)
{
	struct viommu_mapping *m;
	char path[PATH_MAX], bad[256] = "";
	bool found = false;
	int i, n;

	EXPECT_EQ(0, viommu_mappings_path(path, sizeof(path)));
	n = read_mappings(path, &m, bad, sizeof(bad));
	EXPECT_LE(0, n) TH_LOG("%s: %s %s", path, strerror(-n), bad);
	for (i = 0; i < n; i++)
		found |= m[i].first <= iova && iova <= m[i].last;
	if (n > 0)
		free(m);
	return found;
}

/* Fills path with the debugfs inject file; false (a skip) without one. */
static bool need_inject(struct __test_metadata *_metadata, char *path, size_t size)
{
	if (inject_path(path, size))
		SKIP(return false, "no debugfs inject file (C driver, no CONFIG_FAULT_INJECTION)");
	return true;
}

/*
 * A MAP the device refuses: VFIO_IOMMU_MAP_DMA fails with the device's error (not with another
 * caller's), the driver's record no longer holds the range, and the domain keeps working.
 */
TEST_F_TIMEOUT(edu, injected_map_failure_reaches_its_caller, TEST_TIMEOUT_S)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
	};
	char inject[PATH_MAX], state[64] = "";

	if (!need_inject(_metadata, inject, sizeof(inject)))
		return;
	type1_open(_metadata, self);
	if (skipped(_metadata))
		return;
	type1_map(_metadata, self, self->src, SRC_IOVA);
	ASSERT_EQ(0, write_text(inject, "map 1"));
	map.vaddr = (uintptr_t)self->victim;
	map.iova = VICTIM_IOVA;
	map.size = self->buf_size;
	EXPECT_NE(0, ioctl(self->container, VFIO_IOMMU_MAP_DMA, &map))
		TH_LOG("a MAP the device refused was reported as done");
	TH_LOG("refused MAP_DMA: %s", strerror(errno));
	ASSERT_LE(0, read_text(inject, state, sizeof(state)));
	EXPECT_STREQ("off", state) TH_LOG("the injection was not consumed by that MAP");
	EXPECT_FALSE(iova_mapped(_metadata, VICTIM_IOVA))
		TH_LOG("the refused range is still in the driver's record");
	EXPECT_TRUE(iova_mapped(_metadata, SRC_IOVA)) TH_LOG("the good mapping was lost");
	/* The same domain still maps and translates. */
	type1_map(_metadata, self, self->dst, DST_IOVA);
	type1_device(_metadata, self);
	edu_roundtrip(_metadata, self, self->src, SRC_IOVA, self->dst, DST_IOVA, 0x5a5a01,
		      "after a refused MAP");
}

/*
 * A replay the device refuses: a HWPT allocated (and filled) before any attach is replayed on
 * the device when edu attaches to it; with the replay's first MAP refused the attach fails, and
 * the device is left where it was: attaching again (no injection) works and DMA translates.
 */
TEST_F_TIMEOUT(edu, injected_replay_failure_fails_attach_cleanly, TEST_TIMEOUT_S)
{
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	char inject[PATH_MAX];
	__u32 ioas = 0, dev_id, hwpt;

	if (!need_inject(_metadata, inject, sizeof(inject)))
		return;
	iommufd_open(_metadata, self, &ioas);
	if (skipped(_metadata))
		return;
	ioas_map(_metadata, self, ioas, self->src, SRC_IOVA);
	ioas_map(_metadata, self, ioas, self->dst, DST_IOVA);
	dev_id = cdev_bind(_metadata, self);
	if (skipped(_metadata))
		return;
	/* Filled now, with no endpoint attached: the mappings reach the device only by replay. */
	hwpt = hwpt_alloc(_metadata, self, dev_id, ioas);
	ASSERT_NE(0U, hwpt);
	ASSERT_EQ(0, write_text(inject, "map 1"));
	attach.pt_id = hwpt;
	EXPECT_NE(0, ioctl(self->device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		TH_LOG("an attach whose replay the device refused succeeded");
	TH_LOG("refused replay: attach failed with %s", strerror(errno));
	ASSERT_EQ(0, write_text(inject, "off"));
	ASSERT_EQ(hwpt, cdev_attach(_metadata, self, hwpt));
	edu_enable(_metadata, self);
	edu_roundtrip(_metadata, self, self->src, SRC_IOVA, self->dst, DST_IOVA, 0x5a5a02,
		      "attach after a refused replay");
}

/*
 * Arms the inject file with @cmd, then VFIO_IOMMU_UNMAP_DMA of the victim buffer: VFIO reports
 * success whatever the device said (iotlb_sync returns nothing). The injection must be consumed.
 */
static void type1_unmap_victim_injected(struct __test_metadata *_metadata,
					struct _test_data_edu *self, const char *inject,
					const char *cmd)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = VICTIM_IOVA,
		.size = self->buf_size,
	};
	char state[64] = "";

	ASSERT_EQ(0, write_text(inject, cmd));
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_UNMAP_DMA, &unmap))
		TH_LOG("VFIO_IOMMU_UNMAP_DMA: %s", strerror(errno));
	ASSERT_LE(0, read_text(inject, state, sizeof(state)));
	EXPECT_STREQ("off", state) TH_LOG("\"%s\" was not consumed by that UNMAP", cmd);
}

/*
 * An UNMAP the device refuses once: the driver sends it again, so that the device does not keep
 * translating memory the caller frees next. The same IOVA then maps again (a device still
 * holding the old mapping refuses that MAP as an overlap) and DMA goes through the new mapping.
 */
TEST_F_TIMEOUT(edu, injected_unmap_failure_is_retried, TEST_TIMEOUT_S)
{
	char inject[PATH_MAX];

	if (!need_inject(_metadata, inject, sizeof(inject)))
		return;
	type1_open(_metadata, self);
	if (skipped(_metadata))
		return;
	type1_map(_metadata, self, self->src, SRC_IOVA);
	type1_map(_metadata, self, self->victim, VICTIM_IOVA);
	type1_unmap_victim_injected(_metadata, self, inject, "unmap 1");
	EXPECT_FALSE(iova_mapped(_metadata, VICTIM_IOVA)) TH_LOG("the range is still recorded");
	/* The device forgot the range too: the same IOVA maps again, to another buffer. */
	type1_map(_metadata, self, self->dst, VICTIM_IOVA);
	type1_device(_metadata, self);
	edu_roundtrip(_metadata, self, self->src, SRC_IOVA, self->dst, VICTIM_IOVA, 0x5a5a03,
		      "after a refused UNMAP");
}

/*
 * An UNMAP the device refuses twice: the device may still translate the range, to memory the
 * caller frees next. The driver fails closed: the domain's endpoints go to the blocked domain,
 * so a DMA write to the unmapped IOVA does not reach the page that was mapped there.
 */
TEST_F_TIMEOUT(edu, injected_unmap_refused_twice_blocks_the_domain, TEST_TIMEOUT_S)
{
	char inject[PATH_MAX];
	size_t k;

	if (!need_inject(_metadata, inject, sizeof(inject)))
		return;
	type1_open(_metadata, self);
	if (skipped(_metadata))
		return;
	type1_map(_metadata, self, self->src, SRC_IOVA);
	type1_map(_metadata, self, self->victim, VICTIM_IOVA);
	type1_device(_metadata, self);
	edu_roundtrip(_metadata, self, self->src, SRC_IOVA, self->victim, VICTIM_IOVA, 0x5a5a04,
		      "victim mapped");
	/* Consumed only if the UNMAP was sent twice. */
	type1_unmap_victim_injected(_metadata, self, inject, "unmap 2");
	fill_pattern(self->src, EDU_BUF_SIZE, 0xdddd);
	ASSERT_EQ(0, edu_dma(self, SRC_IOVA, false, EDU_BUF_SIZE));
	memset(self->victim, 0xa5, EDU_BUF_SIZE);
	ASSERT_EQ(0, edu_dma(self, VICTIM_IOVA, true, EDU_BUF_SIZE))
		TH_LOG("edu -> RAM to the unmapped IOVA did not complete");
	for (k = 0; k < EDU_BUF_SIZE && self->victim[k] == 0xa5; k++)
		;
	EXPECT_EQ(EDU_BUF_SIZE, k)
		TH_LOG("edu wrote the page unmapped at 0x%llx (byte %zu): stale after the UNMAP",
		       (unsigned long long)VICTIM_IOVA, k);
}

TEST_HARNESS_MAIN
