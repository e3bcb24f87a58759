/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers for the iommu abstractions (sys/iommu/): static inlines and macros Rust cannot call,
 * and the registry of this module's IOMMU instances. Prefixed with the module name.
 */
#ifndef VIRTIO_IOMMU_RS_IOMMU_HELPERS_H
#define VIRTIO_IOMMU_RS_IOMMU_HELPERS_H

#include <linux/device.h>
#include <linux/idr.h>
#include <linux/iommu.h>
#include <linux/list.h>

#ifdef CONFIG_IOMMU_DMA
/* Exported by drivers/iommu/dma-iommu.c but declared only in the private dma-iommu.h. */
void iommu_dma_get_resv_regions(struct device *dev, struct list_head *list);
#endif

/**
 * struct virtio_iommu_rs_inst - one registered IOMMU instance of this module
 * @node:   entry in the module's instance list
 * @fwnode: fwnode of the IOMMU (what endpoints' fwspec->iommu_fwnode points to)
 * @iommu:  the registered iommu_device
 * @data:   driver data (an Arc owned by the Rust registration)
 */
struct virtio_iommu_rs_inst {
	struct list_head node;
	struct fwnode_handle *fwnode;
	struct iommu_device *iommu;
	void *data;
};

struct iommu_fwspec *virtio_iommu_rs_fwspec_get(struct device *dev);
void *virtio_iommu_rs_priv_get(struct device *dev);
void virtio_iommu_rs_priv_set(struct device *dev, void *priv);
bool virtio_iommu_rs_dev_is_pci(struct device *dev);
struct fwnode_handle *virtio_iommu_rs_dev_fwnode(struct device *dev);
void virtio_iommu_rs_dma_get_resv_regions(struct device *dev, struct list_head *list);
void virtio_iommu_rs_list_add_tail(struct list_head *entry, struct list_head *head);
void virtio_iommu_rs_ida_init(struct ida *ida);
bool virtio_iommu_rs_fault_ratelimit(void);
bool virtio_iommu_rs_gfp_blocking(gfp_t gfp);
void virtio_iommu_rs_inst_add(struct virtio_iommu_rs_inst *inst);
void virtio_iommu_rs_inst_del(struct virtio_iommu_rs_inst *inst);
void *virtio_iommu_rs_inst_get(const struct fwnode_handle *fwnode, struct iommu_device **iommu,
			       void *(*get)(void *data));

#endif /* VIRTIO_IOMMU_RS_IOMMU_HELPERS_H */
