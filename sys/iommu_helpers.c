// SPDX-License-Identifier: GPL-2.0
/* C helpers for the iommu abstractions (prototypes in iommu_helpers.h). */
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/property.h>
#include <linux/ratelimit.h>
#include <linux/slab.h>
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

/*
 * Instances of this module, for probe_device: the core gives it only the endpoint, whose fwspec
 * names the IOMMU by fwnode (the core's own fwnode lookup is not exported).
 */
struct viommu_iommu_inst {
	struct list_head node;
	struct fwnode_handle *fwnode;	/* what endpoints' fwspec->iommu_fwnode points to */
	struct iommu_device *iommu;
	void *data;			/* driver data (an Arc owned by the Rust registration) */
};

static LIST_HEAD(viommu_iommu_insts);
static DEFINE_MUTEX(viommu_iommu_insts_lock);

/* Publishes an instance; returns its handle for viommu_iommu_inst_del(), or NULL (-ENOMEM). */
void *viommu_iommu_inst_add(struct fwnode_handle *fwnode, struct iommu_device *iommu,
			    void *data)
{
	struct viommu_iommu_inst *inst = kzalloc(sizeof(*inst), GFP_KERNEL);

	if (!inst)
		return NULL;
	inst->fwnode = fwnode;
	inst->iommu = iommu;
	inst->data = data;
	mutex_lock(&viommu_iommu_insts_lock);
	list_add_tail(&inst->node, &viommu_iommu_insts);
	mutex_unlock(&viommu_iommu_insts_lock);
	return inst;
}

void viommu_iommu_inst_del(void *handle)
{
	struct viommu_iommu_inst *inst = handle;

	mutex_lock(&viommu_iommu_insts_lock);
	list_del(&inst->node);
	mutex_unlock(&viommu_iommu_insts_lock);
	kfree(inst);
}

/* Finds the instance of @fwnode; returns get(data) computed under the lock, or NULL. */
void *viommu_iommu_inst_get(const struct fwnode_handle *fwnode, struct iommu_device **iommu,
			    void *(*get)(void *data))
{
	struct viommu_iommu_inst *inst;
	void *ret = NULL;

	mutex_lock(&viommu_iommu_insts_lock);
	list_for_each_entry(inst, &viommu_iommu_insts, node) {
		if (fwnode && inst->fwnode == fwnode) {
			*iommu = inst->iommu;
			ret = get(inst->data);
			break;
		}
	}
	mutex_unlock(&viommu_iommu_insts_lock);
	return ret;
}

/* Whether an allocation with @gfp may sleep (map_pages may be called in atomic context). */
bool viommu_iommu_gfp_blocking(gfp_t gfp)
{
	return gfpflags_allow_blocking(gfp);
}
