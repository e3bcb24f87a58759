// SPDX-License-Identifier: GPL-2.0
/* C helpers for the iommu abstractions (prototypes in iommu_helpers.h). */
#include <linux/pci.h>
#include <linux/property.h>
#include <linux/ratelimit.h>
#include "bindings.h"

struct iommu_fwspec *viommu_iommu_fwspec_get(struct device *dev)
{
	return dev_iommu_fwspec_get(dev);
}

void *viommu_iommu_priv_get(struct device *dev)
{
	return dev_iommu_priv_get(dev);
}

void viommu_iommu_priv_set(struct device *dev, void *priv)
{
	dev_iommu_priv_set(dev, priv);
}

bool viommu_iommu_dev_is_pci(struct device *dev)
{
	return dev_is_pci(dev);
}

struct fwnode_handle *viommu_iommu_dev_fwnode(struct device *dev)
{
	return dev_fwnode(dev);
}

#ifdef CONFIG_IOMMU_DMA
/*
 * Exported by drivers/iommu/dma-iommu.c but declared only in the private drivers/iommu/dma-iommu.h,
 * which a kernel's installed headers lack: declared here, where it is used, not in a header.
 */
void iommu_dma_get_resv_regions(struct device *dev, struct list_head *list);
#endif

void viommu_iommu_dma_get_resv_regions(struct device *dev, struct list_head *list)
{
#ifdef CONFIG_IOMMU_DMA
	iommu_dma_get_resv_regions(dev, list);
#endif
}

void viommu_iommu_list_add_tail(struct list_head *entry, struct list_head *head)
{
	list_add_tail(entry, head);
}

void viommu_device_lock(struct device *dev)
{
	device_lock(dev);
}

void viommu_device_unlock(struct device *dev)
{
	device_unlock(dev);
}

void viommu_iommu_ida_init(struct ida *ida)
{
	ida_init(ida);
}

/* One rate limit for all fault messages of the module, like dev_err_ratelimited's default. */
bool viommu_iommu_fault_ratelimit(void)
{
	static DEFINE_RATELIMIT_STATE(rs, DEFAULT_RATELIMIT_INTERVAL, DEFAULT_RATELIMIT_BURST);

	return __ratelimit(&rs);
}

/* Whether an allocation with @gfp may sleep (map_pages may be called in atomic context). */
bool viommu_iommu_gfp_blocking(gfp_t gfp)
{
	return gfpflags_allow_blocking(gfp);
}
