// SPDX-License-Identifier: GPL-2.0

//! Abstractions over the C parts of the kernel that the `kernel` crate does not wrap: the virtio
//! bus and the IOMMU driver interface. Every `unsafe` block of the module lives below here.

pub(crate) mod bindings;
pub(crate) mod iommu;
pub(crate) mod sync;
pub(crate) mod virtio;

use kernel::alloc::{flags, Flags};

/// The C `gfp_t` for `f` (`Flags::as_raw` is private to the `kernel` crate): the strongest of
/// `GFP_KERNEL`, `GFP_ATOMIC`, `GFP_NOWAIT` that `f` contains.
pub(crate) fn gfp_raw(f: Flags) -> kernel::bindings::gfp_t {
    if f.contains(flags::GFP_KERNEL) {
        kernel::bindings::GFP_KERNEL
    } else if f.contains(flags::GFP_ATOMIC) {
        kernel::bindings::GFP_ATOMIC
    } else {
        kernel::bindings::GFP_NOWAIT
    }
}
