// SPDX-License-Identifier: GPL-2.0

//! Paging domains: the `#[vtable]` trait [`DomainOps`] and the C `iommu_domain_ops` table
//! built from it.
//!
//! C header: [`include/linux/iommu.h`](srctree/include/linux/iommu.h)

use super::{
    domain::Domain,
    ops::IommuOps, //
};
use crate::sys::bindings as hb;
use kernel::{
    bindings,
    device::Device,
    error::from_result,
    ffi,
    prelude::*,
    sync::ArcBorrow,
    types::Opaque, //
};

/// Allocation context of a callback that may run in atomic context (`map_pages`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Gfp {
    /// The caller may sleep (`GFP_KERNEL`).
    Kernel,
    /// The caller may not sleep (`GFP_ATOMIC`).
    Atomic,
}

impl Gfp {
    fn from_raw(gfp: bindings::gfp_t) -> Self {
        // SAFETY: `viommu_iommu_gfp_blocking` only inspects its argument.
        if unsafe { hb::viommu_iommu_gfp_blocking(gfp) } {
            Self::Kernel
        } else {
            Self::Atomic
        }
    }

    /// Allocation flags for this context.
    pub(crate) fn flags(self) -> kernel::alloc::Flags {
        match self {
            Self::Kernel => GFP_KERNEL,
            Self::Atomic => GFP_ATOMIC,
        }
    }
}

/// Access permissions of a mapping (`IOMMU_READ`, `IOMMU_WRITE`, `IOMMU_MMIO`, ...).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Prot(u32);

impl Prot {
    /// Reads are allowed.
    pub(crate) fn read(self) -> bool {
        self.0 & bindings::IOMMU_READ != 0
    }
    /// Writes are allowed.
    pub(crate) fn write(self) -> bool {
        self.0 & bindings::IOMMU_WRITE != 0
    }
    /// The target is MMIO (device memory).
    pub(crate) fn mmio(self) -> bool {
        self.0 & bindings::IOMMU_MMIO != 0
    }
}

/// Operations of a paging domain (`struct iommu_domain_ops`); `free` is `Drop`.
#[vtable]
pub(crate) trait DomainOps: Send + Sync + Sized + 'static {
    /// Endpoint private data (the same as [`IommuOps::Endpoint`]).
    type Endpoint: Send + Sync;

    /// Attaches `dev` to `domain`. On error `dev` must still be attached where it was.
    fn attach_dev(domain: ArcBorrow<'_, Domain<Self>>, dev: &Device, ep: &Self::Endpoint)
        -> Result;

    /// Maps `pgcount` pages of `pgsize` bytes at `iova` to `paddr`; returns the bytes mapped.
    fn map_pages(
        domain: &Domain<Self>,
        iova: u64,
        paddr: u64,
        pgsize: usize,
        pgcount: usize,
        prot: Prot,
        gfp: Gfp,
    ) -> Result<usize>;

    /// Unmaps `pgcount` pages of `pgsize` bytes at `iova`; returns the bytes unmapped.
    fn unmap_pages(domain: &Domain<Self>, iova: u64, pgsize: usize, pgcount: usize) -> usize;

    /// Makes every earlier map/unmap visible to the device (may be atomic).
    fn flush_iotlb_all(_domain: &Domain<Self>) {}

    /// Makes the mappings just created visible (may be atomic).
    fn iotlb_sync_map(_domain: &Domain<Self>, _iova: u64, _size: usize) -> Result {
        Ok(())
    }

    /// Completes the unmaps gathered so far (may be atomic).
    fn iotlb_sync(_domain: &Domain<Self>) {}

    /// Translates `iova`; 0 when unmapped.
    fn iova_to_phys(_domain: &Domain<Self>, _iova: u64) -> u64 {
        0
    }
}

/// A C `iommu_domain_ops` table.
#[repr(transparent)]
pub(crate) struct DomainOpsTable(Opaque<bindings::iommu_domain_ops>);

// SAFETY: the table is written only by its const initializer; the core reads it.
unsafe impl Sync for DomainOpsTable {}

impl DomainOpsTable {
    /// Wraps a table.
    pub(super) const fn new(ops: bindings::iommu_domain_ops) -> Self {
        Self(Opaque::new(ops))
    }

    /// The C table.
    pub(super) const fn as_raw(&self) -> *const bindings::iommu_domain_ops {
        self.0.get().cast_const()
    }
}

/// Creates the C callbacks of paging domains of type `D`.
struct DomainAdapter<D: DomainOps>(core::marker::PhantomData<D>);

impl<D: DomainOps> DomainAdapter<D> {
    /// # Safety
    ///
    /// Only called by the IOMMU core, as the C callback of the same name.
    unsafe extern "C" fn attach_dev(
        domain: *mut bindings::iommu_domain,
        dev: *mut bindings::device,
        _old: *mut bindings::iommu_domain,
    ) -> ffi::c_int {
        // SAFETY: `domain` comes from `Domain::<D>::into_raw` and is alive until `free`; attach
        // runs between `probe_device` and `release_device`, and the endpoint type of `D` is the
        // one `probe_device` stored (`IommuOps::Domain: DomainOps<Endpoint = Endpoint>`).
        let (dom, d, ep) = unsafe {
            (
                Domain::<D>::borrow_raw(domain),
                Device::from_raw(dev),
                ArcBorrow::<D::Endpoint>::from_raw(hb::viommu_iommu_priv_get(dev).cast()),
            )
        };
        from_result(|| D::attach_dev(dom, d, &ep).map(|()| 0))
    }

    /// # Safety
    ///
    /// Only called by the IOMMU core, as the C callback of the same name.
    #[allow(clippy::too_many_arguments)]
    unsafe extern "C" fn map_pages(
        domain: *mut bindings::iommu_domain,
        iova: ffi::c_ulong,
        paddr: bindings::phys_addr_t,
        pgsize: usize,
        pgcount: usize,
        prot: ffi::c_int,
        gfp: bindings::gfp_t,
        mapped: *mut usize,
    ) -> ffi::c_int {
        // SAFETY: `domain` is a live domain of `D`.
        let dom = unsafe { Domain::<D>::borrow_raw(domain) };
        let prot = Prot(u32::try_from(prot).unwrap_or(0));
        let gfp = Gfp::from_raw(gfp);
        match D::map_pages(&dom, iova as u64, paddr, pgsize, pgcount, prot, gfp) {
            Ok(n) => {
                if !mapped.is_null() {
                    // SAFETY: the core passes a valid pointer or null.
                    unsafe { *mapped = n };
                }
                0
            }
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Only called by the IOMMU core, as the C callback of the same name.
    unsafe extern "C" fn unmap_pages(
        domain: *mut bindings::iommu_domain,
        iova: ffi::c_ulong,
        pgsize: usize,
        pgcount: usize,
        _gather: *mut bindings::iommu_iotlb_gather,
    ) -> usize {
        // SAFETY: `domain` is a live domain of `D`.
        let dom = unsafe { Domain::<D>::borrow_raw(domain) };
        D::unmap_pages(&dom, iova as u64, pgsize, pgcount)
    }

    /// # Safety
    ///
    /// Only called by the IOMMU core, as the C callback of the same name.
    unsafe extern "C" fn flush_iotlb_all(domain: *mut bindings::iommu_domain) {
        // SAFETY: `domain` is a live domain of `D`.
        let dom = unsafe { Domain::<D>::borrow_raw(domain) };
        D::flush_iotlb_all(&dom);
    }

    /// # Safety
    ///
    /// Only called by the IOMMU core, as the C callback of the same name.
    unsafe extern "C" fn iotlb_sync_map(
        domain: *mut bindings::iommu_domain,
        iova: ffi::c_ulong,
        size: usize,
    ) -> ffi::c_int {
        // SAFETY: `domain` is a live domain of `D`.
        let dom = unsafe { Domain::<D>::borrow_raw(domain) };
        from_result(|| D::iotlb_sync_map(&dom, iova as u64, size).map(|()| 0))
    }

    /// # Safety
    ///
    /// Only called by the IOMMU core, as the C callback of the same name.
    unsafe extern "C" fn iotlb_sync(
        domain: *mut bindings::iommu_domain,
        _gather: *mut bindings::iommu_iotlb_gather,
    ) {
        // SAFETY: `domain` is a live domain of `D`.
        let dom = unsafe { Domain::<D>::borrow_raw(domain) };
        D::iotlb_sync(&dom);
    }

    /// # Safety
    ///
    /// Only called by the IOMMU core, as the C callback of the same name.
    unsafe extern "C" fn iova_to_phys(
        domain: *mut bindings::iommu_domain,
        iova: bindings::dma_addr_t,
    ) -> bindings::phys_addr_t {
        // SAFETY: `domain` is a live domain of `D`.
        let dom = unsafe { Domain::<D>::borrow_raw(domain) };
        D::iova_to_phys(&dom, iova)
    }

    /// # Safety
    ///
    /// Only called by the IOMMU core, as the C callback of the same name.
    unsafe extern "C" fn free(domain: *mut bindings::iommu_domain) {
        // SAFETY: `free` is the last callback for a domain from `Domain::<D>::into_raw`.
        drop(unsafe { Domain::<D>::from_raw(domain) });
    }
}

/// The `iommu_domain_ops` of the paging domains of `T`.
pub(crate) const fn paging_domain_ops<T: IommuOps>() -> DomainOpsTable {
    type A<T> = DomainAdapter<<T as IommuOps>::Domain>;
    let mut o: bindings::iommu_domain_ops = pin_init::zeroed();
    o.attach_dev = Some(A::<T>::attach_dev);
    o.map_pages = Some(A::<T>::map_pages);
    o.unmap_pages = Some(A::<T>::unmap_pages);
    o.iova_to_phys = Some(A::<T>::iova_to_phys);
    o.free = Some(A::<T>::free);
    if <T::Domain as DomainOps>::HAS_FLUSH_IOTLB_ALL {
        o.flush_iotlb_all = Some(A::<T>::flush_iotlb_all);
    }
    if <T::Domain as DomainOps>::HAS_IOTLB_SYNC_MAP {
        o.iotlb_sync_map = Some(A::<T>::iotlb_sync_map);
    }
    if <T::Domain as DomainOps>::HAS_IOTLB_SYNC {
        o.iotlb_sync = Some(A::<T>::iotlb_sync);
    }
    DomainOpsTable::new(o)
}
