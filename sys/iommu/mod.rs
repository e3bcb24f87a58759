// SPDX-License-Identifier: GPL-2.0

//! IOMMU driver abstractions: `iommu_ops`, `iommu_domain_ops`, registration.
