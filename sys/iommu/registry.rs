// SPDX-License-Identifier: GPL-2.0

//! The module's IOMMU instances, for `probe_device`: the core gives that callback only the
//! endpoint, whose fwspec names its IOMMU by fwnode (the core's own fwnode lookup,
//! `iommu_from_fwnode`, is not exported).
//!
//! One entry per [`Registration`](super::Registration), added before the instance is visible
//! (endpoints are probed during `iommu_device_register`) and removed after it is unregistered.
//! Entries are looked up in the order they were added.

use core::any::TypeId;
use kernel::{
    bindings,
    ffi,
    prelude::*,
    sync::{
        atomic::{
            AtomicFlag,
            Relaxed, //
        },
        Arc,
        ArcBorrow, //
    }, //
};

/// One registered instance.
struct Entry {
    /// What the fwspec of the instance's endpoints points to (`fwspec->iommu_fwnode`).
    fwnode: *const bindings::fwnode_handle,
    /// The instance's `iommu_device`, returned to the core by `probe_device`; also the key of
    /// [`remove`].
    iommu: *mut bindings::iommu_device,
    /// The type `I` of the instance data: `data` is an `Arc<I>`.
    ty: TypeId,
    /// `Arc::as_ptr` of the instance data, a reference held by the registration.
    data: *const ffi::c_void,
}

// SAFETY: the pointers are only compared, and `data` dereferenced (as the `Arc` borrow of an
// `I: Send + Sync`) under the registry lock, while the registration that added the entry keeps
// them valid (see `add`); none of them is bound to a thread.
unsafe impl Send for Entry {}

kernel::sync::global_lock! {
    // SAFETY: `init` runs from the module's initialisation, before the driver is registered (see
    // `module_virtio_driver!`). The lock is only taken by the functions below, whose only
    // callers (`Registration`, the `probe_device` callback) need a bound device, hence the
    // registered driver: none of them runs before `init`.
    unsafe(uninit) static INSTANCES: Mutex<KVec<Entry>> = KVec::new();
}

/// Whether [`INSTANCES`] was initialised.
static INITIALISED: AtomicFlag = AtomicFlag::new(false);

/// Initialises the registry (the first call only).
pub(crate) fn init() {
    if !INITIALISED.xchg(true, Relaxed) {
        // SAFETY: the first call (the flag was clear), before any use of the lock (see its
        // declaration).
        unsafe { INSTANCES.init() };
    }
}

/// Publishes instance `data` of the IOMMU `iommu`, whose endpoints name `fwnode`.
///
/// # Safety
///
/// `iommu` names this entry only: no other entry with the same `iommu` is
/// present. `iommu` and the reference `data` must stay valid (the `Arc` alive) until
/// [`remove`]`(iommu)` has returned.
pub(super) unsafe fn add<I: Send + Sync + 'static>(
    fwnode: *const bindings::fwnode_handle,
    iommu: *mut bindings::iommu_device,
    data: &Arc<I>,
) -> Result {
    let entry = Entry {
        fwnode,
        iommu,
        ty: TypeId::of::<I>(),
        data: Arc::as_ptr(data).cast(),
    };
    INSTANCES.lock().push(entry, GFP_KERNEL)?;
    Ok(())
}

/// Unpublishes the entry of `iommu`, if any (after this, no lookup returns it).
///
/// The storage goes with the last entry: a static is never dropped, so a buffer left behind
/// would leak at module unload.
pub(super) fn remove(iommu: *mut bindings::iommu_device) {
    let mut guard = INSTANCES.lock();
    guard.retain(|e| e.iommu != iommu);
    if guard.is_empty() {
        *guard = KVec::new();
    }
}

/// The instance whose endpoints name `fwnode` (never a null one), if its data is an `Arc<I>`:
/// a new reference to its data, and its `iommu_device`.
pub(super) fn get<I: Send + Sync + 'static>(
    fwnode: *const bindings::fwnode_handle,
) -> Option<(Arc<I>, *mut bindings::iommu_device)> {
    if fwnode.is_null() {
        return None;
    }
    let ty = TypeId::of::<I>();
    let guard = INSTANCES.lock();
    let e = guard.iter().find(|e| e.fwnode == fwnode && e.ty == ty)?;
    // SAFETY: `e.data` is the `Arc::as_ptr` of an `Arc<I>` (its `ty` is `I`'s), which the
    // registration that added the entry keeps alive until it is removed (`add`); the lock is
    // held, so it cannot be removed meanwhile. The reference taken here is a new one.
    let data: Arc<I> = unsafe { ArcBorrow::<I>::from_raw(e.data.cast()) }.into();
    Some((data, e.iommu))
}
