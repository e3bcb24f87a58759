// SPDX-License-Identifier: GPL-2.0

//! Endpoints: the per-instance endpoint table ([`IommuState`], with the domain ID allocator), an
//! endpoint's reserved regions and attach/detach bookkeeping ([`Endpoint`]). The `iommu_ops`
//! callbacks that use them are in `ops.rs`.

use super::{
    domain::VDomain,
    requestq::Batch,
    Viommu, //
};
use crate::sys::iommu::{
    Domain,
    Ida, //
};
use crate::uapi::{
    config::DeviceConfig,
    probe::ResvRegion,
    request::Request,
    resv::{
        msi_policy,
        MsiPolicy,
        RegionList, //
    }, //
};
use kernel::{
    device::Device,
    new_spinlock_irq,
    prelude::*,
    rbtree::RBTree,
    sync::{
        aref::ARef,
        Arc,
        SpinLockIrq, //
    }, //
};

/// Per-instance IOMMU state, embedded (pinned) in [`Viommu`].
#[pin_data]
pub(crate) struct IommuState {
    /// Domain IDs of paging domains.
    #[pin]
    pub(crate) domain_ids: Ida,
    /// Endpoint ID -> endpoint, for fault reporting (hard IRQ).
    #[pin]
    pub(super) endpoints: SpinLockIrq<RBTree<u32, Arc<Endpoint>>>,
}

impl IommuState {
    /// Empty state.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            domain_ids <- Ida::new(),
            endpoints <- new_spinlock_irq!(RBTree::new()),
        })
    }

    /// The domain ID of the blocked domain: the last ID of the range, kept out of the paging
    /// range; `None` when the range is a single ID (blocking then falls back to DETACH).
    pub(crate) fn blocked_id(&self, cfg: &DeviceConfig) -> Option<u32> {
        (cfg.last_domain > cfg.first_domain).then_some(cfg.last_domain)
    }

    /// The paging domains endpoints are attached to, each once (for debugfs).
    pub(crate) fn paging_domains(&self) -> Result<KVec<Arc<Domain<VDomain>>>> {
        let table = self.endpoints.lock();
        let mut out: KVec<Arc<Domain<VDomain>>> = KVec::new();
        for ep in table.values() {
            if let Attached::Paging(d) = &*ep.attached.lock() {
                if !out.iter().any(|o| o.id() == d.id()) {
                    // Under a spinlock: atomic allocation.
                    out.push(d.clone(), GFP_ATOMIC)?;
                }
            }
        }
        Ok(out)
    }

    /// The endpoints attached to paging domain `id` (atomic-safe).
    pub(super) fn endpoints_in(&self, id: u32) -> Result<KVec<Arc<Endpoint>>> {
        let table = self.endpoints.lock();
        let mut out = KVec::new();
        for ep in table.values() {
            if matches!(&*ep.attached.lock(), Attached::Paging(d) if d.id() == id) {
                // Under a spinlock: atomic allocation.
                out.push(ep.clone(), GFP_ATOMIC)?;
            }
        }
        Ok(out)
    }

    /// The range of paging domain IDs, `[first, last]`.
    pub(crate) fn paging_ids(&self, cfg: &DeviceConfig) -> (u32, u32) {
        match self.blocked_id(cfg) {
            Some(b) => (cfg.first_domain, b.saturating_sub(1)),
            None => (cfg.first_domain, cfg.last_domain),
        }
    }
}

/// Reserved regions of an endpoint, sorted and merged (see [`resv`]).
pub(super) struct Regions(pub(super) KVec<ResvRegion>);

impl RegionList for Regions {
    type Error = Error;

    fn len(&self) -> usize {
        self.0.len()
    }

    fn get(&self, index: usize) -> Option<ResvRegion> {
        self.0.get(index).copied()
    }

    fn insert(&mut self, index: usize, region: ResvRegion) -> Result {
        self.0.reserve(1, GFP_KERNEL)?;
        self.0
            .insert_within_capacity(index, region)
            .map_err(|_| EINVAL)
    }

    fn remove(&mut self, index: usize) {
        let _ = self.0.remove(index);
    }
}

/// What an endpoint device is attached to.
pub(super) enum Attached {
    /// Nothing yet (or the device's boot state).
    None,
    /// The static identity domain (ATTACH with `ATTACH_F_BYPASS`).
    Identity,
    /// The blocked domain.
    Blocked,
    /// A paging domain (possibly an identity-mapped one).
    Paging(Arc<Domain<VDomain>>),
}

/// An endpoint device: the private data the core keeps for it (`dev_iommu_priv`).
#[pin_data]
pub(crate) struct Endpoint {
    pub(super) viommu: Arc<Viommu>,
    pub(super) dev: ARef<Device>,
    pub(super) ids: KVec<u32>,
    pub(super) regions: Regions,
    #[pin]
    pub(super) attached: SpinLockIrq<Attached>,
}

impl Endpoint {
    /// How the MSI doorbells of this endpoint are presented to the core (see [`MsiPolicy`]).
    pub(super) fn msi_policy(&self) -> MsiPolicy {
        let sw_msi = crate::module_parameters::sw_msi.value();
        msi_policy(&self.regions, sw_msi, cfg!(CONFIG_IRQ_MSI_IOMMU))
    }

    /// Sends `make(id)` for every endpoint ID. On failure, puts the IDs already moved back with
    /// `undo(id)` (best effort), so that the device stays where it was.
    pub(super) fn for_each_id(
        &self,
        make: impl Fn(u32) -> Request,
        undo: impl Fn(u32) -> Option<Request>,
    ) -> Result {
        for (i, &id) in self.ids.iter().enumerate() {
            if let Err(e) = self.viommu.send(&make(id)).map(drop) {
                dev_err!(self.dev, "request for endpoint {} failed: {:?}\n", id, e);
                for &done in self.ids.iter().take(i) {
                    if let Some(req) = undo(done) {
                        let _ = self.viommu.send(&req);
                    }
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// The request that puts endpoint `id` back into the current attachment.
    pub(super) fn current_request(&self, id: u32) -> Option<Request> {
        let cfg = &self.viommu.config;
        match &*self.attached.lock() {
            Attached::None => None,
            Attached::Identity => cfg.identity_domain.map(|d| Request::Attach {
                domain: d,
                endpoint: id,
                bypass: true,
            }),
            Attached::Blocked => self.viommu.iommu.blocked_id(cfg).map(|d| Request::Attach {
                domain: d,
                endpoint: id,
                bypass: false,
            }),
            Attached::Paging(d) => Some(Request::Attach {
                domain: d.id(),
                endpoint: id,
                bypass: false,
            }),
        }
    }

    /// Records the new attachment and releases the old one. Called only once the device accepted
    /// the change: the old domain's endpoint count never drops before (C weakness 3).
    pub(super) fn set_attached(&self, new: Attached) {
        let old = core::mem::replace(&mut *self.attached.lock(), new);
        if let Attached::Paging(d) = old {
            d.endpoint_detached();
        }
    }

    /// Attaches to paging domain `domain` (ATTACH for every ID, then replay if it is new).
    pub(crate) fn attach_paging(&self, domain: Arc<Domain<VDomain>>, dev: &Device) -> Result {
        if !Arc::ptr_eq(domain.viommu(), &self.viommu) {
            return Err(EINVAL);
        }
        let id = domain.id();
        self.for_each_id(
            |ep| Request::Attach {
                domain: id,
                endpoint: ep,
                bypass: false,
            },
            |ep| self.current_request(ep),
        )?;
        if let Err(e) = domain.endpoint_attached() {
            // The attach contract: a failed attach leaves the device where it was. The device
            // has moved the IDs; put them back on the recorded attachment (the new domain,
            // left without endpoints, is dropped by the device with its partial replay).
            dev_err!(
                dev,
                "attach to domain {} failed in replay, moving back: {:?}\n",
                id,
                e
            );
            for &ep in self.ids.iter() {
                let back = match self.current_request(ep) {
                    Some(req) => self.viommu.send(&req).map(drop),
                    None => self
                        .viommu
                        .send(&Request::Detach {
                            domain: id,
                            endpoint: ep,
                        })
                        .map(drop),
                };
                if let Err(e) = back {
                    dev_err!(dev, "endpoint {} not moved back: {:?}\n", ep, e);
                }
            }
            return Err(e);
        }
        self.set_attached(Attached::Paging(domain));
        Ok(())
    }

    /// Moves every ID from paging domain `from` to the blocked domain (DETACH when there is
    /// none) with batched requests of `batch`, and records it. Atomic-safe.
    pub(super) fn block(&self, from: u32, batch: &Arc<Batch>) -> Result {
        let blocked = self.viommu.iommu.blocked_id(&self.viommu.config);
        for &ep in self.ids.iter() {
            let req = match blocked {
                Some(domain) => Request::Attach {
                    domain,
                    endpoint: ep,
                    bypass: false,
                },
                None => Request::Detach {
                    domain: from,
                    endpoint: ep,
                },
            };
            self.viommu.queue(&req, batch)?;
        }
        self.viommu.sync(batch)?;
        self.set_attached(match blocked {
            Some(_) => Attached::Blocked,
            None => Attached::None,
        });
        Ok(())
    }

    /// Sends a DETACH for every ID from the current paging domain, if any.
    pub(super) fn detach(&self) -> Result {
        let id = match &*self.attached.lock() {
            Attached::Paging(d) => d.id(),
            _ => return Ok(()),
        };
        self.for_each_id(
            |ep| Request::Detach {
                domain: id,
                endpoint: ep,
            },
            |ep| self.current_request(ep),
        )?;
        self.set_attached(Attached::None);
        Ok(())
    }
}
