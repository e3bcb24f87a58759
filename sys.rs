// SPDX-License-Identifier: GPL-2.0

//! Abstractions over the C parts of the kernel that the `kernel` crate does not wrap: the virtio
//! bus and the IOMMU driver interface. Every `unsafe` block of the module lives below here.

pub(crate) mod bindings;
pub(crate) mod iommu;
pub(crate) mod sync;
pub(crate) mod virtio;
