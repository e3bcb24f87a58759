/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C helpers for the iommu abstractions (sys/iommu/): static inlines and macros Rust cannot call,
 * and the registry of this module's IOMMU instances. Prefixed viommu_iommu_ (matched by the
 * module's bindgen allowlist viommu_.*).
 */
#ifndef VIOMMU_IOMMU_HELPERS_H
#define VIOMMU_IOMMU_HELPERS_H

#include <linux/device.h>
#include <linux/idr.h>
#include <linux/iommu.h>
#include <linux/list.h>

#ifdef CONFIG_IOMMU_DMA
/* Exported by drivers/iommu/dma-iommu.c but declared only in the private dma-iommu.h. */
void iommu_dma_get_resv_regions(struct device *dev, struct list_head *list);
#endif

struct iommu_fwspec *viommu_iommu_fwspec_get(struct device *dev);
void *viommu_iommu_priv_get(struct device *dev);
void viommu_iommu_priv_set(struct device *dev, void *priv);
bool viommu_iommu_dev_is_pci(struct device *dev);
struct fwnode_handle *viommu_iommu_dev_fwnode(struct device *dev);
void viommu_iommu_dma_get_resv_regions(struct device *dev, struct list_head *list);
void viommu_iommu_list_add_tail(struct list_head *entry, struct list_head *head);
void viommu_iommu_ida_init(struct ida *ida);
void viommu_device_lock(struct device *dev);
void viommu_device_unlock(struct device *dev);
bool viommu_iommu_fault_ratelimit(void);
bool viommu_iommu_gfp_blocking(gfp_t gfp);
void *viommu_iommu_inst_add(struct fwnode_handle *fwnode, struct iommu_device *iommu,
			    void *data);
void viommu_iommu_inst_del(void *inst);
void *viommu_iommu_inst_get(const struct fwnode_handle *fwnode, struct iommu_device **iommu,
			    void *(*get)(void *data));

#endif /* VIOMMU_IOMMU_HELPERS_H */
