// SPDX-License-Identifier: GPL-2.0
/*
 * Unloading and reloading the IOMMU driver module under test (c -> virtio_iommu, rust ->
 * virtio_iommu_rs: the driver bound to the virtio-iommu, or VIOMMU_DRIVER). Runs last: it takes
 * every endpoint off its driver, disks included, and reloads the module from
 * /lib/modules/<module>.ko, so the unload only runs when VIOMMU_DRIVER names the driver (the
 * lab's guests, whose root is an initramfs); without it the unload and what follows skip.
 *
 *   module_pinned_by_endpoints   the IOMMU core holds a module reference per probed endpoint
 *   unload_module                endpoints unbound, the IOMMU device released, module removed
 *   iommu_gone                   no IOMMU instance, no group, no device with an iommu_group left
 *   no_kmemleak_after_unload     kmemleak finds no unreferenced object allocated from the module
 *   reload_module                finit_module() again, while a child asks the PCI bus to probe
 *                                every endpoint over and over: the IOMMU and every group come
 *                                back, no endpoint probed in the middle of the registration
 *   endpoints_work_after_reload  the endpoints' drivers bound again, disks hash right
 *
 * The tests run in order and hand state to each other through STATE_FILE (every test runs in
 * its own process). The last two restore the system whatever happened before.
 */
#include <linux/elf.h>
#include <linux/types.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "viommu_util.h"
#include "vfio_util.h"
#include "disk_util.h"
#include "sha256.h"

#define STATE_FILE		"/tmp/module_reload.state"
#define MODULE_DIR		"/lib/modules"
#define KMEMLEAK		"/sys/kernel/debug/kmemleak"
#define VIRTIO_DEVICES_DIR	"/sys/bus/virtio/devices"
#define VIRTIO_DRIVERS_DIR	"/sys/bus/virtio/drivers"
#define MAX_EPS			64
#define MAX_RANGES		64
#define MAX_DISKS		8
#define DISK_WAIT_S		30.0
#define KMEMLEAK_AGE_S		6	/* kmemleak reports objects older than 5 s */
#define TEST_TIMEOUT_S		600
#define MAX_PRINTED_LINES	400
#define UNLOAD_OPT_IN_FMT	"unloading %s unbinds every endpoint behind the virtio-iommu, disks included, and needs %s/%s.ko to reload it: set VIOMMU_DRIVER to allow it"
#define C_PINNED_FMT		"virtio_iommu is pinned by design (the IOMMU core holds one reference per probed endpoint: refcnt %ld); releasing them means unbinding the virtio-iommu, and the C driver's viommu_remove() oopses (iommu_device_sysfs_remove() before iommu_device_unregister())"

struct endpoint {
	char bdf[32];
	char driver[64];	/* "" when none was bound */
};

struct state {
	char module[64];
	int n_eps;
	struct endpoint eps[MAX_EPS];	/* every PCI function with an iommu_group */
	char viommu_vdev[64];		/* virtio device unbound from the IOMMU driver, if any */
	char viommu_vdrv[64];
	int n_ranges;
	unsigned long long range[MAX_RANGES][2];	/* the module's code, [start, end) */
};

static const char *module_name(void)
{
	if (driver_is("c"))
		return C_DRIVER;
	if (driver_is("rust"))
		return RUST_DRIVER;
	return NULL;
}

static bool module_loaded(const char *mod)
{
	char path[PATH_MAX];

	xsnprintf(path, sizeof(path), "/sys/module/%s", mod);
	return path_exists(path);
}

static long module_refcnt(const char *mod)
{
	char path[PATH_MAX], buf[32];

	xsnprintf(path, sizeof(path), "/sys/module/%s/refcnt", mod);
	if (read_text(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtol(buf, NULL, 10);
}

static int state_save(const struct state *s)
{
	FILE *f = fopen(STATE_FILE, "we");
	int i;

	if (!f)
		return -errno;
	fprintf(f, "module %s\n", s->module);
	for (i = 0; i < s->n_eps; i++)
		fprintf(f, "ep %s %s\n", s->eps[i].bdf,
			s->eps[i].driver[0] ? s->eps[i].driver : "-");
	if (s->viommu_vdev[0])
		fprintf(f, "viommu %s %s\n", s->viommu_vdev, s->viommu_vdrv);
	for (i = 0; i < s->n_ranges; i++)
		fprintf(f, "text %llx %llx\n", s->range[i][0], s->range[i][1]);
	return fclose(f) ? -errno : 0;
}

static int state_load(struct state *s)
{
	char line[256], a[64], b[64];
	FILE *f;

	memset(s, 0, sizeof(*s));
	f = fopen(STATE_FILE, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "module %63s", s->module) == 1)
			continue;
		if (sscanf(line, "ep %63s %63s", a, b) == 2 && s->n_eps < MAX_EPS) {
			xsnprintf(s->eps[s->n_eps].bdf, sizeof(s->eps[0].bdf), "%s", a);
			xsnprintf(s->eps[s->n_eps].driver, sizeof(s->eps[0].driver), "%s",
				  strcmp(b, "-") ? b : "");
			s->n_eps++;
			continue;
		}
		if (sscanf(line, "viommu %63s %63s", s->viommu_vdev, s->viommu_vdrv) == 2)
			continue;
		if (s->n_ranges < MAX_RANGES &&
		    sscanf(line, "text %llx %llx", &s->range[s->n_ranges][0],
			   &s->range[s->n_ranges][1]) == 2)
			s->n_ranges++;
	}
	fclose(f);
	return 0;
}

/*
 * The module's executable sections in memory: sizes from the .ko's section headers, addresses
 * from /sys/module/<mod>/sections. After the unload, kmemleak prints the module's frames as
 * bare addresses; these ranges name them.
 */
static int module_text_ranges(struct state *s)
{
	char path[PATH_MAX], buf[64];
	struct elf64_shdr *sh = NULL;
	struct elf64_hdr eh;
	char *names = NULL;
	int fd, i, ret = -EINVAL;

	xsnprintf(path, sizeof(path), "%s/%s.ko", MODULE_DIR, s->module);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(struct elf64_shdr) ||
	    eh.e_shstrndx >= eh.e_shnum)
		goto out;
	sh = calloc(eh.e_shnum, sizeof(*sh));
	if (!sh || pread(fd, sh, eh.e_shnum * sizeof(*sh), eh.e_shoff) !=
		   (ssize_t)(eh.e_shnum * sizeof(*sh)))
		goto out;
	names = calloc(1, sh[eh.e_shstrndx].sh_size + 1);
	if (!names || pread(fd, names, sh[eh.e_shstrndx].sh_size, sh[eh.e_shstrndx].sh_offset) !=
		      (ssize_t)sh[eh.e_shstrndx].sh_size)
		goto out;
	for (i = 0; i < eh.e_shnum && s->n_ranges < MAX_RANGES; i++) {
		unsigned long long addr;

		if (!(sh[i].sh_flags & SHF_ALLOC) || !(sh[i].sh_flags & SHF_EXECINSTR) ||
		    !sh[i].sh_size || sh[i].sh_name >= sh[eh.e_shstrndx].sh_size)
			continue;
		xsnprintf(path, sizeof(path), "/sys/module/%s/sections/%s", s->module,
			  names + sh[i].sh_name);
		if (read_text(path, buf, sizeof(buf)) <= 0)
			continue;
		addr = strtoull(buf, NULL, 16);
		if (!addr)
			continue;
		s->range[s->n_ranges][0] = addr;
		s->range[s->n_ranges][1] = addr + sh[i].sh_size;
		s->n_ranges++;
	}
	ret = 0;
out:
	free(sh);
	free(names);
	close(fd);
	return ret;
}

/* The virtio device bound to a driver of the module (the virtio-iommu). */
static int find_viommu_vdev(const char *mod, char *dev, size_t dsize, char *drv, size_t rsize)
{
	char **names, link[PATH_MAX], owner[64];
	int i, n, ret = -ENOENT;

	n = list_dir(VIRTIO_DEVICES_DIR, &names);
	if (n < 0)
		return n;
	for (i = 0; i < n && ret; i++) {
		xsnprintf(link, sizeof(link), "%s/%s/driver", VIRTIO_DEVICES_DIR, names[i]);
		if (link_basename(link, drv, rsize))
			continue;
		xsnprintf(link, sizeof(link), "%s/%s/module", VIRTIO_DRIVERS_DIR, drv);
		if (link_basename(link, owner, sizeof(owner)) || strcmp(owner, mod))
			continue;
		xsnprintf(dev, dsize, "%s", names[i]);
		ret = 0;
	}
	free_names(names, n);
	return ret;
}

static int count_entries(const char *dir)
{
	char **names;
	int n = list_dir(dir, &names);

	if (n > 0)
		free_names(names, n);
	return n == -ENOENT ? 0 : n;
}

/* Module parameters the runner's /init loaded the driver with (VIOMMU_MODPARAMS). */
static void module_params(char *out, size_t size)
{
	xsnprintf(out, size, "%s", viommu_env("VIOMMU_MODPARAMS") ?: "");
}

/* The module under test, or NULL after a skip. */
static const char *need_module(struct __test_metadata *_metadata)
{
	const char *mod = module_name();

	if (!mod)
		SKIP(return NULL, "the virtio-iommu's driver (%s) is neither %s nor %s",
		     viommu_driver(), C_DRIVER, RUST_DRIVER);
	return mod;
}

/* Loads the state unload_module left; false (a skip) when it did not run or skipped. */
static bool load_state(struct __test_metadata *_metadata, struct state *s)
{
	int ret = state_load(s);

	if (ret == -ENOENT)
		SKIP(return false, "%s missing: unload_module did not run (or skipped)",
		     STATE_FILE);
	EXPECT_EQ(0, ret) TH_LOG("%s: %s", STATE_FILE, strerror(-ret));
	return !ret;
}

TEST(module_pinned_by_endpoints)
{
	struct pci_dev_info *devs;
	const char *mod;
	int i, n, probed = 0;
	long ref;

	mod = need_module(_metadata);
	if (!mod)
		return;
	if (!module_loaded(mod))
		SKIP(return, "%s is not loaded (built in?)", mod);
	n = pci_list(&devs);
	ASSERT_LT(0, n);
	for (i = 0; i < n; i++)
		probed += devs[i].group[0] != 0;
	free(devs);
	ref = module_refcnt(mod);
	TH_LOG("%s: refcnt %ld, %d PCI functions in IOMMU groups", mod, ref, probed);
	ASSERT_LT(0, probed);
	/* __iommu_probe_device() takes a reference on ops->owner per endpoint. */
	EXPECT_LE(probed, ref)
		TH_LOG("%s can be unloaded under its %d endpoints: iommu_ops.owner is not it",
		       mod, probed);
}

TEST(unload_module)
{
	struct pci_dev_info *devs;
	char **names, path[PATH_MAX];
	struct state s;
	const char *mod;
	int i, n, ret;
	long ref;

	mod = need_module(_metadata);
	if (!mod)
		return;
	unlink(STATE_FILE);
	if (!module_loaded(mod))
		SKIP(return, "%s is not loaded (built in?)", mod);
	if (!viommu_env("VIOMMU_DRIVER"))
		SKIP(return, UNLOAD_OPT_IN_FMT, mod, MODULE_DIR, mod);
	memset(&s, 0, sizeof(s));
	xsnprintf(s.module, sizeof(s.module), "%s", mod);
	ret = module_text_ranges(&s);
	EXPECT_EQ(0, ret) TH_LOG("%s/%s.ko: cannot read its sections: %s", MODULE_DIR, mod,
				 strerror(-ret));
	EXPECT_LT(0, s.n_ranges) TH_LOG("no executable section of %s found in sysfs", mod);
	for (i = 0; i < s.n_ranges; i++)
		TH_LOG("%s code: [0x%llx, 0x%llx)", mod, s.range[i][0], s.range[i][1]);

	n = pci_list(&devs);
	ASSERT_LT(0, n);
	for (i = 0; i < n && s.n_eps < MAX_EPS; i++) {
		struct endpoint *ep = &s.eps[s.n_eps];

		if (!devs[i].group[0] || pci_is_viommu(&devs[i]))
			continue;
		xsnprintf(ep->bdf, sizeof(ep->bdf), "%s", devs[i].bdf);
		ASSERT_EQ(0, pci_driver_of(ep->bdf, ep->driver, sizeof(ep->driver)));
		s.n_eps++;
	}
	free(devs);
	ASSERT_EQ(0, state_save(&s));
	for (i = 0; i < s.n_eps; i++) {
		if (!s.eps[i].driver[0])
			continue;
		ret = pci_unbind(s.eps[i].bdf);
		TH_LOG("unbind %s from %s: %s", s.eps[i].bdf, s.eps[i].driver,
		       ret ? strerror(-ret) : "ok");
		ASSERT_EQ(0, ret);
	}

	ref = module_refcnt(mod);
	ret = syscall(SYS_delete_module, mod, O_NONBLOCK) ? -errno : 0;
	TH_LOG("delete_module(%s) with the IOMMU device bound (refcnt %ld): %s", mod, ref,
	       ret ? strerror(-ret) : "unloaded");
	if (ret) {
		/*
		 * Expected: the core holds a reference per probed endpoint until the IOMMU
		 * instance goes. Release it by unbinding the virtio-iommu from the driver.
		 */
		ASSERT_TRUE(ret == -EWOULDBLOCK || ret == -EBUSY);
		/*
		 * The C driver's viommu_remove() calls iommu_device_sysfs_remove() (which sets
		 * iommu->dev = NULL) before iommu_device_unregister(), whose release of each
		 * endpoint dereferences iommu->dev in iommu_device_unlink(): unbinding it oopses
		 * (NULL pointer at 0x30 in sysfs_remove_link_from_group, seen on 7.3.4).
		 */
		if (!strcmp(mod, "virtio_iommu"))
			SKIP(return, C_PINNED_FMT, ref);
		ret = find_viommu_vdev(mod, s.viommu_vdev, sizeof(s.viommu_vdev), s.viommu_vdrv,
				       sizeof(s.viommu_vdrv));
		ASSERT_EQ(0, ret) TH_LOG("no virtio device bound to a driver of %s", mod);
		ASSERT_EQ(0, state_save(&s));
		xsnprintf(path, sizeof(path), "%s/%s/unbind", VIRTIO_DRIVERS_DIR, s.viommu_vdrv);
		ret = write_text(path, s.viommu_vdev);
		TH_LOG("unbind %s from %s: %s", s.viommu_vdev, s.viommu_vdrv,
		       ret ? strerror(-ret) : "ok");
		ASSERT_EQ(0, ret);
		ref = module_refcnt(mod);
		ret = syscall(SYS_delete_module, mod, O_NONBLOCK) ? -errno : 0;
		TH_LOG("delete_module(%s) after that (refcnt %ld): %s", mod, ref,
		       ret ? strerror(-ret) : "unloaded");
		if (ret && !strcmp(mod, "virtio_iommu") && ref > 0) {
			n = list_dir("/sys/module/virtio_iommu/holders", &names);
			for (i = 0; i < n; i++)
				TH_LOG("holder: %s", names[i]);
			if (n > 0)
				free_names(names, n);
		}
		ASSERT_EQ(0, ret)
			TH_LOG("%s stays pinned (refcnt %ld), no endpoint bound, no IOMMU device",
			       mod, ref);
	}
	EXPECT_FALSE(module_loaded(mod)) TH_LOG("/sys/module/%s still there", mod);
}

TEST(iommu_gone)
{
	struct pci_dev_info *devs;
	const char *mod;
	double end;
	int i, n, left;

	mod = need_module(_metadata);
	if (!mod)
		return;
	if (module_loaded(mod))
		SKIP(return, "%s is still loaded (unload_module did not unload it)", mod);
	if (!path_exists(STATE_FILE))
		SKIP(return, "%s missing: unload_module did not run (or skipped)", STATE_FILE);
	/* Group release may trail the module removal by a little. */
	end = now_seconds() + 2;
	while ((count_entries(IOMMU_CLASS_DIR) || count_entries(IOMMU_GROUPS_DIR)) &&
	       now_seconds() < end)
		usleep(20000);
	n = count_entries(IOMMU_CLASS_DIR);
	TH_LOG("%s: %d entries; %s: %d entries", IOMMU_CLASS_DIR, n, IOMMU_GROUPS_DIR,
	       count_entries(IOMMU_GROUPS_DIR));
	EXPECT_EQ(0, n) TH_LOG("an IOMMU instance outlived its driver");
	EXPECT_EQ(0, count_entries(IOMMU_GROUPS_DIR)) TH_LOG("IOMMU groups outlived the driver");
	n = pci_list(&devs);
	ASSERT_LT(0, n);
	for (i = 0, left = 0; i < n; i++) {
		if (!devs[i].group[0])
			continue;
		left++;
		TH_LOG("%s still has iommu_group %s", devs[i].bdf, devs[i].group);
	}
	free(devs);
	EXPECT_EQ(0, left);
}

TEST(no_kmemleak_after_unload)
{
	char line[512], header[512];
	bool in_bt = false, mine = false;
	int records = 0, found = 0, printed = 0, i, ret;
	struct state s;
	char tag[80];
	FILE *f;

	if (!load_state(_metadata, &s))
		return;
	if (!s.module[0])
		SKIP(return, "no module recorded by unload_module");
	if (module_loaded(s.module))
		SKIP(return, "%s is still loaded (unload_module did not unload it)", s.module);
	if (!path_exists(KMEMLEAK))
		SKIP(return, "%s absent (CONFIG_DEBUG_KMEMLEAK, debugfs)", KMEMLEAK);
	xsnprintf(tag, sizeof(tag), "[%s]", s.module);

	/* An object is reported once it is old enough and unreferenced in two scans. */
	sleep(KMEMLEAK_AGE_S);
	ret = write_text(KMEMLEAK, "scan");
	if (ret == -EPERM || ret == -EBUSY)
		SKIP(return, "kmemleak is disabled (%s)", strerror(-ret));
	ASSERT_EQ(0, ret) TH_LOG("kmemleak scan: %s", strerror(-ret));
	sleep(KMEMLEAK_AGE_S);
	ASSERT_EQ(0, write_text(KMEMLEAK, "scan"));

	f = fopen(KMEMLEAK, "re");
	if (!f && (errno == EBUSY || errno == EPERM))
		SKIP(return, "kmemleak is disabled (%s)", strerror(errno));
	ASSERT_NE(NULL, f) TH_LOG("%s: %s", KMEMLEAK, strerror(errno));
	header[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a;
		char *p;

		if (!strncmp(line, "unreferenced object", 19)) {
			if (mine)
				found++;
			records++;
			mine = false;
			in_bt = false;
			xsnprintf(header, sizeof(header), "%s", line);
		} else if (strstr(line, "backtrace")) {
			in_bt = true;
		} else if (in_bt) {
			if (strstr(line, tag))
				mine = true;
			p = line + strspn(line, " \t");
			a = strncmp(p, "0x", 2) ? 0 : strtoull(p, NULL, 16);
			if (a)
				for (i = 0; i < s.n_ranges; i++)
					if (a >= s.range[i][0] && a < s.range[i][1])
						mine = true;
		}
		if (printed < MAX_PRINTED_LINES) {
			ksft_print_msg("kmemleak: %s", line);
			printed++;
		}
	}
	if (mine)
		found++;
	fclose(f);
	TH_LOG("kmemleak: %d unreferenced objects, %d allocated from %s code", records, found,
	       s.module);
	EXPECT_EQ(0, found)
		TH_LOG("%s leaked %d objects (backtraces above; bare addresses: its code ranges)",
		       s.module, found);
}

/*
 * A probe storm: from the moment the IOMMU instance appears in sysfs, one child per endpoint
 * writes it to /sys/bus/pci/drivers_probe, over and over, so that endpoint driver probes overlap
 * the IOMMU core's registration walk (an endpoint bound in the middle of it was once skipped and
 * left untranslated, silently). Fills pids[] (0 where fork failed); returns the number started.
 */
static int start_probe_storm(const struct state *s, double seconds, pid_t *pids)
{
	double end = now_seconds() + seconds;
	int i, n = 0;

	for (i = 0; i < s->n_eps; i++) {
		pids[i] = 0;
		if (!s->eps[i].driver[0])
			continue;
		pids[i] = fork();
		if (pids[i] < 0) {
			pids[i] = 0;
		} else if (pids[i] > 0) {
			n++;
		} else {
			while (count_entries(IOMMU_CLASS_DIR) < 1 && now_seconds() < end)
				;
			while (now_seconds() < end)
				pci_probe(s->eps[i].bdf);
			_exit(0);
		}
	}
	return n;
}

/* Stops the probe storm. */
static void stop_probe_storm(const struct state *s, pid_t *pids)
{
	int i;

	for (i = 0; i < s->n_eps; i++) {
		if (pids[i] <= 0)
			continue;
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
		pids[i] = 0;
	}
}

TEST(reload_module)
{
	char path[PATH_MAX], params[256];
	struct pci_dev_info *devs;
	int fd, i, n, ret, missing = 0;
	struct state s;
	pid_t storm[MAX_EPS];
	double end;

	if (!load_state(_metadata, &s))
		return;
	if (!s.module[0])
		SKIP(return, "no module recorded by unload_module");
	if (module_loaded(s.module)) {
		/* The unload failed half way: give the IOMMU device back to its driver. */
		if (s.viommu_vdev[0])
			write_text("/sys/bus/virtio/drivers_probe", s.viommu_vdev);
		SKIP(return, "%s is still loaded (unload_module did not unload it)", s.module);
	}
	module_params(params, sizeof(params));
	xsnprintf(path, sizeof(path), "%s/%s.ko", MODULE_DIR, s.module);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	TH_LOG("probe storm: %d endpoint(s) probed in a loop during the reload",
	       start_probe_storm(&s, 20, storm));
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	TH_LOG("finit_module(%s, \"%s\"): %s", path, params, ret ? strerror(-ret) : "ok");
	if (ret)
		stop_probe_storm(&s, storm);
	ASSERT_EQ(0, ret);
	ASSERT_TRUE(module_loaded(s.module));

	end = now_seconds() + 10;
	while (count_entries(IOMMU_CLASS_DIR) < 1 && now_seconds() < end)
		usleep(20000);
	EXPECT_EQ(1, count_entries(IOMMU_CLASS_DIR)) TH_LOG("no IOMMU instance after the reload");
	/* Registration happens in the driver's probe, within finit_module: the walk is over. */
	stop_probe_storm(&s, storm);
	n = pci_list(&devs);
	ASSERT_LT(0, n);
	for (i = 0; i < s.n_eps; i++) {
		int j;

		for (j = 0; j < n && strcmp(devs[j].bdf, s.eps[i].bdf); j++)
			;
		if (j == n || !devs[j].group[0]) {
			missing++;
			TH_LOG("%s has no iommu_group after the reload", s.eps[i].bdf);
		}
	}
	free(devs);
	TH_LOG("%d of %d endpoints back in IOMMU groups", s.n_eps - missing, s.n_eps);
	EXPECT_EQ(0, missing);
}

TEST(endpoints_work_after_reload)
{
	char hex[2 * SHA256_DIGEST_SIZE + 1], path[PATH_MAX], drv[64], type[32], group[32];
	char names[MAX_DISKS][DISK_NAME_MAX];
	const char *want = disk_sha256();
	int i, ret, disks;
	struct state s;

	if (!load_state(_metadata, &s))
		return;
	for (i = 0; i < s.n_eps; i++) {
		if (!s.eps[i].driver[0])
			continue;
		ret = pci_driver_of(s.eps[i].bdf, drv, sizeof(drv));
		if (!ret && !strcmp(drv, s.eps[i].driver))
			continue;
		ret = pci_bind(s.eps[i].bdf, s.eps[i].driver);
		if (ret)
			ret = pci_probe(s.eps[i].bdf);
		pci_driver_of(s.eps[i].bdf, drv, sizeof(drv));
		xsnprintf(path, sizeof(path), "%s/%s/iommu_group", PCI_DEVICES_DIR, s.eps[i].bdf);
		if (link_basename(path, group, sizeof(group)) ||
		    group_type(group, type, sizeof(type)) < 0)
			xsnprintf(type, sizeof(type), "no group");
		TH_LOG("%s: bound to %s (was %s), domain %s", s.eps[i].bdf,
		       drv[0] ? drv : "nothing", s.eps[i].driver, type);
		EXPECT_STREQ(s.eps[i].driver, drv);
		EXPECT_TRUE(!strcmp(type, "DMA") || !strcmp(type, "DMA-FQ"))
			TH_LOG("%s: domain type %s after the reload", s.eps[i].bdf, type);
	}
	if (!want || !disks_named())
		SKIP(return, "VIOMMU_DISKS unset or " DISK_HASH_SKIP_REASON);
	disks = disk_list(names, MAX_DISKS);
	for (i = 0; i < disks; i++) {
		const char *tok = names[i];

		xsnprintf(path, sizeof(path), "/sys/block/%s", tok);
		EXPECT_TRUE(wait_path(path, true, DISK_WAIT_S))
			TH_LOG("%s did not come back within %.0f s", tok, DISK_WAIT_S);
		if (!path_exists(path))
			continue;
		ret = hash_disk(tok, disk_hash_bytes(), hex);
		EXPECT_EQ(0, ret) TH_LOG("reading %s: %s", tok, strerror(-ret));
		if (ret)
			continue;
		TH_LOG("%s after the reload: sha256 of %llu bytes %s", tok, disk_hash_bytes(), hex);
		EXPECT_STREQ(want, hex) TH_LOG("%s: data read after the reload differs", tok);
	}
	EXPECT_LT(0, disks);
}

VIOMMU_TEST_TIMEOUT(unload_module, TEST_TIMEOUT_S)
VIOMMU_TEST_TIMEOUT(no_kmemleak_after_unload, TEST_TIMEOUT_S)
VIOMMU_TEST_TIMEOUT(reload_module, TEST_TIMEOUT_S)
VIOMMU_TEST_TIMEOUT(endpoints_work_after_reload, TEST_TIMEOUT_S)

TEST_HARNESS_MAIN
