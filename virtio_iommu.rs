// SPDX-License-Identifier: GPL-2.0

//! Virtio IOMMU driver, written in Rust.
//!
//! Layers, bottom up: [`uapi`] (wire format and pure protocol logic, host-tested), `sys` (the
//! only `unsafe` code: virtio and IOMMU-core abstractions over C), `driver` (safe driver logic).

pub mod uapi;
mod sys;
mod driver;

// MODULE-DECL: the module!/driver registration goes here.
