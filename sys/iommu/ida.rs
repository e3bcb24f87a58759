// SPDX-License-Identifier: GPL-2.0

//! An ID allocator (`struct ida`), usable from any context that may allocate with the given flags.
//!
//! C header: [`include/linux/idr.h`](srctree/include/linux/idr.h)

use crate::sys::bindings as hb;
use kernel::{
    bindings,
    prelude::*,
    types::Opaque, //
};

/// A range ID allocator over the kernel's IDA.
///
/// # Invariants
///
/// `inner` is an initialised `struct ida`.
#[pin_data(PinnedDrop)]
pub(crate) struct Ida {
    #[pin]
    inner: Opaque<bindings::ida>,
}

// SAFETY: the IDA has its own internal lock.
unsafe impl Send for Ida {}
// SAFETY: the IDA has its own internal lock.
unsafe impl Sync for Ida {}

impl Ida {
    /// An empty allocator.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `ida_init` initialises the slot in place.
            inner <- Opaque::ffi_init(|p| unsafe { hb::viommu_iommu_ida_init(p) }),
        })
    }

    /// Allocates the lowest free ID in `[min, max]` (`max` is clamped to `i32::MAX`).
    pub(crate) fn alloc_range(&self, min: u32, max: u32) -> Result<u32> {
        let max = max.min(i32::MAX as u32);
        let ida = self.inner.get();
        // SAFETY: `inner` is initialised (type invariant).
        let r = unsafe { bindings::ida_alloc_range(ida, min, max, bindings::GFP_KERNEL) };
        if r < 0 {
            return Err(Error::from_errno(r));
        }
        u32::try_from(r).map_err(|_| EINVAL)
    }

    /// Frees `id`, which must have come from [`Self::alloc_range`].
    pub(crate) fn free(&self, id: u32) {
        // SAFETY: `inner` is initialised (type invariant).
        unsafe { bindings::ida_free(self.inner.get(), id) };
    }
}

#[pinned_drop]
impl PinnedDrop for Ida {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: `inner` is initialised and no longer used (C weakness 7: never destroyed).
        unsafe { bindings::ida_destroy(self.inner.get()) };
    }
}
