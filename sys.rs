// SPDX-License-Identifier: GPL-2.0

//! Abstractions over the C parts of the kernel that the `kernel` crate does not wrap: the virtio
//! bus and the IOMMU driver interface. Every `unsafe` block of the module lives below here.

pub(crate) mod bindings;
pub(crate) mod iommu;
pub(crate) mod sync;
pub(crate) mod virtio;

/// Sets up the layer's global state (the IOMMU instance registry). Called by the module's
/// initialisation ([`module_virtio_driver!`](crate::module_virtio_driver)) before the driver is
/// registered; later calls do nothing.
pub(crate) fn init() {
    iommu::init_registry();
}
