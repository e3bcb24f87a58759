# SPDX-License-Identifier: GPL-2.0
#
# virtio-iommu-rs developer targets (make run / make check / ...), see README.md.
# The module itself is built by Kbuild from the file `Kbuild` (Kbuild never reads this file).

LAB := $(CURDIR)/selftests/lab
ARCH ?= x86_64
DRIVER ?= rust
export ARCH DRIVER SUITE QEMU_IOMMU_OPTS MODPARAMS ACCEL CMDLINE BOOT_TIMEOUT KDIR VIOMMU_CACHE SMP V \
	MEM VARIANT RUST_MODULE_DIR
FUZZ_SECONDS ?= 30

# Kernel tree to build the module against: yours (KDIR=...) or the lab's cached one.
KBUILD_DIR = $(eval KBUILD_DIR := $(or $(KDIR),$(shell $(LAB)/kernel.sh $(ARCH) $(VARIANT))))$(KBUILD_DIR)
IN_ROOT = $(if $(KDIR),,$(LAB)/inroot.sh)
KMAKE = $(IN_ROOT) $(MAKE) -C $(KBUILD_DIR) M=$(CURDIR) \
	ARCH=$(if $(filter x86_64,$(ARCH)),x86,$(ARCH)) \
	$(if $(shell grep -s '^CONFIG_CC_IS_CLANG=y' $(KBUILD_DIR)/.config),LLVM=1)
RUST_SOURCES = $(shell git ls-files '*.rs' 2>/dev/null | grep -v -e '^uapi/fuzz/' -e generated)

.PHONY: all modules clean run check vmtest shell test-host fuzz kernel root rustfmt rustfmtcheck \
	clippy help bench profile intree

all: modules

## modules: build virtio_iommu_rs.ko against KDIR (default: the lab kernel for ARCH)
modules:
	$(KMAKE) modules

## clippy: build the module with CLIPPY=1, warnings as errors
clippy:
	$(KMAKE) CLIPPY=1 KRUSTFLAGS=-Dwarnings modules

## rustfmt / rustfmtcheck: format / check the Rust sources with the kernel's rustfmt settings
rustfmt rustfmtcheck:
	$(IN_ROOT) rustfmt --edition 2021 --config-path $(shell $(LAB)/ksrc.sh)/.rustfmt.toml \
		$(if $(filter rustfmtcheck,$@),--check) $(RUST_SOURCES)

## run: boot a guest (ARCH, DRIVER), load the driver and print a report of groups, domains,
##      reserved regions, DMA checks and the selftests
run:
	MODE=run $(LAB)/vm.sh

## vmtest: boot a guest (ARCH, DRIVER) and run the selftests; QEMU_IOMMU_OPTS= adds properties;
##         SUITE=vfio runs the kernel's VFIO selftests against igb instead
vmtest:
	MODE=test $(LAB)/vm.sh

## shell: boot a guest with an interactive console
shell:
	MODE=shell $(LAB)/vm.sh

## test-host: unit and property tests of the protocol core on the host (cargo test)
test-host:
	cd uapi && cargo test

## fuzz: run every fuzz target for FUZZ_SECONDS each
fuzz:
	uapi/fuzz.sh $(FUZZ_SECONDS)

## check: host tests, short fuzzing, module builds and the guest selftests on both
##        architectures; ends with "N passed, N failed, N skipped"
check:
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(LAB)/check.sh

## bench: dma_map_benchmark, C vs Rust driver, alternating boots (ROUNDS=3); prints ratios
bench:
	$(LAB)/bench.sh

## profile: where the guest's instructions go per map+unmap (dma_map_benchmark), per function,
##          C vs Rust and their difference (PROFILE_SECONDS=, PROFILE_TOP=, DRIVERS=)
profile:
	$(LAB)/profile.sh

## intree: the driver as a patch series for a kernel tree (KSRC=, OUT=, default
##         out/intree-patches; AUTHOR=), checked: git am, checkpatch, rustfmt, =y and =m builds
intree:
	$(LAB)/intree.sh

## kernel / root: build the cached test kernel for ARCH (and VARIANT) / the toolchain root
kernel:
	$(LAB)/kernel.sh $(ARCH) $(VARIANT)
root:
	$(LAB)/root.sh

clean:
	$(KMAKE) clean
	rm -rf uapi/target

## help: this list
help:
	@sed -n 's/^## //p' $(firstword $(MAKEFILE_LIST))
