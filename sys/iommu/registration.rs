// SPDX-License-Identifier: GPL-2.0

//! Registration of one IOMMU instance with the IOMMU core (sysfs + `iommu_device_register`).
//!
//! C header: [`include/linux/iommu.h`](srctree/include/linux/iommu.h)

use super::{
    barrier::ProbeBarrier,
    device,
    ops::IommuOps,
    registry, //
};
use crate::sys::bindings as hb;
use kernel::{
    bindings,
    device::Device,
    error::to_result,
    prelude::*,
    sync::Arc,
    types::Opaque, //
};

/// A registered IOMMU instance; unregistered on drop.
///
/// Registering publishes `data` first (endpoints are probed *during* `iommu_device_register`
/// and find their IOMMU through it), then adds the sysfs device, then registers with the core.
/// Unlike the C driver, a registration failure is returned. Dropping unregisters (which releases
/// every endpoint, through the release domain), removes the sysfs device and unpublishes `data`.
///
/// # Invariants
///
/// When `registered`, `iommu` is registered with the core and added to sysfs, and the module's
/// [`registry`] has the entry of `iommu`, whose data is `Arc::as_ptr(&data)`.
#[pin_data(PinnedDrop)]
pub(crate) struct Registration<T: IommuOps> {
    #[pin]
    iommu: Opaque<bindings::iommu_device>,
    data: Arc<T::Instance>,
    registered: bool,
}

// SAFETY: the C structures are only touched by the core under its own locks and by `new`/`drop`.
unsafe impl<T: IommuOps> Send for Registration<T> {}
// SAFETY: `&Registration` gives no access to the C structures.
unsafe impl<T: IommuOps> Sync for Registration<T> {}

impl<T: IommuOps> Registration<T> {
    /// Registers instance `data`: `dev` is the IOMMU's own device (sysfs parent, named `name`
    /// under `/sys/class/iommu`), `hwdev` the device whose fwnode endpoints refer to (for
    /// virtio-pci, the PCI function: `dev`'s parent).
    pub(crate) fn new(
        data: Arc<T::Instance>,
        dev: &Device,
        hwdev: &Device,
        name: &CStr,
    ) -> Result<Pin<KBox<Self>>> {
        let mut this = KBox::pin_init(
            pin_init!(Self {
                iommu: Opaque::zeroed(),
                data,
                registered: false,
            }),
            GFP_KERNEL,
        )?;
        let iommu = this.iommu.get();
        let hw = device::as_raw(hwdev);
        // SAFETY: `hw` is valid.
        let fwnode = unsafe { hb::viommu_iommu_dev_fwnode(hw) };
        // SAFETY: `iommu` is this registration's own (pinned) `iommu_device`, so no other entry
        // has it; it and `this.data` stay valid until the entry is removed: below on every error
        // path, else in `drop`, before the fields are freed. Published before registration.
        unsafe { registry::add(fwnode, iommu, &this.data) }?;
        // No endpoint driver may bind from the moment the instance is visible (in sysfs, then
        // to the core) until the core's walk of the endpoints is done (see `ProbeBarrier`): it
        // would be skipped, or after the deferred-probe timeout bind without an IOMMU, and run
        // untranslated.
        let barrier = match ProbeBarrier::new(hwdev) {
            Ok(b) => b,
            Err(e) => {
                registry::remove(iommu);
                return Err(e);
            }
        };
        // SAFETY: `iommu` is pinned and zeroed; `dev` is valid; the format takes one string.
        let r = to_result(unsafe {
            bindings::iommu_device_sysfs_add(
                iommu,
                device::as_raw(dev),
                core::ptr::null_mut(),
                c"%s".as_char_ptr(),
                name.as_char_ptr(),
            )
        });
        if let Err(e) = r {
            dev_err!(dev, "iommu_device_sysfs_add failed: {:?}\n", e);
            registry::remove(iommu);
            return Err(e);
        }
        // SAFETY: `iommu` was added to sysfs; the ops table is static with `owner` set.
        let r = to_result(unsafe {
            bindings::iommu_device_register(iommu, T::ops_table().as_raw(), hw)
        });
        if r.is_ok() {
            barrier.report_missed(fwnode);
        }
        drop(barrier);
        if let Err(e) = r {
            dev_err!(dev, "iommu_device_register failed: {:?}\n", e);
            // SAFETY: undo the steps above, in reverse order: `iommu` was added to sysfs.
            unsafe { bindings::iommu_device_sysfs_remove(iommu) };
            registry::remove(iommu);
            return Err(e);
        }
        // INVARIANT: every step succeeded.
        *this.as_mut().project().registered = true;
        Ok(this)
    }
}

#[pinned_drop]
impl<T: IommuOps> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        if !self.registered {
            return;
        }
        // SAFETY: registered (type invariant); the core releases every endpoint in
        // `iommu_device_unregister`, before the sysfs node and the registry entry go away.
        unsafe {
            bindings::iommu_device_unregister(self.iommu.get());
            bindings::iommu_device_sysfs_remove(self.iommu.get());
        }
        registry::remove(self.iommu.get());
    }
}
