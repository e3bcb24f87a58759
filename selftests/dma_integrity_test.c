// SPDX-License-Identifier: GPL-2.0
/*
 * DMA through the virtio-iommu: O_DIRECT reads of known disk contents (sha256 against
 * VIOMMU_DISK_SHA256) and O_DIRECT write/read-back of a random pattern in the scratch area,
 * with I/O sizes and buffer offsets that make the driver map and unmap different lengths.
 *
 * The disks: VIOMMU_DISKS, else every disk behind the virtio-iommu (disk_util.h). The read
 * tests need VIOMMU_DISK_SHA256 and VIOMMU_DISK_HASH_BYTES (the host's knowledge of the
 * contents); the write tests write only disks named in VIOMMU_DISKS, never a discovered one.
 */
#include <linux/types.h>
#include <sys/sysmacros.h>

#include "kselftest_harness.h"
#include "viommu_util.h"
#include "sha256.h"
#include "disk_util.h"

#define MAX_DISKS	8
#define KiB		1024ULL
#define MiB		(1024ULL * 1024)
#define SCRATCH_MAX	(4 * MiB)
#define IO_TIMEOUT	300	/* seconds per test: TCG guests are slow */
#define READ_RATE_FMT	"%s: O_DIRECT read, %zu KiB I/Os, buffer +%zu: %.1f MB/s (%llu bytes in %.3f s)\n"

struct disk {
	char name[64];
	char dev[PATH_MAX];
	unsigned int lbs;		/* logical block size */
	unsigned long long size;	/* bytes */
};

static size_t page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (size_t)p : 4096;
}

static int get_disks(struct disk *disks, int max)
{
	char names[MAX_DISKS][DISK_NAME_MAX];
	int i, n;

	n = disk_list(names, max < MAX_DISKS ? max : MAX_DISKS);
	for (i = 0; i < n; i++) {
		struct disk *d = &disks[i];
		char path[PATH_MAX], buf[64];

		memset(d, 0, sizeof(*d));
		xsnprintf(d->name, sizeof(d->name), "%s", names[i]);
		xsnprintf(d->dev, sizeof(d->dev), "/dev/%s", names[i]);
		xsnprintf(path, sizeof(path), "/sys/block/%s/queue/logical_block_size", names[i]);
		d->lbs = read_text(path, buf, sizeof(buf)) > 0 ? strtoul(buf, NULL, 10) : 512;
		if (!d->lbs)
			d->lbs = 512;
		xsnprintf(path, sizeof(path), "/sys/block/%s/size", names[i]);
		d->size = read_text(path, buf, sizeof(buf)) > 0 ? strtoull(buf, NULL, 10) * 512 : 0;
	}
	return n;
}

/* Opens the disk with O_DIRECT, creating its node when devtmpfs did not. */
static int open_disk(const struct disk *d, int flags)
{
	char path[PATH_MAX], buf[64];
	unsigned int maj, min;
	int fd;

	fd = open(d->dev, flags | O_DIRECT | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	xsnprintf(path, sizeof(path), "/sys/block/%s/dev", d->name);
	if (read_text(path, buf, sizeof(buf)) <= 0 || sscanf(buf, "%u:%u", &maj, &min) != 2)
		return -1;
	if (mknod(d->dev, S_IFBLK | 0600, makedev(maj, min)) && errno != EEXIST)
		return -1;
	return open(d->dev, flags | O_DIRECT | O_CLOEXEC);
}

static void *alloc_aligned(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, page_size(), len))
		return NULL;
	return p;
}

static __u64 splitmix64(__u64 *state)
{
	__u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void fill_random(void *buf, size_t len, __u64 seed)
{
	__u8 *p = buf;
	__u64 v;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		v = splitmix64(&seed);
		memcpy(p + i, &v, 8);
	}
	v = splitmix64(&seed);
	memcpy(p + i, &v, len - i);
}

static double mb_per_s(unsigned long long bytes, double seconds)
{
	return seconds > 0 ? bytes / 1e6 / seconds : 0;
}

/*
 * The disks (named in VIOMMU_DISKS, or found behind the virtio-iommu) into disks; skips without
 * any. Returns the count, 0 when the test stops.
 */
static int need_disks(struct __test_metadata *_metadata, struct disk *disks)
{
	int n = get_disks(disks, MAX_DISKS);

	EXPECT_LE(0, n);
	if (n < 0)
		return 0;
	if (n == 0)
		SKIP(return 0, "no disk behind the virtio-iommu (none found, VIOMMU_DISKS unset)");
	return n;
}

/* Skips unless the host told the disks' contents. Returns whether the test goes on. */
static bool need_hash(struct __test_metadata *_metadata)
{
	if (!disk_sha256())
		SKIP(return false, DISK_HASH_SKIP_REASON);
	return true;
}

/* Skips unless the disks were named: only those may be written. */
static bool need_named_disks(struct __test_metadata *_metadata)
{
	if (!disks_named())
		SKIP(return false,
		     "writes only disks named in VIOMMU_DISKS (scratch disks), not discovered ones");
	return true;
}

TEST(sha256_known_answers)
{
	static const struct { const char *msg; const char *hex; } kat[] = {
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	__u8 digest[SHA256_DIGEST_SIZE];
	char hex[2 * SHA256_DIGEST_SIZE + 1], chunk[1000];
	struct sha256_ctx c;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kat); i++) {
		sha256_hex_of(kat[i].msg, strlen(kat[i].msg), hex);
		TH_LOG("sha256(\"%s\") = %s", kat[i].msg, hex);
		EXPECT_STREQ(kat[i].hex, hex);
	}
	/* One million 'a', fed in uneven pieces to exercise the buffering. */
	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&c);
	for (i = 0; i < 1000000;) {
		size_t take = 1 + (i * 7919) % 997;

		if (take > 1000000 - i)
			take = 1000000 - i;
		sha256_update(&c, chunk, take);
		i += take;
	}
	sha256_final(&c, digest);
	sha256_hex(digest, hex);
	TH_LOG("sha256(1M x 'a') = %s", hex);
	EXPECT_STREQ("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", hex);
}

TEST(disks_behind_iommu)
{
	struct disk disks[MAX_DISKS];
	char pci[PATH_MAX], link[PATH_MAX], group[32], type[64];
	int i, n;

	n = need_disks(_metadata, disks);
	if (!n)
		return;
	for (i = 0; i < n; i++) {
		unsigned long vendor = 0, device = 0;

		int found = disk_pci_function(disks[i].name, pci, sizeof(pci));

		EXPECT_EQ(0, found) TH_LOG("%s: cannot find its PCI function", disks[i].name);
		if (found)
			continue;
		read_hex_attr(pci, "vendor", &vendor);
		read_hex_attr(pci, "device", &device);
		xsnprintf(link, sizeof(link), "%s/iommu_group", pci);
		if (link_basename(link, group, sizeof(group)))
			xsnprintf(group, sizeof(group), "NONE");
		if (!strcmp(group, "NONE") || group_type(group, type, sizeof(type)) < 0)
			xsnprintf(type, sizeof(type), "?");
		TH_LOG("%s: %s [%04lx:%04lx] iommu_group %s type %s, %llu bytes, lbs %u",
		       disks[i].name, strrchr(pci, '/') + 1, vendor, device, group, type,
		       disks[i].size, disks[i].lbs);
		EXPECT_STRNE("NONE", group) TH_LOG("%s: %s has no iommu_group", disks[i].name, pci);
		EXPECT_LT(disk_hash_bytes(), disks[i].size)
			TH_LOG("%s: smaller than VIOMMU_DISK_HASH_BYTES", disks[i].name);
	}
}

/*
 * Hashes the first VIOMMU_DISK_HASH_BYTES of every disk with O_DIRECT reads of io bytes into a
 * buffer that starts buf_off bytes after a page boundary.
 */
static void check_read_hash(struct __test_metadata *_metadata, size_t io, size_t buf_off)
{
	const char *want = disk_sha256();
	unsigned long long total = disk_hash_bytes();
	struct disk disks[MAX_DISKS];
	char hex[2 * SHA256_DIGEST_SIZE + 1];
	__u8 digest[SHA256_DIGEST_SIZE];
	int i, n;

	n = get_disks(disks, MAX_DISKS);
	for (i = 0; i < n; i++) {
		struct disk *d = &disks[i];
		unsigned long long pos = 0;
		struct sha256_ctx c;
		unsigned char *buf;
		double t0, t;
		int fd;

		ASSERT_EQ(0U, buf_off % d->lbs);
		buf = alloc_aligned(io + buf_off);
		ASSERT_NE(NULL, buf);
		fd = open_disk(d, O_RDONLY);
		ASSERT_LE(0, fd) TH_LOG("open %s: %s", d->dev, strerror(errno));
		sha256_init(&c);
		t = 0;
		while (pos < total) {
			unsigned long long want_len = total - pos < io ? total - pos : io;
			/* O_DIRECT needs whole logical blocks. */
			size_t len = (want_len + d->lbs - 1) / d->lbs * d->lbs;
			ssize_t got;

			/* Only the I/O is timed: hashing under TCG is slower than the disk. */
			t0 = now_seconds();
			got = pread(fd, buf + buf_off, len, pos);
			t += now_seconds() - t0;
			ASSERT_EQ((ssize_t)len, got)
				TH_LOG("%s: pread(%zu @ %llu) = %zd: %s", d->name, len, pos, got,
				       got < 0 ? strerror(errno) : "short read");
			sha256_update(&c, buf + buf_off, want_len);
			pos += want_len;
		}
		close(fd);
		free(buf);
		sha256_final(&c, digest);
		sha256_hex(digest, hex);
		TH_LOG("%s: sha256 of %llu bytes read with %zu-byte O_DIRECT I/Os (buf +%zu): %s",
		       d->name, total, io, buf_off, hex);
		ksft_print_msg(READ_RATE_FMT, d->name, io / 1024, buf_off, mb_per_s(total, t),
			       total, t);
		EXPECT_STREQ(want, hex) TH_LOG("%s: data read through the IOMMU differs", d->name);
	}
}

TEST(read_hash_4k)
{
	struct disk disks[MAX_DISKS];
	int n;

	n = need_disks(_metadata, disks);
	if (!n)
		return;
	if (!need_hash(_metadata))
		return;
	check_read_hash(_metadata, 4 * KiB, 0);
}

TEST(read_hash_64k)
{
	struct disk disks[MAX_DISKS];
	int n;

	n = need_disks(_metadata, disks);
	if (!n)
		return;
	if (!need_hash(_metadata))
		return;
	check_read_hash(_metadata, 64 * KiB, 0);
}

TEST(read_hash_1m)
{
	struct disk disks[MAX_DISKS];
	int n;

	n = need_disks(_metadata, disks);
	if (!n)
		return;
	if (!need_hash(_metadata))
		return;
	check_read_hash(_metadata, MiB, 0);
}

TEST(read_hash_odd_offset)
{
	struct disk disks[MAX_DISKS];
	int i, n;

	n = need_disks(_metadata, disks);
	if (!n)
		return;
	if (!need_hash(_metadata))
		return;
	for (i = 0; i < n; i++)
		if (disks[i].lbs != 512 || page_size() < 4096)
			SKIP(return, "%s: logical block size %u: no 512-byte sub-page offsets",
			     disks[i].name, disks[i].lbs);
	/* 64 KiB + 1.5 KiB reads into a buffer 1.5 KiB into a page: 17 pages per I/O. */
	check_read_hash(_metadata, 64 * KiB + 1536, 1536);
}

/*
 * Writes a fresh random pattern to the scratch area after the hashed bytes with io_w-byte
 * O_DIRECT writes from src_off into a page, reads it back with io_r-byte reads into another
 * buffer at dst_off, and compares.
 */
static void check_write_readback(struct __test_metadata *_metadata, size_t io_w, size_t io_r,
				 size_t src_off, size_t dst_off)
{
	struct disk disks[MAX_DISKS];
	unsigned long long start;
	int i, n;

	n = get_disks(disks, MAX_DISKS);
	start = (disk_hash_bytes() + MiB - 1) / MiB * MiB;
	for (i = 0; i < n; i++) {
		struct disk *d = &disks[i];
		unsigned long long len, pos;
		unsigned char *src, *dst;
		double t0, tw, tr;
		size_t k;
		int fd;

		if (d->size < start + MiB) {
			TH_LOG("%s: no scratch space after %llu bytes (size %llu), not written",
			       d->name, start, d->size);
			continue;
		}
		len = d->size - start < SCRATCH_MAX ? (d->size - start) / MiB * MiB : SCRATCH_MAX;
		ASSERT_EQ(0U, src_off % d->lbs);
		ASSERT_EQ(0U, dst_off % d->lbs);
		ASSERT_EQ(0U, io_w % d->lbs);
		ASSERT_EQ(0U, io_r % d->lbs);
		src = alloc_aligned(len + src_off);
		dst = alloc_aligned(len + dst_off);
		ASSERT_NE(NULL, src);
		ASSERT_NE(NULL, dst);
		fill_random(src + src_off, len, (__u64)time(NULL) ^ ((__u64)getpid() << 32) ^
			    io_w ^ (io_r << 20) ^ ((__u64)i << 40));
		memset(dst + dst_off, 0x5a, len);
		fd = open_disk(d, O_RDWR);
		ASSERT_LE(0, fd) TH_LOG("open %s: %s", d->dev, strerror(errno));

		t0 = now_seconds();
		for (pos = 0; pos < len; pos += io_w) {
			size_t chunk = len - pos < io_w ? len - pos : io_w;
			ssize_t got = pwrite(fd, src + src_off + pos, chunk, start + pos);

			ASSERT_EQ((ssize_t)chunk, got)
				TH_LOG("%s: pwrite(%zu @ %llu) = %zd: %s", d->name, chunk,
				       start + pos, got,
				       got < 0 ? strerror(errno) : "short write");
		}
		ASSERT_EQ(0, fdatasync(fd));
		tw = now_seconds() - t0;

		t0 = now_seconds();
		for (pos = 0; pos < len; pos += io_r) {
			size_t chunk = len - pos < io_r ? len - pos : io_r;
			ssize_t got = pread(fd, dst + dst_off + pos, chunk, start + pos);

			ASSERT_EQ((ssize_t)chunk, got)
				TH_LOG("%s: pread(%zu @ %llu) = %zd: %s", d->name, chunk,
				       start + pos, got,
				       got < 0 ? strerror(errno) : "short read");
		}
		tr = now_seconds() - t0;
		close(fd);

		for (k = 0; k < len && src[src_off + k] == dst[dst_off + k]; k++)
			;
		TH_LOG("%s: %llu bytes @%llu: write %zu-byte I/Os from +%zu, read %zu to +%zu: %s",
		       d->name, len, start, io_w, src_off, io_r, dst_off,
		       k == len ? "identical" : "DIFFERENT");
		ksft_print_msg("%s: O_DIRECT write %zu-byte I/Os %.1f MB/s, read %zu %.1f MB/s\n",
			       d->name, io_w, mb_per_s(len, tw), io_r, mb_per_s(len, tr));
		EXPECT_EQ(len, (unsigned long long)k)
			TH_LOG("%s: first difference at byte %zu of the scratch area (disk @%llu)",
			       d->name, k, start + k);
		free(src);
		free(dst);
	}
}

TEST(write_readback_4k)
{
	struct disk disks[MAX_DISKS];
	int n;

	n = need_disks(_metadata, disks);
	if (!n)
		return;
	if (!need_named_disks(_metadata))
		return;
	check_write_readback(_metadata, 4 * KiB, MiB, 0, 0);
}

TEST(write_readback_64k)
{
	struct disk disks[MAX_DISKS];
	int n;

	n = need_disks(_metadata, disks);
	if (!n)
		return;
	if (!need_named_disks(_metadata))
		return;
	check_write_readback(_metadata, 64 * KiB, 4 * KiB, 0, 0);
}

TEST(write_readback_1m)
{
	struct disk disks[MAX_DISKS];
	int n;

	n = need_disks(_metadata, disks);
	if (!n)
		return;
	if (!need_named_disks(_metadata))
		return;
	check_write_readback(_metadata, MiB, 64 * KiB, 0, 0);
}

TEST(write_readback_odd_offsets)
{
	struct disk disks[MAX_DISKS];
	int i, n;

	n = need_disks(_metadata, disks);
	if (!n)
		return;
	if (!need_named_disks(_metadata))
		return;
	for (i = 0; i < n; i++)
		if (disks[i].lbs != 512 || page_size() < 4096)
			SKIP(return, "%s: logical block size %u: no 512-byte sub-page offsets",
			     disks[i].name, disks[i].lbs);
	/* Sources and destinations that start mid-page and straddle page boundaries. */
	check_write_readback(_metadata, 9 * 512, MiB, 3 * 512, 5 * 512);
	check_write_readback(_metadata, 64 * KiB + 512, 9 * 512, 7 * 512, 512);
	check_write_readback(_metadata, MiB, 64 * KiB + 1536, 512, 3 * 512);
}

VIOMMU_TEST_TIMEOUT(read_hash_4k, IO_TIMEOUT)
VIOMMU_TEST_TIMEOUT(read_hash_64k, IO_TIMEOUT)
VIOMMU_TEST_TIMEOUT(read_hash_1m, IO_TIMEOUT)
VIOMMU_TEST_TIMEOUT(read_hash_odd_offset, IO_TIMEOUT)
VIOMMU_TEST_TIMEOUT(write_readback_4k, IO_TIMEOUT)
VIOMMU_TEST_TIMEOUT(write_readback_64k, IO_TIMEOUT)
VIOMMU_TEST_TIMEOUT(write_readback_1m, IO_TIMEOUT)
VIOMMU_TEST_TIMEOUT(write_readback_odd_offsets, IO_TIMEOUT)

TEST_HARNESS_MAIN
