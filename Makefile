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

else
# ---------------------------------------------------------------------------------------------
# Developer targets
# ---------------------------------------------------------------------------------------------
# USER-TARGETS
endif
