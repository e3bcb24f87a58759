// SPDX-License-Identifier: GPL-2.0

//! Endpoints (stub until the IOMMU-core side lands).

use super::Viommu;
use crate::uapi::fault::Fault;

/// Reports `fault` to the domain of its endpoint (`report_iommu_fault`). Stub: the fault is
/// only logged by the caller.
pub(crate) fn report_fault(viommu: &Viommu, fault: &Fault) {
    let _ = (viommu, fault);
}
