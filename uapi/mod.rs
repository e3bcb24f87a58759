// SPDX-License-Identifier: GPL-2.0

//! Pure virtio-iommu protocol logic (virtio 1.3 §5.13), shared by the kernel
//! module and the host test crate.
//!
//! Everything below uses `core` only: no allocation, no `unsafe`, no panics on
//! device input. Storage needed by the bookkeeping code sits behind small
//! traits ([`mappings::MappingStore`], [`resv::RegionList`]) that the kernel
//! implements with its own containers.

pub mod config;
pub mod fault;
pub mod inject;
pub mod mappings;
pub mod probe;
pub mod request;
pub mod resv;
pub mod wire;
