# SPDX-License-Identifier: GPL-2.0
#
# virtio-iommu-rs: one file for two jobs.
#  - Inside Kbuild (KERNELRELEASE set): builds the module virtio_iommu_rs.ko, in-tree
#    (CONFIG_VIRTIO_IOMMU_RS) or out-of-tree (make -C $KDIR M=$PWD).
#  - Otherwise: the developer targets (make run / make check / ...), see README.md.

ifneq ($(KERNELRELEASE),)
# ---------------------------------------------------------------------------------------------
# Kbuild
# ---------------------------------------------------------------------------------------------
obj-$(or $(CONFIG_VIRTIO_IOMMU_RS),m) += virtio_iommu_rs.o
virtio_iommu_rs-y := virtio_iommu.o sys/virtio_helpers.o sys/iommu_helpers.o

# KBUILD-BINDGEN: the module's own bindgen step (sys/bindings.h -> sys/bindings_generated.rs).
#
# Mirrors rust/Makefile's bindgen invocation. `--no-recursive-allowlist` plus the raw line
# `use kernel::bindings::*;` makes the generated items refer to the kernel crate's own types
# (`device`, `device_driver`, `scatterlist`, ...), so every local type must be listed here.
viommu_bindgen_types := virtio_driver virtio_device_id virtqueue virtqueue_info vq_callback_t \
	__u32
viommu_bindgen_opaque := virtio_device
viommu_bindgen_funcs := viommu_.* __register_virtio_driver unregister_virtio_driver \
	virtqueue_add_sgs virtqueue_kick virtqueue_get_buf virtqueue_detach_unused_buf \
	virtqueue_disable_cb virtqueue_enable_cb virtqueue_is_broken \
	virtio_reset_device virtio_break_device virtio_add_status
viommu_bindgen_vars := VIRTIO_ID_IOMMU VIRTIO_F_VERSION_1 VIRTIO_CONFIG_S_DRIVER_OK \
	VIRTIO_CONFIG_S_ACKNOWLEDGE
# sys/iommu: the IOMMU core items kernel::bindings lacks (add here as needed).
# viommu_bindgen_funcs += ...

viommu_bindgen_flags := --no-recursive-allowlist --raw-line 'use kernel::bindings::*;' \
	$(foreach t,$(viommu_bindgen_types) $(viommu_bindgen_opaque),--allowlist-type '$(t)') \
	$(foreach t,$(viommu_bindgen_opaque),--opaque-type '$(t)') \
	$(foreach f,$(viommu_bindgen_funcs),--allowlist-function '$(f)') \
	$(foreach v,$(viommu_bindgen_vars),--allowlist-var '$(v)')

ifdef CONFIG_CC_IS_CLANG
viommu_bindgen_c_flags = $(c_flags)
else
# A GCC-built kernel: libclang parses the headers, so drop the GCC-only flags (copy of
# rust/Makefile's private bindgen_skip_c_flags) and name the target triple.
viommu_bindgen_skip_c_flags := -mno-fp-ret-in-387 -mpreferred-stack-boundary=% \
	-mskip-rax-setup -mgeneral-regs-only -msign-return-address=% \
	-mindirect-branch=thunk-extern -mindirect-branch-register \
	-mfunction-return=thunk-extern -mrecord-mcount -mabi=lp64 \
	-mindirect-branch-cs-prefix -mstack-protector-guard% -mtraceback=no \
	-mno-pointers-to-nested-functions -mno-string \
	-mno-strict-align -mstrict-align -mdirect-extern-access \
	-mexplicit-relocs -mno-check-zero-division \
	-fconserve-stack -falign-jumps=% -falign-loops=% \
	-femit-struct-debug-baseonly -fno-ipa-cp-clone -fno-ipa-sra \
	-fno-partial-inlining -fplugin-arg-arm_ssp_per_task_plugin-% \
	-fno-reorder-blocks -fno-allow-store-data-races -fasan-shadow-offset=% \
	-fzero-call-used-regs=% -fno-stack-clash-protection \
	-fno-inline-functions-called-once -fsanitize=bounds-strict \
	-fstrict-flex-arrays=% -fmin-function-alignment=% \
	-fzero-init-padding-bits=% -mno-fdpic \
	-fdiagnostics-show-context -fdiagnostics-show-context=% \
	--param=% --param asan-% -fno-isolate-erroneous-paths-dereference \
	-ffixed-r2 -mmultiple -mno-readonly-in-sdata
viommu_bindgen_target_x86 := x86_64-linux-gnu
viommu_bindgen_target_arm64 := aarch64-linux-gnu
viommu_bindgen_c_flags = $(filter-out $(viommu_bindgen_skip_c_flags), $(c_flags)) \
	-w --target=$(viommu_bindgen_target_$(SRCARCH))
endif
ifdef CONFIG_LTO
viommu_bindgen_c_flags_final = $(filter-out $(CC_FLAGS_LTO), $(viommu_bindgen_c_flags))
else
viommu_bindgen_c_flags_final = $(viommu_bindgen_c_flags)
endif

quiet_cmd_viommu_bindgen = BINDGEN $@
      cmd_viommu_bindgen = \
	$(BINDGEN) $< $(viommu_bindgen_flags) --rust-target 1.85 \
		--use-core --with-derive-default --ctypes-prefix ffi --no-layout-tests \
		--no-debug '.*' --enable-function-attribute-detection \
		-o $@ -- $(viommu_bindgen_c_flags_final) -fno-builtin -D__BINDGEN__ -DMODULE

$(obj)/sys/bindings_generated.rs: $(src)/sys/bindings.h FORCE
	$(call if_changed_dep,viommu_bindgen)

targets += sys/bindings_generated.rs
clean-files += sys/bindings_generated.rs
# The crate root includes the generated file (sys/bindings.rs), from the object tree: in-tree
# builds with O= keep generated files apart from the sources.
$(obj)/virtio_iommu.o: $(obj)/sys/bindings_generated.rs
$(obj)/virtio_iommu.o: export VIOMMU_RS_OBJ := $(abspath $(obj))

else
# ---------------------------------------------------------------------------------------------
# Developer targets
# ---------------------------------------------------------------------------------------------
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
	clippy help bench

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
endif
