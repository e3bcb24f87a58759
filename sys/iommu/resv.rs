// SPDX-License-Identifier: GPL-2.0

//! Reserved regions reported to the IOMMU core (`get_resv_regions`).
//!
//! C header: [`include/linux/iommu.h`](srctree/include/linux/iommu.h)

use crate::{
    sys::bindings as hb,
    uapi::resv::{
        Report,
        ReportType, //
    }, //
};
use kernel::{
    bindings,
    prelude::*, //
};

/// The core's type and protection for a region of type `ty`.
fn raw(ty: ReportType) -> (bindings::iommu_resv_type, u32) {
    let msi_prot = bindings::IOMMU_WRITE | bindings::IOMMU_NOEXEC | bindings::IOMMU_MMIO;
    match ty {
        ReportType::Reserved => (bindings::iommu_resv_type_IOMMU_RESV_RESERVED, 0),
        ReportType::Msi => (bindings::iommu_resv_type_IOMMU_RESV_MSI, msi_prot),
        ReportType::SwMsi => (bindings::iommu_resv_type_IOMMU_RESV_SW_MSI, msi_prot),
    }
}

/// The list a `get_resv_regions` callback fills.
///
/// # Invariants
///
/// `dev` is valid and `head` is the core's list head, both for the callback's duration.
pub(crate) struct ResvList<'a> {
    dev: *mut bindings::device,
    head: *mut bindings::list_head,
    _p: core::marker::PhantomData<&'a mut bindings::list_head>,
}

impl ResvList<'_> {
    /// # Safety
    ///
    /// `dev` and `head` must be valid for the lifetime of the result.
    pub(super) unsafe fn from_raw(
        dev: *mut bindings::device,
        head: *mut bindings::list_head,
    ) -> Self {
        Self {
            dev,
            head,
            _p: core::marker::PhantomData,
        }
    }

    /// Appends region `r`. The core frees it (`iommu_put_resv_regions`).
    pub(crate) fn add(&mut self, r: Report) -> Result {
        let (start, last) = (r.start, r.end);
        let len = last.checked_sub(start).and_then(|l| l.checked_add(1));
        let len = usize::try_from(len.ok_or(EINVAL)?).map_err(|_| EOVERFLOW)?;
        let (t, prot) = raw(r.ty);
        let prot = i32::try_from(prot).map_err(|_| EINVAL)?;
        // SAFETY: plain allocation.
        let r =
            unsafe { bindings::iommu_alloc_resv_region(start, len, prot, t, bindings::GFP_KERNEL) };
        if r.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `r` is a new, unlinked region; `head` is valid (type invariant).
        unsafe { hb::viommu_iommu_list_add_tail(&raw mut (*r).list, self.head) };
        Ok(())
    }

    /// Appends the regions of the DMA API layer (`iommu_dma_get_resv_regions`, e.g. PCI host
    /// bridge windows); a no-op without `CONFIG_IOMMU_DMA`.
    pub(crate) fn add_dma_regions(&mut self) {
        // SAFETY: `dev` and `head` are valid (type invariant).
        unsafe { hb::viommu_iommu_dma_get_resv_regions(self.dev, self.head) };
    }
}
