// SPDX-License-Identifier: GPL-2.0

//! Virtio IOMMU driver, written in Rust.
//!
//! Layers, bottom up: [`uapi`] (wire format and pure protocol logic, host-tested), `sys` (the
//! only `unsafe` code: virtio and IOMMU-core abstractions over C), `driver` (safe driver logic).

mod driver;
mod sys;
pub mod uapi;

use sys::virtio::DeviceId;

kernel::module_device_table!(
    "virtio",
    DeviceId,
    VIRTIO_ID_TABLE,
    @none,
    [DeviceId::new(uapi::wire::VIRTIO_ID_IOMMU)]
);

module_virtio_driver! {
    type: driver::Viommu,
    name: "virtio_iommu_rs",
    authors: ["virtio-iommu-rs developers"],
    description: "Virtio IOMMU driver (Rust)",
    license: "GPL",
    params: {
        sw_msi: bool {
            default: false,
            description: "Ignore MSI regions reported by the device; map MSI doorbells through a \
                          software MSI window at 0x8000000 (1 MiB)",
        },
    },
}
