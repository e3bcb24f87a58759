// SPDX-License-Identifier: GPL-2.0
/* C helpers for the virtio abstractions (prototypes in virtio_helpers.h). */
#include "bindings.h"

struct device *viommu_virtio_to_dev(struct virtio_device *vdev)
{
	return &vdev->dev;
}

void *viommu_virtio_get_priv(struct virtio_device *vdev)
{
	/* Pairs with the release in viommu_virtio_set_priv(): callbacks run in IRQ context. */
	return smp_load_acquire(&vdev->priv);
}

void viommu_virtio_set_priv(struct virtio_device *vdev, void *priv)
{
	/* Pairs with the acquire in viommu_virtio_get_priv(): the data is complete when seen. */
	smp_store_release(&vdev->priv, priv);
}

bool viommu_virtio_has_feature(struct virtio_device *vdev, unsigned int fbit)
{
	return virtio_has_feature(vdev, fbit);
}

void viommu_virtio_cread_bytes(struct virtio_device *vdev, unsigned int offset, void *buf,
			       size_t len)
{
	virtio_cread_bytes(vdev, offset, buf, len);
}

u8 viommu_virtio_get_status(struct virtio_device *vdev)
{
	return vdev->config->get_status(vdev);
}

void viommu_virtio_device_ready(struct virtio_device *vdev)
{
	virtio_device_ready(vdev);
}

void viommu_virtio_synchronize_cbs(struct virtio_device *vdev)
{
	virtio_synchronize_cbs(vdev);
}

int viommu_virtio_find_vqs(struct virtio_device *vdev, unsigned int nvqs, struct virtqueue *vqs[],
			   struct virtqueue_info vqs_info[])
{
	return virtio_find_vqs(vdev, nvqs, vqs, vqs_info, NULL);
}

void viommu_virtio_del_vqs(struct virtio_device *vdev)
{
	vdev->config->del_vqs(vdev);
}
