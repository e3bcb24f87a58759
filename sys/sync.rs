// SPDX-License-Identifier: GPL-2.0

//! Small synchronisation and logging primitives the `kernel` crate lacks.
//!
//! C headers: [`include/linux/completion.h`](srctree/include/linux/completion.h) and
//! [`include/linux/printk.h`](srctree/include/linux/printk.h)

use kernel::{
    bindings,
    prelude::*,
    time,
    types::Opaque, //
};

/// A counting completion with an uninterruptible, bounded wait (`struct completion`).
///
/// Every [`Waiter::complete`] releases exactly one [`Waiter::wait_timeout`].
#[pin_data]
pub(crate) struct Waiter {
    #[pin]
    inner: Opaque<bindings::completion>,
}

// SAFETY: `struct completion` is protected by its own internal lock; `complete` and
// `wait_for_completion_timeout` may run concurrently on any CPU.
unsafe impl Send for Waiter {}
// SAFETY: See above.
unsafe impl Sync for Waiter {}

impl Waiter {
    /// A waiter with no pending completion.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is valid for writes and pinned; `init_completion` initialises it.
            inner <- Opaque::ffi_init(|slot| unsafe { bindings::init_completion(slot) }),
        })
    }

    /// Releases one waiter (now or the next to come). Callable from hard IRQ context.
    pub(crate) fn complete(&self) {
        // SAFETY: `inner` was initialised by `new` and stays pinned.
        unsafe { bindings::complete(self.inner.get()) };
    }

    /// Sleeps (uninterruptibly) until a completion is available or `msecs` have passed; returns
    /// whether a completion was consumed. Must be called from process context.
    pub(crate) fn wait_timeout(&self, msecs: u32) -> bool {
        let jiffies = time::msecs_to_jiffies(msecs);
        // SAFETY: `inner` was initialised by `new` and stays pinned.
        unsafe { bindings::wait_for_completion_timeout(self.inner.get(), jiffies) != 0 }
    }
}

/// Returns whether a message may be printed now (the kernel's global `printk_ratelimit`).
pub(crate) fn printk_ratelimit() -> bool {
    // SAFETY: The argument is a valid NUL-terminated string used only as a tag.
    unsafe { bindings::__printk_ratelimit(c"virtio_iommu_rs".as_char_ptr()) != 0 }
}
