// SPDX-License-Identifier: GPL-2.0

//! The virtio-iommu driver: safe Rust over `sys`, protocol logic from `uapi`.

mod domain;
mod endpoint;
mod event;
mod requestq;
