// SPDX-License-Identifier: GPL-2.0
/*
 * Map/unmap latency through the virtio-iommu with the kernel's dma_map_benchmark driver bound
 * to QEMU's edu device (1234:11e8). Prints one line per granule for the benchmark scripts:
 *   # dma_map_benchmark: map_us=X.X map_stddev_us=X.X unmap_us=X.X unmap_stddev_us=X.X \
 *     granule=N threads=1
 * (on one line: BENCH_LINE_FMT).
 * VIOMMU_BENCH_SECONDS (default 2) sets the duration of each run.
 */
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <linux/map_benchmark.h>

#include "kselftest_harness.h"
#include "viommu_util.h"

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define BENCH_DRIVER		"dma_map_benchmark"
#define BENCH_DRIVER_DIR	"/sys/bus/pci/drivers/" BENCH_DRIVER
#define DEBUGFS_DIR		"/sys/kernel/debug"
#define BENCH_DEBUGFS		DEBUGFS_DIR "/dma_map_benchmark"
#define EDU_DMA_BITS		28	/* edu only reaches 28-bit addresses */
#define NUMA_NO_NODE		(-1)
#define BENCH_LINE_FMT		"dma_map_benchmark: map_us=%.1f map_stddev_us=%.1f unmap_us=%.1f unmap_stddev_us=%.1f granule=%u threads=%u\n"

static unsigned int bench_seconds(void)
{
	const char *s = getenv("VIOMMU_BENCH_SECONDS");
	unsigned long v = s ? strtoul(s, NULL, 10) : 0;

	if (!v)
		return 2;
	return v > DMA_MAP_MAX_SECONDS ? DMA_MAP_MAX_SECONDS : v;
}

FIXTURE(bench) {
	struct pci_dev_info edu;
	char old_driver[64];
	bool overridden;
	bool bound;
};

FIXTURE_SETUP(bench)
{
	if (pci_find(EDU_VENDOR, EDU_DEVICE, &self->edu))
		SKIP(return, "no edu device (%04x:%04x)", EDU_VENDOR, EDU_DEVICE);
	if (!path_exists(BENCH_DRIVER_DIR))
		SKIP(return, "no %s PCI driver (CONFIG_DMA_MAP_BENCHMARK=n?)", BENCH_DRIVER);
	if (!path_exists(BENCH_DEBUGFS))
		mount("debugfs", DEBUGFS_DIR, "debugfs", 0, NULL); /* absent until bound anyway */
	TH_LOG("edu at %s, iommu_group %s", self->edu.bdf,
	       self->edu.group[0] ? self->edu.group : "NONE");
}

/* Runs in the parent even when the test aborts or dies, so the device is always given back. */
FIXTURE_TEARDOWN_PARENT(bench)
{
	char path[PATH_MAX];
	int ret;

	if (self->bound) {
		ret = write_text(BENCH_DRIVER_DIR "/unbind", self->edu.bdf);
		if (ret)
			TH_LOG("unbinding %s from %s: %s", self->edu.bdf, BENCH_DRIVER,
			       strerror(-ret));
	}
	if (self->overridden) {
		xsnprintf(path, sizeof(path), "%s/driver_override", self->edu.dir);
		ret = write_text(path, "\n");
		if (ret)
			TH_LOG("clearing %s: %s", path, strerror(-ret));
	}
	if (self->old_driver[0] && strcmp(self->old_driver, BENCH_DRIVER))
		write_text("/sys/bus/pci/drivers_probe", self->edu.bdf);
}

/* Binds edu to dma_map_benchmark through driver_override. */
static void bind_benchmark(struct __test_metadata *_metadata, struct _test_data_bench *self)
{
	char path[PATH_MAX], drv[64];
	int ret;

	xsnprintf(path, sizeof(path), "%s/driver", self->edu.dir);
	if (link_basename(path, self->old_driver, sizeof(self->old_driver)))
		self->old_driver[0] = '\0';
	TH_LOG("%s: current driver %s", self->edu.bdf,
	       self->old_driver[0] ? self->old_driver : "none");

	xsnprintf(path, sizeof(path), "%s/driver_override", self->edu.dir);
	ret = write_text(path, BENCH_DRIVER);
	ASSERT_EQ(0, ret) TH_LOG("writing %s: %s", path, strerror(-ret));
	self->overridden = true;

	if (!strcmp(self->old_driver, BENCH_DRIVER)) {
		self->bound = true;
		return;
	}
	if (self->old_driver[0]) {
		xsnprintf(path, sizeof(path), "%s/driver/unbind", self->edu.dir);
		ret = write_text(path, self->edu.bdf);
		ASSERT_EQ(0, ret) TH_LOG("writing %s: %s", path, strerror(-ret));
	}
	ret = write_text(BENCH_DRIVER_DIR "/bind", self->edu.bdf);
	if (ret) {
		TH_LOG("%s/bind: %s; trying drivers_probe", BENCH_DRIVER_DIR, strerror(-ret));
		write_text("/sys/bus/pci/drivers_probe", self->edu.bdf);
	}
	xsnprintf(path, sizeof(path), "%s/driver", self->edu.dir);
	ASSERT_EQ(0, link_basename(path, drv, sizeof(drv)))
		TH_LOG("%s has no driver after binding", self->edu.bdf);
	ASSERT_STREQ(BENCH_DRIVER, drv);
	self->bound = true;
}

static void run_benchmark(struct __test_metadata *_metadata, struct _test_data_bench *self,
			  unsigned int granule)
{
	struct map_benchmark mb;
	int fd, ret;

	ASSERT_NE(0, self->edu.group[0])
		TH_LOG("edu %s is not behind the IOMMU (no iommu_group)", self->edu.bdf);
	bind_benchmark(_metadata, self);
	if (!path_exists(BENCH_DEBUGFS))
		SKIP(return, "%s is absent after binding (debugfs not mounted?)", BENCH_DEBUGFS);
	fd = open(BENCH_DEBUGFS, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", BENCH_DEBUGFS, strerror(errno));

	memset(&mb, 0, sizeof(mb));
	mb.threads = 1;
	mb.seconds = bench_seconds();
	mb.node = NUMA_NO_NODE;
	mb.dma_bits = EDU_DMA_BITS;
	mb.dma_dir = DMA_MAP_BIDIRECTIONAL;
	mb.dma_trans_ns = 0;
	mb.granule = granule;
	mb.map_mode = DMA_MAP_BENCH_SINGLE_MODE;
	TH_LOG("DMA_MAP_BENCHMARK: threads=%u seconds=%u dma_bits=%u granule=%u", mb.threads,
	       mb.seconds, mb.dma_bits, mb.granule);
	ret = ioctl(fd, DMA_MAP_BENCHMARK, &mb);
	ASSERT_EQ(0, ret) TH_LOG("DMA_MAP_BENCHMARK: %s", strerror(errno));
	close(fd);

	ksft_print_msg(BENCH_LINE_FMT, mb.avg_map_100ns / 10.0, mb.map_stddev / 10.0,
		       mb.avg_unmap_100ns / 10.0, mb.unmap_stddev / 10.0, granule, mb.threads);
	EXPECT_LT((__u64)0, mb.avg_map_100ns);
	EXPECT_LT((__u64)0, mb.avg_unmap_100ns);
}

TEST_F(bench, granule_1)
{
	run_benchmark(_metadata, self, 1);
}

TEST_F(bench, granule_16)
{
	run_benchmark(_metadata, self, 16);
}

/* Each run lasts VIOMMU_BENCH_SECONDS; give the harness's timeout a margin over it. */
static void __attribute__((constructor(KSELFTEST_PRIO_XFAIL + 1))) bench_timeouts(void)
{
	_bench_granule_1_object->timeout = bench_seconds() + 60;
	_bench_granule_16_object->timeout = bench_seconds() + 60;
}

TEST_HARNESS_MAIN
