/* SPDX-License-Identifier: GPL-2.0 */
/* Input of the module's own bindgen step: what kernel::bindings does not already provide. */
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/iommu.h>
#include "virtio_helpers.h"
#include "iommu_helpers.h"
