// SPDX-License-Identifier: GPL-2.0
/* C helpers for the iommu abstractions (prototypes in iommu_helpers.h). */
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/property.h>
#include <linux/ratelimit.h>
#include "bindings.h"

struct iommu_fwspec *virtio_iommu_rs_fwspec_get(struct device *dev)
{
	return dev_iommu_fwspec_get(dev);
}

void *virtio_iommu_rs_priv_get(struct device *dev)
{
	return dev_iommu_priv_get(dev);
}

void virtio_iommu_rs_priv_set(struct device *dev, void *priv)
{
	dev_iommu_priv_set(dev, priv);
}

bool virtio_iommu_rs_dev_is_pci(struct device *dev)
{
	return dev_is_pci(dev);
}

struct fwnode_handle *virtio_iommu_rs_dev_fwnode(struct device *dev)
{
	return dev_fwnode(dev);
}

void virtio_iommu_rs_dma_get_resv_regions(struct device *dev, struct list_head *list)
{
#ifdef CONFIG_IOMMU_DMA
	iommu_dma_get_resv_regions(dev, list);
#endif
}

void virtio_iommu_rs_list_add_tail(struct list_head *entry, struct list_head *head)
{
	list_add_tail(entry, head);
}

void virtio_iommu_rs_ida_init(struct ida *ida)
{
	ida_init(ida);
}

/* One rate limit for all fault messages of the module, like dev_err_ratelimited's default. */
bool virtio_iommu_rs_fault_ratelimit(void)
{
	static DEFINE_RATELIMIT_STATE(rs, DEFAULT_RATELIMIT_INTERVAL, DEFAULT_RATELIMIT_BURST);

	return __ratelimit(&rs);
}

/*
 * Instances of this module, for probe_device: the core gives it only the endpoint, whose fwspec
 * names the IOMMU by fwnode (the core's own fwnode lookup is not exported).
 */
static LIST_HEAD(virtio_iommu_rs_insts);
static DEFINE_MUTEX(virtio_iommu_rs_insts_lock);

void virtio_iommu_rs_inst_add(struct virtio_iommu_rs_inst *inst)
{
	mutex_lock(&virtio_iommu_rs_insts_lock);
	list_add_tail(&inst->node, &virtio_iommu_rs_insts);
	mutex_unlock(&virtio_iommu_rs_insts_lock);
}

void virtio_iommu_rs_inst_del(struct virtio_iommu_rs_inst *inst)
{
	mutex_lock(&virtio_iommu_rs_insts_lock);
	list_del(&inst->node);
	mutex_unlock(&virtio_iommu_rs_insts_lock);
}

/* Finds the instance of @fwnode; returns get(data) computed under the lock, or NULL. */
void *virtio_iommu_rs_inst_get(const struct fwnode_handle *fwnode, struct iommu_device **iommu,
			       void *(*get)(void *data))
{
	struct virtio_iommu_rs_inst *inst;
	void *ret = NULL;

	mutex_lock(&virtio_iommu_rs_insts_lock);
	list_for_each_entry(inst, &virtio_iommu_rs_insts, node) {
		if (fwnode && inst->fwnode == fwnode) {
			*iommu = inst->iommu;
			ret = get(inst->data);
			break;
		}
	}
	mutex_unlock(&virtio_iommu_rs_insts_lock);
	return ret;
}

/* Whether an allocation with @gfp may sleep (map_pages may be called in atomic context). */
bool virtio_iommu_rs_gfp_blocking(gfp_t gfp)
{
	return gfpflags_allow_blocking(gfp);
}
