// SPDX-License-Identifier: GPL-2.0

//! IOMMU driver abstractions: `iommu_ops`, `iommu_domain_ops`, domains, endpoints, reserved
//! regions, fault reporting and registration with the IOMMU core.
//!
//! C header: [`include/linux/iommu.h`](srctree/include/linux/iommu.h)
//!
//! The pattern is the one of `rust/kernel/net/phy.rs`: a driver implements the `#[vtable]` traits
//! [`IommuOps`] and [`DomainOps`]; [`declare_iommu_ops!`](crate::declare_iommu_ops) builds the C
//! tables (`iommu_ops`, the paging `iommu_domain_ops`, the static identity and blocked domains)
//! from them, with `owner = THIS_MODULE`. [`Registration`] registers one IOMMU instance.
//!
//! Lifetimes, as guaranteed by the IOMMU core:
//! - endpoint private data ([`IommuOps::Endpoint`]) lives from a successful `probe_device` to
//!   `release_device`; every other callback taking a device runs in between;
//! - a paging domain ([`Domain`]) is an `Arc` whose C reference is dropped by `free`; the driver
//!   may keep clones (for fault reporting), so the memory stays valid after `free`;
//! - `map_pages`, `unmap_pages`, `iotlb_sync*` and `flush_iotlb_all` may run in atomic context:
//!   they get a [`Gfp`] instead of allocation flags.

mod barrier;
mod device;
mod domain;
mod domain_ops;
mod fault;
mod ida;
mod ops;
mod registration;
mod registry;
mod resv;

pub(crate) use device::{
    add_fwspec_ids,
    is_bound,
    link_consumer,
    parent, //
};
pub(crate) use domain::{
    Domain,
    Geometry, //
};
pub(crate) use domain_ops::{
    DomainOps,
    DomainOpsTable,
    Gfp,
    Prot, //
};
pub(crate) use fault::{
    fault_ratelimit,
    report_fault,
    FaultAccess, //
};
pub(crate) use ida::Ida;
pub(crate) use ops::{
    Cap,
    Identity,
    IommuOps,
    OpsTable,
    StaticDomain, //
};
pub(crate) use registration::Registration;
pub(crate) use registry::init as init_registry;
pub(crate) use resv::ResvList;

/// Re-exports for [`declare_iommu_ops!`](crate::declare_iommu_ops); not for direct use.
#[doc(hidden)]
pub(crate) mod macro_support {
    pub(crate) use super::domain_ops::paging_domain_ops;
    pub(crate) use super::ops::{
        blocked_domain_ops,
        create_iommu_ops,
        identity_domain_ops,
        StaticDomains,
        DOMAIN_BLOCKED,
        DOMAIN_IDENTITY, //
    };
}
