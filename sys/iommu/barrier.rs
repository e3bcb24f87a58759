// SPDX-License-Identifier: GPL-2.0

//! A probe barrier for the registration walk: holds the device lock of every PCI device while
//! `iommu_device_register` probes the endpoints, so that no endpoint driver binds in the middle
//! of the walk.
//!
//! C header: [`include/linux/device.h`](srctree/include/linux/device.h)
//!
//! Why (Linux 7.3.4, `drivers/iommu/iommu.c` `iommu_init_device`): the walk replays the bus
//! `dma_configure` (which creates the endpoint's fwspec) only for a device without a driver. A
//! deferred probe of the endpoint running at the same time (any successful bind elsewhere
//! retriggers deferred probes) sets `dev->driver` in `really_probe` before its own
//! `dma_configure`; the walk then sees a driver and no fwspec and skips the device with a silent
//! `-ENODEV`, and the ACPI path (`acpi_iommu_configure_id`) does not replay the IOMMU probe: the
//! endpoint binds untranslated. The device lock is what `really_probe` holds; taking it before the
//! walk waits for every probe in flight and keeps new ones out until the walk is done.
//!
//! # Examples
//!
//! ```ignore
//! let barrier = ProbeBarrier::new(hwdev)?; // hwdev: the IOMMU's own transport device
//! register_with_the_core()?;
//! barrier.report_missed(fwnode_of(hwdev));
//! drop(barrier); // unlocks: deferred endpoint probes proceed, now behind the IOMMU
//! ```

use super::device::as_raw;
use crate::sys::bindings as hb;
use kernel::{
    bindings,
    device::{
        Device,
        Normal, //
    },
    ffi,
    prelude::*,
    sync::aref::ARef, //
};

/// The locked PCI devices, unlocked in reverse order on drop.
///
/// # Invariants
///
/// Every device of `locked` is locked by this barrier (`device_lock`), once.
pub(crate) struct ProbeBarrier {
    locked: KVec<ARef<Device>>,
}

/// `bus_for_each_dev` callback: collects a reference to every device.
///
/// # Safety
///
/// `data` is the `KVec<ARef<Device>>` of [`ProbeBarrier::new`]; `dev` is a valid device.
unsafe extern "C" fn collect(dev: *mut bindings::device, data: *mut ffi::c_void) -> ffi::c_int {
    // SAFETY: per the function contract.
    let (devs, d) = unsafe {
        (
            &mut *data.cast::<KVec<ARef<Device>>>(),
            Device::<Normal>::from_raw(dev),
        )
    };
    match devs.push(ARef::from(d), GFP_KERNEL) {
        Ok(()) => 0,
        Err(_) => ENOMEM.to_errno(),
    }
}

/// Whether `dev` is `of` or one of its ancestors.
fn is_ancestor(dev: &Device, of: &Device) -> bool {
    let target = as_raw(dev);
    let mut p = as_raw(of);
    while !p.is_null() {
        if p == target {
            return true;
        }
        // SAFETY: `p` is a valid device; a device holds a reference on its parent.
        p = unsafe { (*p).parent };
    }
    false
}

impl ProbeBarrier {
    /// Locks every PCI device except `own` (the IOMMU's transport device, whose probe may be
    /// the caller's context when built in) and its ancestors, in bus order (parents first), after
    /// every probe in flight on them has finished.
    pub(crate) fn new(own: &Device) -> Result<Self> {
        let mut devs: KVec<ARef<Device>> = KVec::new();
        // SAFETY: `pci_bus_type` is the static PCI bus; `collect` matches its contract with
        // `devs`, which outlives the call.
        let r = unsafe {
            bindings::bus_for_each_dev(
                &raw const bindings::pci_bus_type,
                core::ptr::null_mut(),
                (&raw mut devs).cast(),
                Some(collect),
            )
        };
        kernel::error::to_result(r)?;
        let mut locked = KVec::with_capacity(devs.len(), GFP_KERNEL)?;
        for d in devs {
            if is_ancestor(&d, own) {
                continue;
            }
            // SAFETY: `d` is a valid device (referenced); unlocked once in `drop`.
            unsafe { hb::viommu_device_lock(as_raw(&d)) };
            // INVARIANT: locked just above; `locked` has the capacity, so this cannot fail.
            if let Err(e) = locked.push_within_capacity(d) {
                // SAFETY: locked just above and not recorded.
                unsafe { hb::viommu_device_unlock(as_raw(&e.0)) };
            }
        }
        Ok(Self { locked })
    }

    /// Logs every locked device whose firmware description names `fwnode` as its IOMMU but that
    /// has no IOMMU group (its DMA is not translated). Returns how many.
    pub(crate) fn report_missed(&self, fwnode: *const bindings::fwnode_handle) -> usize {
        let mut missed = 0;
        for d in self.locked.iter() {
            let raw = as_raw(d);
            // SAFETY: `raw` is valid and locked: its fwspec and group cannot change under us
            // except through the IOMMU core, which this thread is not running.
            let (ours, grouped) = unsafe {
                let fwspec = hb::viommu_iommu_fwspec_get(raw);
                (
                    !fwspec.is_null() && core::ptr::eq((*fwspec).iommu_fwnode, fwnode),
                    !(*raw).iommu_group.is_null(),
                )
            };
            if ours && !grouped {
                missed += 1;
                dev_err!(
                    d,
                    "behind this IOMMU but not probed by it: no IOMMU group, DMA untranslated\n"
                );
            }
        }
        missed
    }
}

impl Drop for ProbeBarrier {
    fn drop(&mut self) {
        for d in self.locked.iter().rev() {
            // SAFETY: locked by `new` (type invariant), unlocked once here.
            unsafe { hb::viommu_device_unlock(as_raw(d)) };
        }
    }
}
