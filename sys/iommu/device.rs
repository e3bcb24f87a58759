// SPDX-License-Identifier: GPL-2.0

//! Endpoint devices: firmware IDs (`iommu_fwspec`) and bus type.
//!
//! C headers: [`include/linux/iommu.h`](srctree/include/linux/iommu.h) and
//! [`include/linux/device.h`](srctree/include/linux/device.h)

use crate::sys::bindings as hb;
use kernel::{
    bindings,
    device::Device,
    error::to_result,
    prelude::*, //
};

fn raw(dev: &Device) -> *mut bindings::device {
    // `Device` is a `#[repr(transparent)]` wrapper of `struct device`.
    core::ptr::from_ref(dev).cast_mut().cast()
}

/// A copy of the endpoint IDs of `dev` (`fwspec->ids`); `ENODEV` without a fwspec or IDs.
///
/// Only for `probe_device` (hence `pub(super)`): the core adds IDs before it (`of_xlate`, ACPI
/// VIOT) and frees the fwspec after `release_device`, so the IDs are stable while it runs; a
/// borrowed slice could outlive that, a copy cannot.
pub(super) fn fwspec_ids(dev: &Device) -> Result<KVec<u32>> {
    // SAFETY: `dev` is valid; see above for the fwspec lifetime.
    let fwspec = unsafe { hb::viommu_iommu_fwspec_get(raw(dev)) };
    if fwspec.is_null() {
        return Err(ENODEV);
    }
    // SAFETY: `fwspec` is valid, with `num_ids` initialised entries in its flexible array,
    // stable during `probe_device` (see above); the slice does not outlive this function.
    let ids = unsafe {
        let n = usize::try_from((*fwspec).num_ids).unwrap_or(0);
        core::slice::from_raw_parts((*fwspec).ids.as_ptr(), n)
    };
    if ids.is_empty() {
        return Err(ENODEV);
    }
    let mut out = KVec::with_capacity(ids.len(), GFP_KERNEL)?;
    out.extend_from_slice(ids, GFP_KERNEL)?;
    Ok(out)
}

/// Adds endpoint `ids` to the fwspec of `dev` (`of_xlate`).
pub(crate) fn add_fwspec_ids(dev: &Device, ids: &[u32]) -> Result {
    let n = i32::try_from(ids.len()).map_err(|_| EINVAL)?;
    // SAFETY: `dev` is valid and `ids` holds `n` IDs.
    to_result(unsafe { bindings::iommu_fwspec_add_ids(raw(dev), ids.as_ptr(), n) })
}

/// Whether a driver is bound to `dev` and running (`device_is_bound`; false while the driver
/// core is still in `really_probe`, before the driver's `probe` has returned).
pub(crate) fn is_bound(dev: &Device) -> bool {
    // SAFETY: `dev` is valid.
    unsafe { bindings::device_is_bound(raw(dev)) }
}

/// The raw device, for the other `sys::iommu` modules.
pub(super) fn as_raw(dev: &Device) -> *mut bindings::device {
    raw(dev)
}

/// The parent of `dev` (`Device::parent` is private to the `kernel` crate): for a virtio device,
/// its transport device, whose fwnode endpoints' fwspecs name.
pub(crate) fn parent(dev: &Device) -> Option<&Device> {
    // SAFETY: `dev` is valid; a device holds a reference on its parent for its whole life.
    let p = unsafe { (*raw(dev)).parent };
    if p.is_null() {
        None
    } else {
        // SAFETY: `p` is a valid device that outlives `dev` (see above).
        Some(unsafe { Device::from_raw(p) })
    }
}

/// Makes `consumer` (an endpoint) depend on `supplier` (the IOMMU's device) with a managed
/// device link: the driver core unbinds the consumer's driver before the supplier's, so the
/// IOMMU is never unregistered under a bound endpoint (whose DMA would outlive its domain, and
/// whose group still has a DMA owner: `WARN` in `__iommu_group_free_device`). Returns whether the
/// link exists.
///
/// No `DL_FLAG_AUTOREMOVE_SUPPLIER`: in 7.3.4, `device_links_driver_cleanup()` writes
/// `link->status` after `device_link_drop_managed()`, whose release work may already have freed
/// the link (use-after-free, seen with `slub_debug=P`). The link instead stays (dormant) while
/// the IOMMU is unbound, is taken up again by the next registration (`device_link_add` finds it),
/// and goes away with either device.
pub(crate) fn link_consumer(consumer: &Device, supplier: &Device) -> bool {
    // SAFETY: both devices are valid; the driver core owns the link.
    let link = unsafe { bindings::device_link_add(raw(consumer), raw(supplier), 0) };
    !link.is_null()
}
