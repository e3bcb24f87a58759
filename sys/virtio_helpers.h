/* SPDX-License-Identifier: GPL-2.0 */
/* C helpers for the virtio abstractions: static inlines and macros Rust cannot call. */
#ifndef VIOMMU_VIRTIO_HELPERS_H
#define VIOMMU_VIRTIO_HELPERS_H

#include <linux/types.h>

struct device;
struct virtio_device;
struct virtqueue;
struct virtqueue_info;

struct device *viommu_virtio_to_dev(struct virtio_device *vdev);
void *viommu_virtio_get_priv(struct virtio_device *vdev);
void viommu_virtio_set_priv(struct virtio_device *vdev, void *priv);
bool viommu_virtio_has_feature(struct virtio_device *vdev, unsigned int fbit);
void viommu_virtio_cread_bytes(struct virtio_device *vdev, unsigned int offset, void *buf,
			       size_t len);
u8 viommu_virtio_get_status(struct virtio_device *vdev);
void viommu_virtio_device_ready(struct virtio_device *vdev);
void viommu_virtio_synchronize_cbs(struct virtio_device *vdev);
int viommu_virtio_find_vqs(struct virtio_device *vdev, unsigned int nvqs, struct virtqueue *vqs[],
			   struct virtqueue_info vqs_info[]);
void viommu_virtio_del_vqs(struct virtio_device *vdev);

#endif
