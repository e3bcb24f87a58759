// SPDX-License-Identifier: GPL-2.0

//! Paging domains: a driver struct with the C `iommu_domain` embedded, shared as an `Arc`.
//!
//! C header: [`include/linux/iommu.h`](srctree/include/linux/iommu.h)

use super::domain_ops::DomainOps;
use kernel::{
    bindings,
    prelude::*,
    sync::{
        atomic::{
            Acquire,
            Atomic,
            Release, //
        },
        rcu,
        Arc,
        ArcBorrow, //
    },
    types::Opaque, //
};

/// The IOVA aperture of a domain (`iommu_domain_geometry`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Geometry {
    /// First usable IOVA.
    pub(crate) start: u64,
    /// Last usable IOVA (inclusive).
    pub(crate) end: u64,
    /// DMA API users must stay inside the aperture.
    pub(crate) force_aperture: bool,
}

/// A paging domain: the C `iommu_domain` followed by the driver's data `T`.
///
/// Always in an [`Arc`]: the IOMMU core holds one reference from `domain_alloc_*` until `free`;
/// the driver may hold more (endpoints attached to it, fault reporting).
///
/// # Invariants
///
/// `raw` is the first field, so a pointer to `raw` is a pointer to the `Domain<T>`.
#[repr(C)]
#[pin_data]
pub(crate) struct Domain<T> {
    raw: Opaque<bindings::iommu_domain>,
    /// The core holds the domain: from `into_raw` until `free`. Fault reports are only made
    /// while it does (its fault handler and token are the core user's, gone after `free`).
    held: Atomic<bool>,
    #[pin]
    data: T,
}

// SAFETY: the C domain is written by the core only right after allocation (type, owner, ops),
// before the domain is shared; afterwards only read. `T` is shared as `T` itself allows.
unsafe impl<T: Send + Sync> Send for Domain<T> {}
// SAFETY: see `Send`.
unsafe impl<T: Send + Sync> Sync for Domain<T> {}

impl<T> core::ops::Deref for Domain<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T: DomainOps> Domain<T> {
    /// Allocates a domain with aperture `geometry` and page sizes `pgsize_bitmap`.
    pub(crate) fn new(
        geometry: Geometry,
        pgsize_bitmap: u64,
        data: impl PinInit<T, Error>,
    ) -> Result<Arc<Self>> {
        // The core sets type, owner and ops.
        let mut d: bindings::iommu_domain = pin_init::zeroed();
        d.pgsize_bitmap = usize::try_from(pgsize_bitmap).map_err(|_| EINVAL)?;
        d.geometry = bindings::iommu_domain_geometry {
            aperture_start: geometry.start,
            aperture_end: geometry.end,
            force_aperture: geometry.force_aperture,
        };
        Arc::pin_init(
            try_pin_init!(Self {
                raw: Opaque::new(d),
                held: Atomic::new(false),
                data <- data,
            }? Error),
            GFP_KERNEL,
        )
    }

    /// Hands one reference to the core.
    pub(super) fn into_raw(this: Arc<Self>) -> *mut bindings::iommu_domain {
        this.held.store(true, Release);
        // INVARIANT: `raw` is the first field of a `#[repr(C)]` struct.
        Arc::into_raw(this).cast_mut().cast()
    }

    /// Runs `f` on the C domain if the core still holds it, inside an RCU read-side section
    /// that `free` waits for: the domain's fault handler and its token stay valid during `f`.
    pub(super) fn with_held<R>(
        &self,
        f: impl FnOnce(*mut bindings::iommu_domain) -> R,
    ) -> Option<R> {
        let _rcu = rcu::read_lock();
        self.held.load(Acquire).then(|| f(self.raw.get()))
    }

    /// Borrows a domain given by the core.
    ///
    /// # Safety
    ///
    /// `raw` must come from [`Self::into_raw`] and `free` must not have been called on it.
    pub(super) unsafe fn borrow_raw<'a>(raw: *mut bindings::iommu_domain) -> ArcBorrow<'a, Self> {
        // SAFETY: per the type invariant `raw` points to the `Domain<T>` given by `into_raw`,
        // whose reference is still held by the core.
        unsafe { ArcBorrow::from_raw(raw.cast_const().cast()) }
    }

    /// Takes back the core's reference (`free`).
    ///
    /// # Safety
    ///
    /// `raw` must come from [`Self::into_raw`]; it must not be used afterwards.
    pub(super) unsafe fn from_raw(raw: *mut bindings::iommu_domain) -> Arc<Self> {
        // SAFETY: per the function contract and the type invariant.
        let this: Arc<Self> = unsafe { Arc::from_raw(raw.cast_const().cast()) };
        this.held.store(false, Release);
        // SAFETY: `raw` is valid (held by `this`); the core no longer changes the cookie.
        let cookie = unsafe { (*raw).cookie_type };
        if cookie == bindings::iommu_domain_cookie_type_IOMMU_COOKIE_FAULT_HANDLER {
            // A fault report that saw the domain held ends before the core frees the handler's
            // token (after this callback). `free` runs in process context.
            rcu::synchronize_rcu();
        }
        this
    }
}
