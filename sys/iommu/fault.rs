// SPDX-License-Identifier: GPL-2.0

//! Reporting translation faults to the IOMMU core (`report_iommu_fault`).
//!
//! C header: [`include/linux/iommu.h`](srctree/include/linux/iommu.h)

use super::{
    device,
    domain_ops::DomainOps,
    Domain, //
};
use crate::sys::bindings as hb;
use kernel::{
    bindings,
    device::Device,
    error::to_result,
    prelude::*, //
};

/// Direction of a faulting access.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum FaultAccess {
    /// A read (`IOMMU_FAULT_READ`).
    Read,
    /// A write (`IOMMU_FAULT_WRITE`).
    Write,
}

/// Reports a fault of `dev` at `iova` in `domain` to whoever installed a fault handler on it.
///
/// Callable from any context, including hard IRQ (as the core's own users do), on any domain,
/// including one the core has already freed (then nothing is reported). Returns the handler's
/// verdict: `Err(ENOSYS)` when there is no handler (the usual case for DMA domains).
pub(crate) fn report_fault<T: DomainOps>(
    domain: &Domain<T>,
    dev: &Device,
    iova: u64,
    access: FaultAccess,
) -> Result {
    let flags = match access {
        FaultAccess::Read => bindings::IOMMU_FAULT_READ,
        FaultAccess::Write => bindings::IOMMU_FAULT_WRITE,
    };
    let flags = i32::try_from(flags).map_err(|_| EINVAL)?;
    let iova = usize::try_from(iova).map_err(|_| EINVAL)?;
    let r = domain.with_held(|raw| {
        // SAFETY: `raw` is alive (borrowed `Arc`) and still held by the core, whose fault
        // handler and token stay valid while `with_held` runs (see `Domain::from_raw`); `dev` is
        // valid. `report_iommu_fault` only reads the handler and calls it.
        unsafe { bindings::report_iommu_fault(raw, device::as_raw(dev), iova, flags) }
    });
    // A domain the core has freed has no handler any more.
    to_result(r.unwrap_or(ENOSYS.to_errno()))
}

/// The module-wide rate limit of fault messages (`__ratelimit` with the default burst).
pub(crate) fn fault_ratelimit() -> bool {
    // SAFETY: the helper only touches its own static ratelimit state.
    unsafe { hb::viommu_iommu_fault_ratelimit() }
}
